"""Destinations (phone and meter numbers) are personal data: the gateway's logs never carry them.

The gateway logs one line per request (method, path, route, status: never the body or the
query) and, for a service's opaque failure (INTERNAL, UNKNOWN, DATA_LOSS), the service's
message, which may quote what it was given (a database's "Duplicate entry '…'"): that one is
logged with the request's destination values masked as pasar_kit.destinations masks them.
"""

from __future__ import annotations

import logging

import grpc
import pytest
from fakes import METER_PRODUCT_ID, UNKNOWN_METER, FakeShop
from flask.testing import FlaskClient

from pasar_kit import errors
from pasar_kit.logs import JsonFormatter

METER = "12345678901"
PHONE = "081234567890"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """The captured records as the gateway writes them (JSON lines with every extra field)."""
    formatter = JsonFormatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


def lookup(client: FlaskClient, meter: str) -> int:
    body = {"productId": METER_PRODUCT_ID, "destination": {"meter_number": meter}}
    return client.post("/api/v1/destinations:lookup", json=body).status_code


def test_lookups_leave_no_destination_in_the_logs(
    client: FlaskClient, shop: FakeShop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert lookup(client, METER) == 200
    assert lookup(client, UNKNOWN_METER) == 404
    assert lookup(client, "1234") == 400
    shop.servers["fulfillment"].stop()
    assert lookup(client, METER) == 503
    assert "/api/v1/destinations:lookup" in logged(caplog)  # the requests were logged
    for value in (METER, UNKNOWN_METER, "1234"):
        assert value not in logged(caplog)


def test_a_service_failure_quoting_the_destination_is_logged_masked(
    client: FlaskClient, shop: FakeShop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop.fulfillment.fail_status = errors.ServiceError(f"Duplicate entry '{METER}' for key").to_status()
    assert lookup(client, METER) == 500
    assert METER not in logged(caplog)
    assert "********901" in logged(caplog)  # what the service said stays readable


def test_an_order_s_destinations_are_masked_in_a_logged_failure(
    client: FlaskClient, shop: FakeShop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop.order.fail_status = errors.ServiceError(f"cannot store {PHONE} nor {METER}").to_status()
    body = {
        "customerEmail": "budi@example.com",
        "paymentChannelCode": "bca_va",
        "lines": [
            {"packageId": "pulsa-nusantara-10k", "quantity": 1, "destination": {"phone_number": PHONE}},
            {"packageId": "token-pln-20k", "quantity": 1, "destination": {"meter_number": METER}},
        ],
    }
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == grpc.StatusCode.INTERNAL.name
    assert PHONE not in logged(caplog)
    assert METER not in logged(caplog)
    assert "cannot store *********890 nor ********901" in logged(caplog)


def test_an_order_s_e_mail_and_payer_phone_are_masked_in_a_logged_failure(
    client: FlaskClient, shop: FakeShop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email, payer_phone = "siti.rahayu@example.com", "081398765432"
    shop.order.fail_status = errors.ServiceError(f"cannot store {email} paying by {payer_phone}").to_status()
    body = {
        "customerEmail": email,
        "paymentChannelCode": "ovo",
        "payerPhoneNumber": payer_phone,
        "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    }
    assert client.post("/api/v1/orders", json=body).status_code == 500
    assert "cannot store" in logged(caplog)  # the failure was logged
    assert email not in logged(caplog)
    assert payer_phone not in logged(caplog)
