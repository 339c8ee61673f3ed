"""Paid orders delivered: fulfillment asked for once per line (through outages), followed
from the fulfillment events (replays, restarts), failed lines refunded (and the fee when
nothing was delivered), the order FULFILLED or REFUNDED, and each e-mail sent once."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import grpc
import pytest
from conftest import (
    RunningService,
    StartService,
    create_request,
    handle_event_of_unknown_order,
    with_destinations,
)
from fakes import FakeCatalog, FakeFulfillment, FakePayments

from pasar.fulfillment.v1 import fulfillment_pb2
from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1 import product_pb2
from pasar_kit import database as db
from pasar_kit import errors
from pasar_kit.money import format_rupiah
from pasar_order.fulfillment_events import CURSOR_NAME
from pasar_order.models import (
    EmailKind,
    EventCursor,
    FulfillmentTask,
    Order,
    OrderLine,
    OutboxState,
    RefundTask,
)
from pasar_order.payment_events import CURSOR_NAME as PAYMENT_EVENTS
from pasar_testkit.assertions import error_metadata, eventually, reason_of, refused
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.mail import body_text, mails_in

PHONE = "081234567890"
METER = "12345678901"
PACKAGES = ("telkomsel-20k", "token-pln-50k", "voucher-game-25k")


def place(service: RunningService, language: str = "") -> order_service_pb2.CreateOrderResponse:
    """An order of a phone credit, two electricity tokens and a game voucher."""
    request = with_destinations(
        create_request(
            ("telkomsel-20k", 1), ("token-pln-50k", 2), ("voucher-game-25k", 1), language=language
        ),
        telkomsel_20k={"phone_number": PHONE},
        token_pln_50k={"meter_number": METER},
    )
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(request)
    return response


def paid(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    language: str = "",
) -> order_service_pb2.CreateOrderResponse:
    """A placed order, paid, whose lines the fulfillment service has accepted."""
    placed = place(service, language)
    fake_payments.pay(placed.payment.id)
    eventually(lambda: len(fake_fulfillment.lines_of(placed.order.id)) == len(PACKAGES))
    return placed


def order_of(service: RunningService, placed: order_service_pb2.CreateOrderResponse) -> order_pb2.Order:
    request = order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    order: order_pb2.Order = service.stub.GetOrder(request).order
    return order


def state_of(
    service: RunningService, placed: order_service_pb2.CreateOrderResponse
) -> order_pb2.OrderState.ValueType:
    return order_of(service, placed).state


def mails(service: RunningService, kind: str, placed: order_service_pb2.CreateOrderResponse) -> list[Any]:
    return mails_in(service.mail_dir, kind, placed.order.id)


def line_totals(placed: order_service_pb2.CreateOrderResponse) -> dict[str, int]:
    return {line.package_id: line.line_total.amount for line in placed.order.lines}


def test_a_paid_order_asks_once_for_each_lines_delivery(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    placed = paid(service, fake_payments, fake_fulfillment)

    requested = {f.package_id: f for f in fake_fulfillment.lines_of(placed.order.id)}
    assert dict(requested["telkomsel-20k"].destination) == {"phone_number": PHONE}
    assert requested["token-pln-50k"].delivery_kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN
    assert requested["token-pln-50k"].quantity == 2
    assert requested["token-pln-50k"].amount.amount == 102_000
    # A voucher's product asks for no destination, and is delivered all the same.
    assert dict(requested["voucher-game-25k"].destination) == {}
    assert requested["voucher-game-25k"].delivery_kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE

    # The settlement handled again: by the PAID event delivered twice, and directly.
    fake_payments.replay_event(len(fake_payments.events))
    payment = fake_payments.payment_of(placed.order.id)
    with service.database.connection_context():
        assert service.assembled.settler.record_paid(placed.order.id, payment) is False
    eventually(lambda: cursor_of(service, PAYMENT_EVENTS) == len(fake_payments.events))
    with service.database.connection_context():
        assert FulfillmentTask.select().where(FulfillmentTask.order == placed.order.id).count() == len(
            PACKAGES
        )
    assert fake_fulfillment.hooks.count("CreateFulfillment") == len(PACKAGES)
    # The fulfillment service's answer is on the lines at once.
    eventually(lambda: all(line.fulfillment.id for line in order_of(service, placed).lines))
    assert state_of(service, placed) == order_pb2.ORDER_STATE_PAID

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "*********890" in logged  # the masked phone number names the line in the logs
    assert PHONE not in logged
    assert METER not in logged


def test_every_line_delivered_fulfills_the_order(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment)
    for package_id in PACKAGES:
        fake_fulfillment.succeed(placed.order.id, package_id)

    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_FULFILLED)
    order = order_of(service, placed)
    assert order.HasField("complete_time")
    assert order.refunded_total.amount == 0
    by_package = {line.package_id: line for line in order.lines}
    token = by_package["token-pln-50k"].fulfillment
    assert token.state == fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED
    assert [d.token for d in token.deliveries] == ["1234-5678-9012-3456-7890", "1234-5678-9012-3456-7891"]
    assert not any(line.HasField("refund") for line in order.lines)
    eventually(lambda: len(mails(service, EmailKind.DELIVERED, placed)) == 1)
    assert fake_payments.refunds_of(placed.order.id) == {}

    cancel = refused(
        lambda: service.stub.CancelOrder(
            order_service_pb2.CancelOrderRequest(id=placed.order.id, token=placed.access_token)
        )
    )
    assert cancel.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(cancel) == ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE)
    assert error_metadata(cancel) == {"state": "ORDER_STATE_FULFILLED"}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        pytest.param("id", ("sudah terkirim", "Kode voucher", "Nomor seri (SN)"), id="id"),
        pytest.param("en", ("has been delivered", "Voucher code", "Serial number"), id="en"),
    ],
)
def test_the_delivered_email_carries_the_token_and_the_code(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    language: str,
    words: tuple[str, ...],
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment, language)
    delivered = [fake_fulfillment.succeed(placed.order.id, package_id) for package_id in PACKAGES]

    eventually(lambda: len(mails(service, EmailKind.DELIVERED, placed)) == 1)
    [message] = mails(service, EmailKind.DELIVERED, placed)
    assert placed.order.order_number in message["Subject"]
    assert message["Content-Language"] == language
    for part in body_text(message):
        for word in words:
            assert word in part
        assert "1234-5678-9012-3456-7890" in part
        assert "1234-5678-9012-3456-7891" in part
        assert "13.85 kWh" in part
        assert "ABCD-EFGH-JKLM-NPQ0" in part
        for fulfillment in delivered:
            assert fulfillment.deliveries[0].serial_number in part
        assert PHONE in part  # the shopper's own e-mail says where the credit went
        assert f"http://shop.test/orders/{placed.order.id}?token={placed.access_token}" in part


def test_a_fulfillment_outage_delays_the_deliveries_and_loses_none(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    fulfillment_server: FakeGrpcServer,
) -> None:
    placed = place(service)
    fulfillment_server.stop()
    fake_payments.pay(placed.payment.id)

    def retried() -> bool:
        with service.database.connection_context():
            tasks = list(FulfillmentTask.select().where(FulfillmentTask.order == placed.order.id))
        return len(tasks) == len(PACKAGES) and all(task.attempts >= 1 for task in tasks)

    eventually(retried, message="the requests are retried while the fulfillment service is down")
    assert state_of(service, placed) == order_pb2.ORDER_STATE_PAID

    fulfillment_server.start()
    eventually(lambda: len(fake_fulfillment.lines_of(placed.order.id)) == len(PACKAGES))
    for package_id in PACKAGES:
        fake_fulfillment.succeed(placed.order.id, package_id)
    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_FULFILLED)
    eventually(lambda: len(mails(service, EmailKind.DELIVERED, placed)) == 1)


def test_a_failed_line_is_refunded_and_the_order_ends_refunded(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment, "en")
    failed = fake_fulfillment.fail(placed.order.id, "token-pln-50k")
    fake_fulfillment.succeed(placed.order.id, "telkomsel-20k")
    fake_fulfillment.succeed(placed.order.id, "voucher-game-25k")

    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED)
    token_total = line_totals(placed)["token-pln-50k"]
    # The failed line's total, under the fulfillment's id; the fee stays (other lines were delivered).
    assert fake_payments.refunds_of(placed.order.id) == {failed.id: token_total}
    order = order_of(service, placed)
    assert order.refunded_total.amount == token_total
    assert order.HasField("complete_time")
    by_package = {line.package_id: line for line in order.lines}
    assert by_package["token-pln-50k"].refund.request_id == failed.id
    assert by_package["token-pln-50k"].fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_FAILED
    assert not by_package["telkomsel-20k"].HasField("refund")

    eventually(lambda: len(mails(service, EmailKind.REFUNDED, placed)) == 1)
    assert mails(service, EmailKind.DELIVERED, placed) == []
    [message] = mails(service, EmailKind.REFUNDED, placed)
    assert format_rupiah(token_total) in message["Subject"]
    for part in body_text(message):
        assert format_rupiah(token_total) in part
        assert "ABCD-EFGH-JKLM-NPQ0" in part  # what was delivered is in it too
        assert "1234-5678-9012-3456-7890" not in part


def test_when_nothing_is_delivered_the_fee_is_refunded_too(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment)
    failed = {package_id: fake_fulfillment.fail(placed.order.id, package_id) for package_id in PACKAGES}

    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED)
    totals = line_totals(placed)
    expected = {failed[package_id].id: totals[package_id] for package_id in PACKAGES}
    expected[f"{placed.order.id}:fee"] = placed.payment.fee.amount
    assert fake_payments.refunds_of(placed.order.id) == expected
    assert order_of(service, placed).refunded_total == placed.payment.total
    assert fake_payments.payment_of(placed.order.id).state == payment_pb2.PAYMENT_STATE_REFUNDED
    eventually(lambda: len(mails(service, EmailKind.REFUNDED, placed)) == 1)
    [message] = mails(service, EmailKind.REFUNDED, placed)
    for part in body_text(message):
        assert "Biaya admin" in part
        assert format_rupiah(placed.payment.total.amount) in part


def test_replayed_events_refund_and_email_nothing_twice(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment)
    failed = fake_fulfillment.fail(placed.order.id, "telkomsel-20k")
    fake_fulfillment.succeed(placed.order.id, "token-pln-50k")
    fake_fulfillment.succeed(placed.order.id, "voucher-game-25k")
    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED)
    eventually(lambda: len(mails(service, EmailKind.REFUNDED, placed)) == 1)

    fake_fulfillment.replay_events()  # every event again, under new sequences
    fake_payments.replay_event(len(fake_payments.events))  # the REFUNDED event again
    eventually(lambda: cursor_of(service) == len(fake_fulfillment.events))
    with service.database.connection_context():
        # The same event handled again directly (a redelivery before the cursor moved).
        assert service.assembled.fulfillment_consumer.handle(fake_fulfillment.events[-1]) is False
        assert RefundTask.select().where(RefundTask.order == placed.order.id).count() == 1
    assert fake_payments.refunds_of(placed.order.id) == {failed.id: line_totals(placed)["telkomsel-20k"]}
    assert fake_payments.hooks.count("RefundPayment") == 1
    assert len(mails(service, EmailKind.REFUNDED, placed)) == 1
    assert mails(service, EmailKind.DELIVERED, placed) == []
    assert state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED


def test_a_payment_service_outage_delays_the_refund(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    payments_server: FakeGrpcServer,
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment)
    payments_server.stop()
    for package_id in PACKAGES:
        fake_fulfillment.fail(placed.order.id, package_id)

    def retried() -> bool:
        with service.database.connection_context():
            tasks = list(RefundTask.select().where(RefundTask.order == placed.order.id))
        return len(tasks) == len(PACKAGES) + 1 and all(task.attempts >= 1 for task in tasks)

    eventually(retried, message="line and fee refunds are retried while the payment service is down")
    assert state_of(service, placed) == order_pb2.ORDER_STATE_PAID

    payments_server.start()
    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED)
    assert sum(fake_payments.refunds_of(placed.order.id).values()) == placed.payment.total.amount


def test_a_refund_the_payment_service_refuses_for_good_is_not_retried(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    placed = paid(service, fake_payments, fake_fulfillment)

    def exceeds() -> None:
        raise errors.FailedPrecondition(
            "too much",
            reason=PaymentErrorReason.Name(PaymentErrorReason.REFUND_EXCEEDS_PAYMENT),
            metadata={"payment_id": placed.payment.id, "refundable_amount": "0"},
        )

    fake_payments.hooks.before["RefundPayment"] = exceeds
    failed = fake_fulfillment.fail(placed.order.id, "voucher-game-25k")

    def given_up() -> bool:
        with service.database.connection_context():
            task = RefundTask.get_or_none(RefundTask.order == placed.order.id)
        return task is not None and task.state == OutboxState.FAILED

    eventually(given_up)
    assert fake_payments.hooks.count("RefundPayment") == 1
    # An error names the refund that needs a person; the order stays PAID, its line FAILED.
    assert any(
        record.levelno == logging.ERROR and getattr(record, "request_id", None) == failed.id
        for record in caplog.records
    )
    order = order_of(service, placed)
    assert order.state == order_pb2.ORDER_STATE_PAID
    line = next(line for line in order.lines if line.package_id == "voucher-game-25k")
    assert line.fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_FAILED
    assert not line.HasField("refund")


def test_a_product_without_a_delivery_kind_is_refused_before_anything_is_reserved_or_paid(
    start_service: StartService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
) -> None:
    # A product made before delivery kinds: nobody can deliver it, so it is not sold (it
    # used to be paid for, then refunded when the fulfillment service refused the line).
    fake_catalog.packages["voucher-game-25k"].delivery_kind = product_pb2.DELIVERY_KIND_UNSPECIFIED
    service = start_service()

    error = refused(lambda: place(service))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ErrorReason.Name(ErrorReason.PACKAGE_NOT_DELIVERABLE)
    assert error_metadata(error) == {"package_id": "voucher-game-25k", "product_id": "voucher-game"}
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert fake_catalog.stock("voucher-game-25k") == 10
    assert fake_payments.hooks.count("CreatePayment") == 0
    assert fake_fulfillment.hooks.count("CreateFulfillment") == 0
    with service.database.connection_context():
        assert Order.select().count() == 0


def test_a_line_of_a_kind_the_fulfillment_service_does_not_deliver_is_refunded(
    start_service: StartService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
) -> None:
    # Which kinds the biller delivers is the fulfillment service's to know, so a line of a
    # kind it does not deliver is only found out after payment.
    fake_fulfillment.unsupported_kinds.add(product_pb2.DELIVERY_KIND_VOUCHER_CODE)
    service = start_service()
    placed = place(service)
    fake_payments.pay(placed.payment.id)
    eventually(lambda: len(fake_fulfillment.lines_of(placed.order.id)) == len(PACKAGES) - 1)
    for package_id in PACKAGES[:2]:
        fake_fulfillment.succeed(placed.order.id, package_id)

    eventually(lambda: state_of(service, placed) == order_pb2.ORDER_STATE_REFUNDED)
    voucher_total = line_totals(placed)["voucher-game-25k"]
    assert fake_payments.refunds_of(placed.order.id) == {f"{placed.order.id}:voucher-game-25k": voucher_total}
    voucher = {line.package_id: line for line in order_of(service, placed).lines}["voucher-game-25k"]
    assert voucher.fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_FAILED
    assert voucher.fulfillment.failure.reason == fulfillment_pb2.FAILURE_REASON_BILLER_ERROR
    assert voucher.refund.amount.amount == voucher_total
    eventually(lambda: len(mails(service, EmailKind.REFUNDED, placed)) == 1)


def cursor_of(service: RunningService, name: str = CURSOR_NAME) -> int:
    with service.database.connection_context():
        row = EventCursor.get_or_none(EventCursor.name == name)
        return int(row.sequence) if row else 0


def test_a_restarted_service_resumes_the_events_from_its_cursor(
    start_service: StartService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    first = start_service()
    placed = paid(first, fake_payments, fake_fulfillment)
    fake_fulfillment.succeed(placed.order.id, "telkomsel-20k")
    eventually(lambda: cursor_of(first) == len(fake_fulfillment.events))
    handled = cursor_of(first)
    first.stop()

    fake_fulfillment.fail(placed.order.id, "token-pln-50k")
    fake_fulfillment.succeed(placed.order.id, "voucher-game-25k")
    second = start_service()

    eventually(lambda: state_of(second, placed) == order_pb2.ORDER_STATE_REFUNDED)
    assert ("WatchFulfillmentEvents", str(handled)) in fake_fulfillment.hooks.calls
    assert fake_fulfillment.hooks.count("CreateFulfillment") == len(PACKAGES)
    eventually(lambda: len(mails(second, EmailKind.REFUNDED, placed)) == 1)
    assert len(fake_payments.refunds_of(placed.order.id)) == 1


def test_a_line_of_another_service_changes_nothing(
    service: RunningService, fake_fulfillment: FakeFulfillment
) -> None:
    handle_event_of_unknown_order(service)
    with service.database.connection_context():
        # Handled (the cursor moves past it), and nothing of this service's is written.
        assert (Order.select().count(), OrderLine.select().count()) == (0, 0)
        assert (FulfillmentTask.select().count(), RefundTask.select().count()) == (0, 0)
    assert cursor_of(service) == 1


def test_an_order_placed_before_deliveries_existed_stays_paid_when_paid_after(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    """Migration 4 leaves an order placed before v1.2 without destinations or delivery
    kinds: paid after the upgrade, it stays PAID (as the contract says of such orders),
    rather than asked for at the fulfillment service, refused and refunded."""
    placed = place(service)
    with service.database.connection_context():
        OrderLine.update(delivery_kind=0, destination=None).where(
            OrderLine.order == placed.order.id
        ).execute()
    fake_payments.pay(placed.payment.id)

    eventually(lambda: cursor_of(service, PAYMENT_EVENTS) == len(fake_payments.events))
    with service.database.connection_context():
        assert FulfillmentTask.select().where(FulfillmentTask.order == placed.order.id).count() == 0
        assert RefundTask.select().where(RefundTask.order == placed.order.id).count() == 0
    assert fake_fulfillment.hooks.count("CreateFulfillment") == 0
    order = order_of(service, placed)
    assert order.state == order_pb2.ORDER_STATE_PAID
    assert [line.fulfillment.state for line in order.lines] == [
        fulfillment_pb2.FULFILLMENT_STATE_UNSPECIFIED
    ] * len(PACKAGES)


def test_two_instances_end_each_line_once_under_replayed_events(
    start_service: StartService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    """Two instances on one database follow the same events (each delivered three times)
    and share the outboxes: every line is asked for once, ends once, a failed line is
    refunded once (the fee only when nothing was delivered), and each order ends with one
    e-mail."""
    first, second = start_service(), start_service()
    # Five orders: the catalog holds ten electricity tokens, two to an order.
    orders = [paid(first if index % 2 else second, fake_payments, fake_fulfillment) for index in range(5)]
    failing = {0: (), 1: ("token-pln-50k",), 2: PACKAGES}  # index % 3 -> the lines that fail
    for index, placed in enumerate(orders):
        for package_id in PACKAGES:
            if package_id in failing[index % 3]:
                fake_fulfillment.fail(placed.order.id, package_id)
            else:
                fake_fulfillment.succeed(placed.order.id, package_id)
    fake_fulfillment.replay_events()
    fake_fulfillment.replay_events()

    def ended(placed: order_service_pb2.CreateOrderResponse, delivered: bool) -> bool:
        state = order_pb2.ORDER_STATE_FULFILLED if delivered else order_pb2.ORDER_STATE_REFUNDED
        kind = EmailKind.DELIVERED if delivered else EmailKind.REFUNDED
        return state_of(first, placed) == state and len(mails(first, kind, placed)) == 1

    for index, placed in enumerate(orders):
        eventually(partial(ended, placed, index % 3 == 0))
    eventually(lambda: cursor_of(first) == len(fake_fulfillment.events))

    refunds = 0
    for index, placed in enumerate(orders):
        lines = {line.package_id: line for line in order_of(second, placed).lines}
        expected = {
            lines[package_id].fulfillment.id: line_totals(placed)[package_id]
            for package_id in failing[index % 3]
        }
        if index % 3 == 2:
            expected[f"{placed.order.id}:fee"] = placed.order.fee.amount
        assert fake_payments.refunds_of(placed.order.id) == expected
        refunds += len(expected)
        assert order_of(second, placed).refunded_total.amount == sum(expected.values())
        assert len(mails(first, EmailKind.DELIVERED, placed) + mails(first, EmailKind.REFUNDED, placed)) == 1
    assert fake_fulfillment.hooks.count("CreateFulfillment") == len(orders) * len(PACKAGES)
    assert fake_payments.hooks.count("RefundPayment") == refunds


def test_the_dispatchers_hold_no_sqlite_connection_while_a_peer_answers(
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fulfillment, reservation and refund dispatchers' rounds each hold a connection,
    but on SQLite not while the peer answers: the pool, and SQLite's memory for each of its
    connections, does not grow with the rounds waiting on a peer (issue 17's memory
    target; pasar_kit.database.released_while_waiting). On MySQL the connection stays."""
    peers, database = service.assembled.peers, service.database
    held: dict[str, list[bool]] = {}

    def recording(method: str) -> None:
        original = getattr(peers, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            held.setdefault(method, []).append(not database.is_closed())  # this thread's connection
            return original(*args, **kwargs)

        monkeypatch.setattr(peers, method, call)

    for method in ("create_fulfillment", "commit_reservation", "refund_payment"):
        recording(method)
    placed = paid(service, fake_payments, fake_fulfillment)
    fake_fulfillment.fail(placed.order.id, "token-pln-50k")
    eventually(lambda: fake_payments.refunds_of(placed.order.id) != {})
    eventually(lambda: "commit_reservation" in held)

    on_sqlite = isinstance(database, db.SerializedSqliteDatabase)
    assert {method: set(calls) for method, calls in held.items()} == {
        "create_fulfillment": {not on_sqlite},
        "commit_reservation": {not on_sqlite},
        "refund_payment": {not on_sqlite},
    }
