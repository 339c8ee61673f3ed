"""The sandbox through the gateway: a simulation the payment service refuses (no enabled
sandbox, as in production) is a 409 carrying SANDBOX_DISABLED, for the storefront to say so."""

from __future__ import annotations

from fakes import PAYMENT_ID, FakeShop
from flask.testing import FlaskClient

from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar_kit import errors


def test_a_simulation_without_an_enabled_sandbox_is_a_409_with_its_reason(
    client: FlaskClient, shop: FakeShop
) -> None:
    refusal = errors.FailedPrecondition(
        "not settled by the sandbox", reason=PaymentErrorReason.Name(PaymentErrorReason.SANDBOX_DISABLED)
    )
    shop.payment.fail_status = refusal.to_status()
    response = client.post(f"/api/v1/payments/{PAYMENT_ID}:simulate")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "FAILED_PRECONDITION"
    assert [detail.get("reason") for detail in error["details"]] == [
        PaymentErrorReason.Name(PaymentErrorReason.SANDBOX_DISABLED)
    ]
