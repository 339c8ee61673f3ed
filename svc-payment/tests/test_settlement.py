"""Settlement: sandbox simulation, signed notifications, and PAID at most once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
from conftest import (
    PAYMENT_STATE,
    WEBHOOK_SECRET,
    RunningService,
    StartService,
    create_payment,
    run_concurrently,
    stored_events,
)

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_kit import database as db
from pasar_kit.errors import FailedPrecondition
from pasar_kit.ids import new_id
from pasar_kit.logs import JsonFormatter
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expire_due_payments
from pasar_payment.models import Payment, PaymentState
from pasar_payment.payments import get_payment
from pasar_payment.providers.base import Notification, OpenedPayment, PaymentOrder, ProviderSettlement
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_payment.settlement import PaymentSettler
from pasar_payment.signatures import sign
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields
from pasar_testkit.mariadb import MariaDBServer

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub
sandbox = SandboxProvider(WEBHOOK_SECRET)


def notification_for(payment: payment_pb2.Payment, **changes: object) -> Notification:
    """The notification the sandbox sends when payment is paid, with changes to its body."""
    built = sandbox.settlement_notification(
        payment_id=payment.id,
        provider_reference=payment.provider_reference,
        paid_amount=payment.total.amount,
        currency_code=payment.total.currency_code,
    )
    if not changes:
        return built
    body = {**json.loads(built.payload), **changes}
    payload = json.dumps(body).encode()
    return Notification(payload, sign(payload, WEBHOOK_SECRET))


def notify(
    stub: PaymentStub, notification: Notification, provider: str = "sandbox"
) -> payment_service_pb2.NotifyPaymentResponse:
    request = payment_service_pb2.NotifyPaymentRequest(
        provider=provider, payload=notification.payload, signature=notification.signature
    )
    response: payment_service_pb2.NotifyPaymentResponse = stub.NotifyPayment(request, timeout=30)
    return response


def simulate(stub: PaymentStub, payment_id: str) -> payment_pb2.Payment:
    request = payment_service_pb2.SimulatePaymentRequest(id=payment_id)
    response: payment_service_pb2.SimulatePaymentResponse = stub.SimulatePayment(request, timeout=10)
    return response.payment


def get(stub: PaymentStub, payment_id: str) -> payment_pb2.Payment:
    return stub.GetPayment(payment_service_pb2.GetPaymentRequest(id=payment_id), timeout=10).payment


def paid_events(service: RunningService) -> list[str]:
    return [payment_id for _, kind, payment_id in stored_events(service.database) if kind == "PAID"]


def test_the_channels_say_when_the_sandbox_settles_payments(stub: PaymentStub) -> None:
    channels = stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    assert channels.sandbox is True


def test_the_sandbox_settles_a_payment(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="qris", amount=25_000)
    paid = simulate(service.stub, payment.id)
    assert paid.state == PAYMENT_STATE.PAYMENT_STATE_PAID
    assert paid.HasField("paid_time")
    assert paid.update_time.ToDatetime() >= paid.paid_time.ToDatetime()
    assert (paid.id, paid.total, paid.qris) == (payment.id, payment.total, payment.qris)
    assert get(service.stub, payment.id) == paid
    assert [kind for _, kind, _ in stored_events(service.database)] == ["CREATED", "PAID"]
    assert simulate(service.stub, payment.id) == paid, "a paid payment stays as it is"
    assert paid_events(service) == [payment.id]


def test_simulating_an_unknown_payment_is_not_found(stub: PaymentStub) -> None:
    missing = new_id("pay")
    error = refused(lambda: simulate(stub, missing))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        {"payment_id": missing},
    )


class BankDirect:
    """A provider other than the sandbox: it cannot be told to settle a payment."""

    name = "bank_direct"

    def open_payment(self, order: PaymentOrder) -> OpenedPayment:
        return OpenedPayment(
            provider_reference=f"BD-{order.payment_id}",
            instructions=payment_pb2.VirtualAccountInstructions(
                bank_name=order.issuer_name, account_number="7" + order.payment_id[4:19], account_name="PASAR"
            ),
        )

    def read_settlement(self, payload: bytes) -> ProviderSettlement:
        body = json.loads(payload)
        return ProviderSettlement(
            notification_id=body["id"],
            payment_id=body["external_id"],
            provider_reference=body["reference"],
            paid_amount=body["amount"],
            currency_code="IDR",
            paid_time=datetime.now(UTC),
        )


def test_simulation_needs_the_sandbox(start_service: StartService) -> None:
    running = start_service(provider=BankDirect())
    payment = create_payment(running.stub, channel_code="bca_va")
    assert payment.provider == "bank_direct"
    channels = running.stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    assert channels.sandbox is False, "the storefront offers no simulation and shows no demo banner"
    error = refused(lambda: simulate(running.stub, payment.id))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.SANDBOX_DISABLED),
        {},
    )
    assert get(running.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    # The real provider's own notification settles it, through the same path.
    payload = json.dumps(
        {"id": "n-1", "external_id": payment.id, "reference": payment.provider_reference, "amount": 54_000}
    ).encode()
    settled = notify(
        running.stub, Notification(payload, sign(payload, WEBHOOK_SECRET)), provider="bank_direct"
    )
    assert (settled.payment.state, settled.duplicate) == (PAYMENT_STATE.PAYMENT_STATE_PAID, False)
    # The sandbox's name means nothing to this shop now.
    error = refused(lambda: notify(running.stub, notification_for(payment)))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorReason.Name(ErrorReason.UNKNOWN_PROVIDER),
        {"provider": "sandbox"},
    )


def test_a_notification_makes_the_payment_paid_once(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="bni_va", amount=100_000)
    notification = notification_for(payment)
    first = notify(service.stub, notification)
    assert (first.payment.state, first.duplicate) == (PAYMENT_STATE.PAYMENT_STATE_PAID, False)
    assert first.payment.paid_time.ToJsonString().startswith(
        json.loads(notification.payload)["paid_time"][:19]
    )
    again = notify(service.stub, notification)
    assert again.duplicate
    assert again.payment == first.payment, "a repeated notification changes nothing"
    assert paid_events(service) == [payment.id]


def test_a_second_settlement_of_a_paid_payment_is_a_duplicate_and_is_flagged(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    payment = create_payment(service.stub, channel_code="alfamart", amount=40_000)
    first = notify(service.stub, notification_for(payment))
    other = notify(service.stub, notification_for(payment))  # another notification id
    assert other.duplicate
    assert other.payment == first.payment
    assert paid_events(service) == [payment.id]
    assert any("paid twice" in record.getMessage() for record in caplog.records)


def test_twenty_concurrent_notifications_make_one_paid_event(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="gopay", amount=80_000)
    notification = notification_for(payment)
    results = run_concurrently(20, lambda _: notify(service.stub, notification))
    responses = [
        result for result in results if isinstance(result, payment_service_pb2.NotifyPaymentResponse)
    ]
    assert len(responses) == 20, results
    assert sorted(response.duplicate for response in responses) == [False] + [True] * 19
    assert all(response.payment.state == PAYMENT_STATE.PAYMENT_STATE_PAID for response in responses)
    assert len({response.payment.SerializeToString() for response in responses}) == 1
    assert paid_events(service) == [payment.id]


def test_concurrent_distinct_notifications_make_one_paid_event(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="dana", amount=80_000)
    notifications = [notification_for(payment) for _ in range(10)]
    results = run_concurrently(10, lambda index: notify(service.stub, notifications[index]))
    assert sorted(bool(getattr(result, "duplicate", None)) for result in results) == [False] + [True] * 9
    assert all(isinstance(result, payment_service_pb2.NotifyPaymentResponse) for result in results)
    assert paid_events(service) == [payment.id]


def bad_signatures(payment: payment_pb2.Payment) -> list[Notification]:
    good = notification_for(payment)
    forged_payload = good.payload.replace(b'"PAID"', b'"PAID" ')
    return [
        Notification(good.payload, sign(good.payload, "a guessed secret")),
        Notification(forged_payload, good.signature),
        Notification(good.payload, good.signature.upper()),
        Notification(good.payload, "0" * 64),
        Notification(good.payload, "ü"),
    ]


def test_a_bad_signature_is_rejected_and_logged_without_the_secret(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    payment = create_payment(service.stub, channel_code="permata_va")
    caplog.set_level(logging.INFO)
    for notification in bad_signatures(payment):
        error = refused(lambda notification=notification: notify(service.stub, notification))  # type: ignore[misc]
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.UNAUTHENTICATED,
            ErrorReason.Name(ErrorReason.BAD_SIGNATURE),
            {"provider": "sandbox"},
        )
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    assert paid_events(service) == []
    warnings = [record for record in caplog.records if "bad signature" in record.getMessage()]
    assert len(warnings) == 5
    assert all(record.levelno == logging.WARNING and record.provider == "sandbox" for record in warnings)  # type: ignore[attr-defined]
    everything_logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert WEBHOOK_SECRET not in everything_logged


def test_a_correctly_signed_payload_that_is_no_settlement_is_invalid(service: RunningService) -> None:
    payment = create_payment(service.stub)
    for notification in (
        notification_for(payment, status="FAILED"),
        notification_for(payment, paid_amount="lots"),
        Notification(b"<xml/>", sign(b"<xml/>", WEBHOOK_SECRET)),
    ):
        error = refused(lambda notification=notification: notify(service.stub, notification))  # type: ignore[misc]
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["payload"]
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING


def test_a_settlement_of_another_amount_changes_nothing(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    payment = create_payment(service.stub, channel_code="bca_va", amount=50_000)
    for changes in ({"paid_amount": 50_000}, {"paid_amount": 54_001}, {"currency_code": "USD"}):
        error = refused(lambda changes=changes: notify(service.stub, notification_for(payment, **changes)))  # type: ignore[misc]
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["payload"]
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    assert paid_events(service) == []
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_a_settlement_for_no_payment_of_ours_is_not_found(service: RunningService) -> None:
    payment = create_payment(service.stub)
    for changes in ({"provider_reference": "SBX00000000000000000000"}, {"payment_id": new_id("pay")}):
        error = refused(lambda changes=changes: notify(service.stub, notification_for(payment, **changes)))  # type: ignore[misc]
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.NOT_FOUND,
            ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
            {"payment_id": changes.get("payment_id", payment.id)},
        )
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING


def test_a_settlement_naming_the_reference_in_another_case_is_not_found(service: RunningService) -> None:
    """Provider references are compared byte for byte, on MariaDB too (its default collation ignores case)."""
    payment = create_payment(service.stub)
    other_case = payment.provider_reference.swapcase()
    error = refused(lambda: notify(service.stub, notification_for(payment, provider_reference=other_case)))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
    )
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING


def end_payment(service: RunningService, payment: payment_pb2.Payment, ending: str) -> payment_pb2.Payment:
    """Cancels the payment, or expires it as the sweep does at its expire_time; returns it then."""
    if ending == "cancelled":
        service.stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=payment.id), timeout=10)
    else:
        with service.database.connection_context():
            due = Payment.get_by_id(payment.id).expire_time
        assert expire_due_payments(service.database, EventFeed(), now=due) == 1
    return get(service.stub, payment.id)


def refund_alarms(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The service's logs saying money must be refunded (not the SQL naming refunded_total)."""
    return [
        record
        for record in caplog.records
        if record.name.startswith("pasar_payment") and "refunded" in record.getMessage()
    ]


@pytest.mark.parametrize("ending", ["cancelled", "expired"])
def test_a_providers_settlement_after_the_payment_ended_asks_for_a_refund(
    service: RunningService, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    """The provider says the shopper's money arrived: it must go back, and someone must act."""
    payment = create_payment(service.stub, channel_code="shopeepay", amount=35_000)
    ended = end_payment(service, payment, ending)
    error = refused(lambda: notify(service.stub, notification_for(payment)))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_PENDING),
        {"payment_id": payment.id, "state": f"PAYMENT_STATE_{ending.upper()}"},
    )
    assert get(service.stub, payment.id) == ended
    assert paid_events(service) == []
    refunds = refund_alarms(caplog)
    assert len(refunds) == 1
    assert refunds[0].levelno == logging.ERROR
    assert refunds[0].payment_id == payment.id  # type: ignore[attr-defined]


@pytest.mark.parametrize("ending", ["cancelled", "expired"])
def test_simulating_an_ended_payment_is_refused_without_a_refund_alarm(
    service: RunningService, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    """Anyone with the id may ask the sandbox; it moved no money, so nothing needs refunding."""
    caplog.set_level(logging.DEBUG)
    payment = create_payment(service.stub, channel_code="shopeepay", amount=35_000)
    ended = end_payment(service, payment, ending)
    for _ in range(2):
        error = refused(lambda: simulate(service.stub, payment.id))
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorReason.Name(ErrorReason.PAYMENT_NOT_PENDING),
            {"payment_id": payment.id, "state": f"PAYMENT_STATE_{ending.upper()}"},
        )
    assert get(service.stub, payment.id) == ended
    assert paid_events(service) == []
    assert refund_alarms(caplog) == []
    settlement_logs = [record for record in caplog.records if record.name == "pasar_payment.settlement"]
    assert settlement_logs, "the refusal is logged"
    assert all(record.levelno <= logging.INFO for record in settlement_logs)


def test_a_simulation_that_finds_the_payment_ended_at_its_update_raises_no_alarm(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelled between the simulation's look and its update: still no money, still no alarm."""
    payment = create_payment(service.stub, channel_code="ovo", amount=20_000)
    settler = PaymentSettler(service.database, sandbox, WEBHOOK_SECRET, EventFeed(), sandbox_enabled=True)
    original = get_payment

    def look_then_cancel(payment_id: str) -> Payment:
        looked = original(payment_id)
        Payment.update(state=PaymentState.CANCELLED.value).where(Payment.id == payment_id).execute()
        return looked

    with service.database.connection_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr("pasar_payment.settlement.get_payment", look_then_cancel)
        with pytest.raises(FailedPrecondition) as raised:
            settler.simulate_payment(payment.id)
    assert raised.value.reason == ErrorReason.Name(ErrorReason.PAYMENT_NOT_PENDING)
    assert refund_alarms(caplog) == []
    assert paid_events(service) == []


def test_simulation_is_refused_whenever_the_sandbox_is_not_enabled(service: RunningService) -> None:
    """As in production without the demo setting: the sandbox provider is there, but off."""
    payment = create_payment(service.stub, channel_code="qris", amount=25_000)
    settler = PaymentSettler(service.database, sandbox, WEBHOOK_SECRET, EventFeed(), sandbox_enabled=False)
    assert settler.sandbox_enabled is False
    with service.database.connection_context(), pytest.raises(FailedPrecondition) as raised:
        settler.simulate_payment(payment.id)
    assert raised.value.reason == ErrorReason.Name(ErrorReason.SANDBOX_DISABLED)
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"provider": "", "payload": b"{}", "signature": "00"}, "provider"),
        ({"provider": "Sandbox", "payload": b"{}", "signature": "00"}, "provider"),
        ({"provider": "sandbox", "payload": b"", "signature": "00"}, "payload"),
        ({"provider": "sandbox", "payload": b"x" * 65_537, "signature": "00"}, "payload"),
        ({"provider": "sandbox", "payload": b"{}", "signature": ""}, "signature"),
        ({"provider": "sandbox", "payload": b"{}", "signature": "0" * 257}, "signature"),
    ],
)
def test_malformed_notifications_are_invalid_argument(
    stub: PaymentStub, fields: dict[str, object], field: str
) -> None:
    request = payment_service_pb2.NotifyPaymentRequest(**fields)  # type: ignore[arg-type]
    error = refused(lambda: stub.NotifyPayment(request, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violated_fields(error)) == {field}


def changes_of_a_payment(
    service: RunningService, payment: payment_pb2.Payment
) -> dict[str, Callable[[], object]]:
    """Every write that changes a pending payment, by name."""
    return {
        "settle": lambda: notify(service.stub, notification_for(payment)),
        "cancel": lambda: service.stub.CancelPayment(
            payment_service_pb2.CancelPaymentRequest(id=payment.id), timeout=10
        ),
        "expire": lambda: expire_due_payments(
            service.database, EventFeed(), now=datetime(2999, 1, 1, tzinfo=UTC)
        ),
    }


@pytest.mark.parametrize("change", ["settle", "cancel", "expire"])
def test_a_change_of_a_payment_locks_nothing_before_the_payments_row(
    service: RunningService, change: str, request: pytest.FixtureRequest
) -> None:
    """Every writer of a payment takes its row lock first: one that locked an index entry
    before the row (a conditional UPDATE planned through the (state, expire_time) index)
    deadlocked against another writer of the same payment, one notification in fifty."""
    if not db.is_mysql(service.database):
        pytest.skip("SQLite has no row locks: atomic_write lets one writer in at a time")
    server: MariaDBServer = request.getfixturevalue("mariadb")
    payment = create_payment(service.stub, channel_code="gopay", amount=80_000)
    write = changes_of_a_payment(service, payment)[change]
    rows_locked = server.rows_locked_by_a_writer_kept_waiting(
        service.database,
        hold=lambda: Payment.select().where(Payment.id == payment.id).for_update().get(),
        write=write,
    )
    # The row it waits for counts as locked; a conditional UPDATE through the index had 2.
    assert rows_locked == 1, "the writer locked index entries before it came to wait for the row"
