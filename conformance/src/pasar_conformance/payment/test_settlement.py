"""Settling payments: SimulatePayment (the sandbox) and NotifyPayment (a provider's signed notification).

NotifyPayment's payload is the provider's own format: the suite writes the sandbox's (a
JSON object, svc-payment/README.md "Providers"), signed with ``--webhook-secret``, and
skips the cases that need it when the target's payments go through another provider.
"""

from __future__ import annotations

from functools import partial

import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import expect_reason, refused, violated_fields
from pasar_conformance.payment.shop import SANDBOX, PaymentDesk, rpc, sandbox_notification, sign
from pasar_conformance.payment.suite import PACKAGE
from pasar_conformance.target import Target

NOT_PENDING = ErrorReason.Name(ErrorReason.PAYMENT_NOT_PENDING)
CANCELLED = payment_pb2.PaymentState.Name(payment_pb2.PAYMENT_STATE_CANCELLED)


def notify(
    target: Target, request: payment_service_pb2.NotifyPaymentRequest
) -> payment_service_pb2.NotifyPaymentResponse:
    answer = target.call(rpc("NotifyPayment"), request)
    assert isinstance(answer, payment_service_pb2.NotifyPaymentResponse)
    return answer


def require_sandbox_payments(payments: PaymentDesk) -> payment_pb2.Payment:
    """A new pending payment opened with the sandbox provider (skips the case otherwise)."""
    payments.require_sandbox()
    payment = payments.open()
    assert payment.provider == SANDBOX, f"a sandbox shop opened a payment with {payment.provider!r}"
    return payment


def test_a_simulated_payment_becomes_paid_once(payments: PaymentDesk) -> None:
    payment = require_sandbox_payments(payments)
    paid = payments.simulate(payment.id)
    assert paid.state == payment_pb2.PAYMENT_STATE_PAID
    assert paid.HasField("paid_time")
    assert (paid.id, paid.order_id, paid.total, paid.provider_reference) == (
        payment.id,
        payment.order_id,
        payment.total,
        payment.provider_reference,
    )
    assert payments.simulate(payment.id) == paid, "a repeat changed the paid payment"
    assert payments.get(payment.id) == paid


def test_a_cancelled_payment_cannot_be_simulated(payments: PaymentDesk) -> None:
    payment = require_sandbox_payments(payments)
    payments.cancel(payment.id)
    expect_reason(
        lambda: payments.simulate(payment.id),
        NOT_PENDING,
        metadata={"payment_id": payment.id, "state": CANCELLED},
    )


def test_without_a_sandbox_simulate_is_refused(payments: PaymentDesk) -> None:
    if payments.sandbox():
        pytest.skip("the target's payments are settled by the sandbox")
    payment = payments.open()
    expect_reason(lambda: payments.simulate(payment.id), ErrorReason.Name(ErrorReason.SANDBOX_DISABLED))


def test_a_signed_notification_settles_the_payment_and_a_repeat_is_a_duplicate(
    target: Target, payments: PaymentDesk
) -> None:
    payment = require_sandbox_payments(payments)
    notification = sandbox_notification(target, payment)
    first = notify(target, notification)
    assert not first.duplicate
    assert first.payment.state == payment_pb2.PAYMENT_STATE_PAID
    assert first.payment.id == payment.id
    again = notify(target, notification)
    assert again.duplicate
    assert again.payment == first.payment
    assert payments.simulate(payment.id) == first.payment


def test_another_notification_for_a_paid_payment_is_a_duplicate_and_changes_nothing(
    target: Target, payments: PaymentDesk
) -> None:
    payment = require_sandbox_payments(payments)
    paid = payments.simulate(payment.id)
    again = notify(target, sandbox_notification(target, payment))
    assert again.duplicate
    assert again.payment == paid


def test_a_notification_from_an_unknown_provider_is_refused_naming_it(
    target: Target, payments: PaymentDesk
) -> None:
    payment = payments.open()
    provider = target.run.new("provider").replace("-", "_")
    request = payment_service_pb2.NotifyPaymentRequest(
        provider=provider, payload=b"{}", signature=sign(b"{}", "x")
    )
    error = refused(lambda: notify(target, request))
    expect_reason(error, ErrorReason.Name(ErrorReason.UNKNOWN_PROVIDER), metadata={"provider": provider})
    assert "provider" in violated_fields(error)
    assert payments.get(payment.id) == payment


def test_a_notification_with_a_bad_signature_is_refused(target: Target, payments: PaymentDesk) -> None:
    payment = require_sandbox_payments(payments)
    notification = sandbox_notification(target, payment)
    for signature in (
        sign(notification.payload, target.webhook_secret + "x"),
        "0" * 64,
        sign(notification.payload + b" ", target.webhook_secret),  # another payload's
    ):
        forged = payment_service_pb2.NotifyPaymentRequest(
            provider=notification.provider, payload=notification.payload, signature=signature
        )
        expect_reason(
            partial(notify, target, forged),
            ErrorReason.Name(ErrorReason.BAD_SIGNATURE),  # the biller's too: judged as the provider's
            metadata={"provider": SANDBOX},
            package=PACKAGE,
        )
    assert payments.get(payment.id) == payment, "a forged notification changed the payment"


def test_a_notification_for_no_payment_of_the_shop_is_not_found(
    target: Target, payments: PaymentDesk
) -> None:
    payment = require_sandbox_payments(payments)
    stranger = payment_pb2.Payment()
    stranger.CopyFrom(payment)
    stranger.id = "pay_" + "f" * 32
    expect_reason(
        lambda: notify(target, sandbox_notification(target, stranger)),
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        metadata={"payment_id": stranger.id},
    )
    assert payments.get(payment.id) == payment
    for reference in (target.run.new("reference"), payment.provider_reference.swapcase()):
        other_reference = payment_pb2.Payment()
        other_reference.CopyFrom(payment)
        other_reference.provider_reference = reference
        expect_reason(
            partial(notify, target, sandbox_notification(target, other_reference)),
            ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
            metadata={"payment_id": payment.id},
        )
    assert payments.get(payment.id) == payment


def test_a_notification_for_a_cancelled_payment_is_not_pending(target: Target, payments: PaymentDesk) -> None:
    payment = require_sandbox_payments(payments)
    payments.cancel(payment.id)
    expect_reason(
        lambda: notify(target, sandbox_notification(target, payment)),
        NOT_PENDING,
        metadata={"payment_id": payment.id, "state": CANCELLED},
    )
