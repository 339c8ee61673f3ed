"""Rate limits come from the contracts: each method's (pasar.common.v1.rate_limit_bucket),
one count per bucket and client address, the bucket's rate from its setting, and a refusal
answered as the services answer one (RESOURCE_EXHAUSTED, RATE_LIMITED, retry_after_seconds)
with the same number in Retry-After."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import AppFactory
from fakes import ERROR_INFO_TYPE, FakeShop, error_info, running_shop
from flask.testing import FlaskClient
from test_main import gateway_process

from pasar.common.v1 import options_pb2
from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.order.v1 import order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar_gateway import rate_limits
from pasar_gateway.bindings import ContractError, contract_bindings
from pasar_gateway.rate_limits import UNLIMITED, bucket_of
from pasar_gateway.settings import RATE_LIMIT_SETTINGS
from pasar_kit import errors
from pasar_kit.errors import ERROR_DOMAIN
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess

RATE_LIMITED = CommonErrorReason.Name(CommonErrorReason.RATE_LIMITED)
ORDER_SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]
CONTACT = "siti.lookup@example.com"
ORDER = {
    "customerEmail": CONTACT,
    "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    "paymentChannelCode": "bca_va",
}
LOOKUP = {"orderNumber": "PSR-7K3M9Q", "contact": CONTACT}


def call(base: str, path: str, body: dict[str, Any], **headers: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.load(refused)


def assert_rate_limited(status: int, headers: dict[str, str], body: Any) -> None:
    assert status == 429
    assert headers["Content-Type"] == "application/json"
    error = body["error"]
    assert error["code"] == "RESOURCE_EXHAUSTED"
    info = error_info(body)
    assert (info["@type"], info["reason"], info["domain"]) == (ERROR_INFO_TYPE, RATE_LIMITED, ERROR_DOMAIN)
    assert info["metadata"]["retry_after_seconds"] == headers["Retry-After"]
    assert 1 <= int(headers["Retry-After"]) <= 60


def test_every_bucket_of_the_contracts_has_a_setting() -> None:
    buckets = set(options_pb2.RateLimitBucket.values()) - {UNLIMITED}
    assert buckets == set(RATE_LIMIT_SETTINGS)
    variables = [setting.variable for setting in RATE_LIMIT_SETTINGS.values()]
    assert len(set(variables)) == len(variables)


def test_the_limited_methods_are_the_ones_the_contracts_put_in_a_bucket() -> None:
    limited = {b.method.full_name: bucket_of(b.method) for b in contract_bindings() if bucket_of(b.method)}
    assert limited == {
        ORDER_SERVICE.methods_by_name["CreateOrder"].full_name: options_pb2.RATE_LIMIT_BUCKET_ORDER_CREATION,
        ORDER_SERVICE.methods_by_name["LookupOrder"].full_name: options_pb2.RATE_LIMIT_BUCKET_ORDER_LOOKUP,
    }


@pytest.mark.parametrize("order_rate_limit", ["5/minute", "off"])  # "off": every bucket is off
def test_a_bucket_without_a_setting_stops_the_gateway(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, order_rate_limit: str
) -> None:
    creation_only = {
        bucket: setting
        for bucket, setting in RATE_LIMIT_SETTINGS.items()
        if bucket == options_pb2.RATE_LIMIT_BUCKET_ORDER_CREATION
    }
    monkeypatch.setattr(rate_limits, "RATE_LIMIT_SETTINGS", creation_only)
    with pytest.raises(
        ContractError, match="LookupOrder is in the rate-limit bucket RATE_LIMIT_BUCKET_ORDER_LOOKUP"
    ):
        make_app(ORDER_RATE_LIMIT=order_rate_limit)


def test_a_bucket_turned_off_is_not_limited(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(ORDER_RATE_LIMIT="1/minute", ORDER_LOOKUP_RATE_LIMIT="off").test_client()
    statuses = {client.post("/api/v1/orders:lookup", json=LOOKUP).status_code for _ in range(15)}
    assert statuses == {404}
    assert len(shop.order.metadata("LookupOrder")) == 15


def test_a_call_after_waiting_retry_after_seconds_is_served(make_app: AppFactory, shop: FakeShop) -> None:
    """Retry-After counts from the oldest call in the moving window: waiting that long is enough."""
    client = make_app(ORDER_LOOKUP_RATE_LIMIT="2 per 2 seconds").test_client()
    assert [client.post("/api/v1/orders:lookup", json=LOOKUP).status_code for _ in range(2)] == [404, 404]
    refused = client.post("/api/v1/orders:lookup", json=LOOKUP)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2
    assert error_info(refused.get_json())["metadata"]["retry_after_seconds"] == str(wait)
    time.sleep(wait)
    assert client.post("/api/v1/orders:lookup", json=LOOKUP).status_code == 404
    assert len(shop.order.metadata("LookupOrder")) == 3


def test_a_service_s_rate_limited_refusal_carries_retry_after(client: FlaskClient, shop: FakeShop) -> None:
    """svc-order's own limit (failed look-ups of one number) reaches the client like the gateway's."""
    shop.order.fail_status = errors.ResourceExhausted(
        "too many failed look-ups of this order number",
        reason=RATE_LIMITED,
        metadata={"retry_after_seconds": "840"},
    ).to_status()
    response = client.post("/api/v1/orders:lookup", json=LOOKUP)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "840"
    assert error_info(response.get_json())["reason"] == RATE_LIMITED


@pytest.fixture(scope="module")
def limited_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeShop, ComponentProcess, str]]:
    """A real pasar-gateway (one worker, so that its counts are the whole count) on the fakes."""
    for shop in running_shop():
        metrics_address = f"127.0.0.1:{free_port()}"
        gateway = gateway_process(
            shop,
            Path(tmp_path_factory.mktemp("gateway")),
            PASAR_GATEWAY_WORKERS="1",
            PASAR_ORDER_RATE_LIMIT="2/minute",
            PASAR_ORDER_LOOKUP_RATE_LIMIT="3/minute",
            PASAR_PROXY_COUNT="1",
            PASAR_LOG_LEVEL="debug",
            PASAR_METRICS_ADDRESS=metrics_address,
        )
        gateway.start()
        try:
            yield shop, gateway, metrics_address
        finally:
            gateway.stop()


def test_each_bucket_is_limited_per_client_address_by_a_real_gateway(
    limited_gateway: tuple[FakeShop, ComponentProcess, str],
) -> None:
    shop, gateway, _ = limited_gateway
    base = f"http://{gateway.address}"
    lookups = [call(base, "/api/v1/orders:lookup", LOOKUP) for _ in range(4)]
    assert [status for status, _, _ in lookups[:3]] == [404, 404, 404]
    assert error_info(lookups[0][2])["reason"] == OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)
    assert_rate_limited(*lookups[3])
    assert len(shop.order.metadata("LookupOrder")) == 3  # the refused call never reached the service

    # Order creation is a bucket of its own: the look-ups took nothing from it.
    orders = [call(base, "/api/v1/orders", ORDER) for _ in range(3)]
    assert [status for status, _, _ in orders[:2]] == [200, 200]
    assert_rate_limited(*orders[2])
    assert len(shop.order.metadata("CreateOrder")) == 2

    # The count is per client address (here the one PASAR_PROXY_COUNT trusts in X-Forwarded-For).
    number = orders[0][2]["order"]["orderNumber"]
    status, _, found = call(
        base,
        "/api/v1/orders:lookup",
        {"orderNumber": number, "contact": CONTACT},
        **{"X-Forwarded-For": "10.0.0.9"},
    )
    assert status == 200
    assert found["order"]["orderNumber"] == number
    assert found["accessToken"]


def test_a_looked_up_contact_is_in_no_log_line_nor_metric(
    limited_gateway: tuple[FakeShop, ComponentProcess, str],
) -> None:
    shop, gateway, metrics_address = limited_gateway
    base = f"http://{gateway.address}"
    phone = "081298761234"
    for contact in (CONTACT, phone):
        call(
            base,
            "/api/v1/orders:lookup",
            {"orderNumber": "PSR-ZZZZZZ", "contact": contact},
            **{"X-Forwarded-For": "10.0.0.10"},
        )
    shop.order.fail_status = errors.ServiceError(f"cannot read the orders of {CONTACT}").to_status()
    try:
        status, _, _ = call(base, "/api/v1/orders:lookup", LOOKUP, **{"X-Forwarded-For": "10.0.0.11"})
    finally:
        shop.order.fail_status = None
    assert status == 500
    with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    logs = gateway.log_path.read_text()
    assert "/api/v1/orders:lookup" in logs  # the calls were logged and counted
    assert "/api/v1/orders:lookup" in metrics
    assert "cannot read the orders of" in logs  # the service's message, masked
    for text in (logs, metrics):
        assert CONTACT not in text
        assert phone not in text
        assert "PSR-ZZZZZZ" not in text  # nor anything else of the body
