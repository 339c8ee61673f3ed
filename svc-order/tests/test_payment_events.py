"""Following the payment events: paid, expired, cancelled, duplicates, outages, restarts."""

from __future__ import annotations

import time
from typing import Any, cast

from conftest import RunningService, StartService, create_request
from fakes import FakeCatalog, FakePayments, outage

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_service_pb2
from pasar.product.v1 import product_pb2
from pasar_order.models import Email, EventCursor, Order, OrderState, OutboxState, ReservationTask
from pasar_order.payment_events import CURSOR_NAME
from pasar_testkit.assertions import eventually
from pasar_testkit.fake_server import FakeGrpcServer


def place(service: RunningService, *lines: tuple[str, int]) -> order_service_pb2.CreateOrderResponse:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(*lines))
    return response


def state_of(service: RunningService, order_id: str) -> str:
    with service.database.connection_context():
        state: str = Order.get_by_id(order_id).state
        return state


def emails_of(service: RunningService, order_id: str) -> list[str]:
    with service.database.connection_context():
        return sorted(email.kind for email in Email.select().where(Email.order == order_id))


def cursor_of(service: RunningService) -> int:
    with service.database.connection_context():
        row = EventCursor.get_or_none(EventCursor.name == CURSOR_NAME)
        return int(row.sequence) if row else 0


def test_a_paid_payment_marks_the_order_paid_commits_the_stock_and_queues_the_email(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("pulsa-10k", 3))
    paid = fake_payments.pay(placed.payment.id)

    eventually(lambda: state_of(service, placed.order.id) == OrderState.PAID)
    order = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    ).order
    assert order.state == order_pb2.ORDER_STATE_PAID
    assert order.paid_time == paid.paid_time
    assert emails_of(service, placed.order.id) == ["order_created", "payment_received"]
    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )
    assert fake_catalog.stock("pulsa-10k") == 7
    eventually(lambda: cursor_of(service) == len(fake_payments.events))


def test_an_event_delivered_twice_changes_nothing(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service)
    fake_payments.pay(placed.payment.id)
    eventually(lambda: cursor_of(service) == len(fake_payments.events))
    with service.database.connection_context():
        before = Order.get_by_id(placed.order.id).__data__.copy()

    fake_payments.replay_event(len(fake_payments.events))  # the PAID event again, under a new sequence
    eventually(lambda: cursor_of(service) == len(fake_payments.events))

    with service.database.connection_context():
        assert Order.get_by_id(placed.order.id).__data__ == before
        assert ReservationTask.select().count() == 1
    assert emails_of(service, placed.order.id) == ["order_created", "payment_received"]
    # The same event handled directly (a redelivery after a crash, before the cursor moved).
    with service.database.connection_context():
        assert service.assembled.consumer.handle(fake_payments.events[-1]) is False


def test_an_expired_payment_expires_the_order_and_releases_the_stock(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("data-5gb", 2))
    assert fake_catalog.stock("data-5gb") == 1

    fake_payments.expire(placed.payment.id)

    eventually(lambda: state_of(service, placed.order.id) == OrderState.EXPIRED)
    eventually(lambda: fake_catalog.stock("data-5gb") == 3, message="the reservation is released")
    # The "expired" e-mail, queued with the change.
    assert emails_of(service, placed.order.id) == ["expired", "order_created"]


def test_a_payment_cancelled_elsewhere_cancels_the_pending_order(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("pulsa-25k", 1))
    # Another client of the payment service cancels it (the order service learns it from the event).
    fake_payments.CancelPayment(
        payment_service_pb2.CancelPaymentRequest(id=placed.payment.id), cast(Any, None)
    )
    eventually(lambda: state_of(service, placed.order.id) == OrderState.CANCELLED)
    eventually(lambda: fake_catalog.stock("pulsa-25k") == 10)
    assert emails_of(service, placed.order.id) == ["order_created"]  # no "expired": it was cancelled


def test_the_consumer_catches_up_after_a_payment_service_outage(
    service: RunningService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    payments_server: FakeGrpcServer,
) -> None:
    placed = place(service)
    eventually(lambda: fake_payments.watchers == 1)
    payments_server.stop()
    fake_payments.pay(placed.payment.id)  # settled while the order service cannot hear it
    assert state_of(service, placed.order.id) == OrderState.PENDING_PAYMENT

    payments_server.start()

    eventually(lambda: state_of(service, placed.order.id) == OrderState.PAID, timeout=15)
    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )


def test_the_consumer_resumes_from_its_cursor_after_a_restart(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    service = start_service()
    first, second = place(service), place(service, ("pulsa-25k", 1))
    fake_payments.pay(first.payment.id)
    eventually(lambda: cursor_of(service) == len(fake_payments.events))
    service.stop()
    seen = len(fake_payments.events)
    fake_payments.pay(second.payment.id)  # while the order service is down

    service = start_service()

    eventually(lambda: state_of(service, second.order.id) == OrderState.PAID)
    streams = [int(after) for method, after in fake_payments.hooks.calls if method == "WatchPaymentEvents"]
    assert streams == [0, seen]  # the restarted consumer asked only for what it had not handled
    assert emails_of(service, first.order.id) == ["order_created", "payment_received"]
    assert emails_of(service, second.order.id) == ["order_created", "payment_received"]


def test_a_commit_waits_for_the_catalog_and_is_never_lost(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("pulsa-10k", 2))
    fake_catalog.hooks.keep = True
    fake_catalog.hooks.before["CommitReservation"] = outage
    fake_payments.pay(placed.payment.id)
    eventually(lambda: fake_catalog.hooks.count("CommitReservation") >= 3, message="the commit is retried")
    assert fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_RESERVED

    fake_catalog.hooks.before.clear()

    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )
    with service.database.connection_context():
        [task] = ReservationTask.select()
        eventually(lambda: ReservationTask.get_by_id(task.id).state == OutboxState.DONE)
        assert ReservationTask.get_by_id(task.id).attempts >= 1
    assert fake_catalog.stock("pulsa-10k") == 8


def sent_emails_in_order(service: RunningService, order_id: str) -> list[str]:
    """The kinds of the order's e-mails that went out, in the order they were queued."""
    with service.database.connection_context():
        return [
            email.kind
            for email in Email.select().where(Email.order == order_id).order_by(Email.id)
            if email.state == OutboxState.DONE
        ]


def test_an_order_paid_while_its_checkout_runs_still_gets_its_order_created_email_first(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    def paid_before_the_checkout_hears_back() -> None:
        # The shopper pays at once and the PAID event is applied before the answer to
        # CreatePayment reaches the checkout, which then finds its order PAID.
        [order_id] = [key for method, key in fake_payments.hooks.calls if method == "CreatePayment"]
        fake_payments.pay(fake_payments.payment_of(order_id).id)
        eventually(lambda: state_of(service, order_id) == OrderState.PAID)

    fake_payments.hooks.after["CreatePayment"] = paid_before_the_checkout_hears_back

    placed = place(service, ("pulsa-10k", 2))

    assert placed.order.state == order_pb2.ORDER_STATE_PAID
    assert placed.payment.id == fake_payments.payment_of(placed.order.id).id
    eventually(
        lambda: sent_emails_in_order(service, placed.order.id) == ["order_created", "payment_received"],
        message="both e-mails go out, 'order created' first",
    )
    assert emails_of(service, placed.order.id) == ["order_created", "payment_received"]  # once each
    [created] = sorted(service.mail_dir.glob("*-order_created.eml"))
    assert "8808123456789012" in created.read_text()  # the payment's instructions are in it
    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )


def test_one_of_several_processes_follows_the_events_and_a_stopped_one_hands_over_at_once(
    start_service: StartService, fake_payments: FakePayments
) -> None:
    """The consumer runs under a job lease (pasar_kit.leases): of two services on one database,
    one follows the payment events; a clean stop hands the lease over at once, and every event
    is handled once."""
    services = [start_service(), start_service()]
    eventually(lambda: fake_payments.watchers == 1)
    time.sleep(1.5)  # the other looks for a free lease every second: it never follows too
    assert fake_payments.watchers == 1
    first = place(services[0])
    fake_payments.pay(first.payment.id)
    eventually(lambda: cursor_of(services[0]) == len(fake_payments.events))
    # The consumer counts an event once its transaction (the cursor's advance) committed:
    # a test waits for the count, not for the cursor alone.
    eventually(lambda: sum(service.assembled.consumer.handled for service in services) == 1)
    (holder,) = [service for service in services if service.assembled.consumer.handled]
    (other,) = [service for service in services if service is not holder]

    holder.stop()
    second = place(other)
    fake_payments.pay(second.payment.id)
    eventually(lambda: state_of(other, second.order.id) == OrderState.PAID, timeout=5)
    assert fake_payments.watchers == 1
    eventually(
        lambda: holder.assembled.consumer.handled + other.assembled.consumer.handled == 2,
        message="each PAID event handled once (no CREATED event is sent)",
    )
    assert cursor_of(other) == len(fake_payments.events)
    assert emails_of(other, first.order.id) == ["order_created", "payment_received"]
    assert emails_of(other, second.order.id) == ["order_created", "payment_received"]


def test_the_consumer_is_sent_only_the_events_it_acts_on(
    service: RunningService, fake_payments: FakePayments
) -> None:
    """A CREATED event (one per checkout) changes no order: the consumer asks for the types
    it acts on, and the payment service does not send it."""
    service.assembled.consumer.passed_write_seconds = 0.2
    placed = place(service)
    eventually(lambda: cursor_of(service) == 1, timeout=5)  # told it was passed over
    assert service.assembled.consumer.handled == 0
    fake_payments.pay(placed.payment.id)
    eventually(lambda: cursor_of(service) == len(fake_payments.events) == 2)
    eventually(lambda: service.assembled.consumer.handled == 1, message="the PAID event only")


def test_a_created_payment_is_passed_by_and_the_cursor_moves_with_the_next_event(
    service: RunningService, fake_payments: FakePayments
) -> None:
    """From a payment service that streams every type, a CREATED event is passed by
    without a transaction, and the cursor moves past it with the next event it acts on."""
    fake_payments.streams_every_type = True
    service.assembled.consumer.passed_write_seconds = 60  # no timed write within the test
    placed = place(service)
    eventually(lambda: service.assembled.consumer.handled == 1)
    assert cursor_of(service) == 0, "no write for a payment created"
    fake_payments.pay(placed.payment.id)
    eventually(lambda: cursor_of(service) == len(fake_payments.events) == 2)
    eventually(lambda: service.assembled.consumer.handled == 2)


def test_the_cursor_moves_past_passed_events_a_moment_later_or_when_the_stream_ends(
    start_service: StartService, fake_payments: FakePayments
) -> None:
    """With no event after them, passed events are written a second later (the lag figures
    stay true: pasar_event_consumer_cursor), or when the stream ends, whichever comes first
    (from a payment service that streams every type)."""
    fake_payments.streams_every_type = True
    timed = start_service()
    place(timed)
    eventually(lambda: cursor_of(timed) == 1, timeout=5)
    timed.stop()
    ended = start_service(PASAR_EVENT_STREAM_SECONDS="1")
    ended.assembled.consumer.passed_write_seconds = 60
    place(ended)
    place(ended)
    eventually(lambda: cursor_of(ended) == len(fake_payments.events) == 3, timeout=5)
