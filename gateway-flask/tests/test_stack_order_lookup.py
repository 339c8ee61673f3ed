"""Finding an order again ("Cek pesanan") through the gateway, against the real services.

POST /api/v1/orders:lookup comes from the contract's http annotation (no gateway code names
it): the order number and a contact in the body, answered with the order and its access
token. Two limits stand in front of guessing: svc-order's, on failed look-ups of one number
(PASAR_ORDER_LOOKUP_MAX_FAILURES), and the gateway's, per client address
(PASAR_ORDER_LOOKUP_RATE_LIMIT); both refuse with RATE_LIMITED and a Retry-After.
One gateway worker here, so that its count is the whole count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from stack_support import CATEGORIES, PRODUCTS, Shop

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar_testkit.catalog import seed_over_gateway
from pasar_testkit.stack import STACK_COMPONENTS, Stack, sqlite_database_urls

RATE_LIMITED = CommonErrorReason.Name(CommonErrorReason.RATE_LIMITED)
ORDER_NOT_FOUND = OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)
MAX_FAILURES = 3
GATEWAY_LIMIT = 8
EMAIL = "budi@example.com"
PHONE = "081234567890"  # the destination of stack_support's phone credit line


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    base = Path(tmp_path_factory.mktemp("stack"))
    env = {
        "gateway": {
            "PASAR_GATEWAY_WORKERS": "1",
            "PASAR_ORDER_LOOKUP_RATE_LIMIT": f"{GATEWAY_LIMIT}/minute",
        },
        "order": {"PASAR_ORDER_LOOKUP_MAX_FAILURES": str(MAX_FAILURES)},
    }
    with Stack(base, sqlite_database_urls(base), component_env=env) as stack:
        stack.start(*STACK_COMPONENTS)
        seed_over_gateway(stack.gateway_url, CATEGORIES, PRODUCTS)
        yield Shop(stack, stack.gateway_url)


def error_info(response: requests.Response) -> dict[str, Any]:
    details: list[dict[str, Any]] = response.json()["error"]["details"]
    return next(detail for detail in details if detail["@type"].endswith("google.rpc.ErrorInfo"))


def test_an_order_is_found_by_its_number_and_a_contact_behind_two_limits(shop: Shop) -> None:
    placed = shop.place_order()
    number = placed["order"]["orderNumber"]

    def lookup(contact: str, order_number: str = number) -> requests.Response:
        return shop.post("/api/v1/orders:lookup", json={"orderNumber": order_number, "contact": contact})

    by_email = lookup(f"  {EMAIL.upper()} ")
    assert by_email.status_code == 200, by_email.text
    assert by_email.json()["order"]["id"] == placed["order"]["id"]
    token = by_email.json()["accessToken"]
    assert shop.get(f"/api/v1/orders/{placed['order']['id']}", params={"token": token}).status_code == 200
    by_phone = lookup("+62 812-3456-7890")
    assert by_phone.status_code == 200, by_phone.text

    wrong_pair = lookup("someone@example.com")
    unknown_number = lookup(EMAIL, "PSR-ZZZZZZ")
    assert wrong_pair.status_code == unknown_number.status_code == 404
    assert error_info(wrong_pair)["reason"] == ORDER_NOT_FOUND
    assert wrong_pair.json() == unknown_number.json()  # a wrong pair tells nothing more

    # svc-order's limit: after MAX_FAILURES failed look-ups of one number, it is refused.
    for _ in range(MAX_FAILURES - 1):
        assert lookup("someone@example.com").status_code == 404
    refused_by_service = lookup(EMAIL)
    assert refused_by_service.status_code == 429, refused_by_service.text
    info = error_info(refused_by_service)
    assert info["reason"] == RATE_LIMITED
    assert refused_by_service.headers["Retry-After"] == info["metadata"]["retry_after_seconds"]

    # The gateway's limit: this address's GATEWAY_LIMIT look-ups a minute are used up.
    calls = 2 + 2 + (MAX_FAILURES - 1) + 1
    for index in range(GATEWAY_LIMIT - calls):
        assert lookup(EMAIL, f"PSR-ZZZZZ{'23456789'[index]}").status_code == 404
    refused_by_gateway = lookup(EMAIL)
    assert refused_by_gateway.status_code == 429
    assert error_info(refused_by_gateway)["reason"] == RATE_LIMITED
    # The gateway's window is a minute; svc-order's (PASAR_ORDER_LOOKUP_WINDOW_SECONDS) 15.
    assert 1 <= int(refused_by_gateway.headers["Retry-After"]) <= 60

    logs = shop.stack["gateway"].log_path.read_text()
    assert "/api/v1/orders:lookup" in logs
    for personal in (EMAIL, EMAIL.upper(), "812-3456-7890", "someone@example.com"):
        assert personal not in logs
