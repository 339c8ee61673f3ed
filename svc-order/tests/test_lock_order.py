"""Every change of an order, an outbox row or a count of failed look-ups takes the row's
lock by primary key first.

A conditional UPDATE or DELETE (the id and a state, or a window's start) is planned by
MariaDB, on a table with few rows in that state, as a range of the (state, expire_time),
(state, next_attempt_time) or window_start index: it locks the index entry, then the row,
the opposite order to a writer that holds the row and changes the entry (a state change,
a new window), and one of the two dies in a deadlock. Each case below holds the row with
SELECT ... LOCK IN SHARE MODE, starts the writer in a thread and reads what the writer
had locked when it came to wait: 1 (the row it waits for) when it locks the row first, 2
when it locked an index entry before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee
import pytest

from pasar.common.v1 import money_pb2
from pasar.payment.v1 import payment_pb2
from pasar_kit import database as db
from pasar_kit.background import Doorbell
from pasar_kit.errors import NotFound
from pasar_kit.ids import new_id
from pasar_kit.timestamps import to_timestamp, utc_now
from pasar_order import intents, orders
from pasar_order.config import LookupSettings
from pasar_order.lookups import OrderLookup
from pasar_order.models import Email, EmailKind, Order, OrderLookupFailures, OrderState
from pasar_order.peers import Peers
from pasar_order.settlement import Doorbells, OrderSettler
from pasar_order.work_queue import Backoff, WorkQueue
from pasar_testkit.mariadb import MariaDBServer

WORKER = "worker"
LEASE = timedelta(seconds=30)


def an_order(state: OrderState, *, lease_until_in: timedelta | None = None) -> str:
    """A stored order in state (the only one of the table), its lease held by WORKER until
    lease_until_in from now; its id."""
    now = utc_now()
    order_id = new_id("ord")
    Order.insert(
        id=order_id,
        order_number="PSR-" + order_id[-6:].upper(),
        request_id=new_id("req"),
        request_fingerprint="0" * 64,
        state=state,
        customer_email="shopper@example.com",
        language_code="id",
        payment_channel_code="gopay",
        currency_code="IDR",
        subtotal=10_500,
        payment_id=None if state in (OrderState.CREATING, OrderState.ABORTING) else new_id("pay"),
        access_token_hash="0" * 64,
        lease_owner=WORKER if lease_until_in is not None else None,
        lease_until=now + lease_until_in if lease_until_in is not None else None,
        create_time=now,
        update_time=now,
        expire_time=None if state == OrderState.CREATING else now + timedelta(hours=1),
    ).execute()
    return order_id


def a_payment(order_id: str) -> payment_pb2.Payment:
    rupiah = money_pb2.Money(currency_code="IDR", amount=1_000)
    return payment_pb2.Payment(
        id=new_id("pay"),
        order_id=order_id,
        fee=rupiah,
        total=rupiah,
        expire_time=to_timestamp(utc_now() + timedelta(hours=1)),
    )


@dataclass
class Change:
    """A write, and the row (model and id) it changes."""

    model: type[peewee.Model]
    row_id: object
    write: Callable[[], bool]


def in_transaction(database: peewee.Database, write: Callable[[], bool]) -> Callable[[], bool]:
    def run() -> bool:
        with db.atomic_write(database):
            return write()

    return run


def close(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.PENDING_PAYMENT)
    write = in_transaction(database, lambda: orders.mark_closed(order_id, OrderState.EXPIRED, utc_now()))
    return Change(Order, order_id, write)


def close_on_the_payments_event(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.PENDING_PAYMENT)
    payment_id = Order.get_by_id(order_id).payment_id
    return Change(
        Order,
        order_id,
        in_transaction(
            database,
            lambda: orders.mark_closed(order_id, OrderState.CANCELLED, utc_now(), payment_id=payment_id),
        ),
    )


def pay(database: peewee.Database) -> Change:
    """Planned by primary key already (its IN list of states); kept here so that it stays so."""
    order_id = an_order(OrderState.CREATING, lease_until_in=LEASE)  # paid during its checkout
    return Change(
        Order,
        order_id,
        in_transaction(database, lambda: orders.mark_paid(order_id, a_payment(order_id), utc_now())),
    )


def take_over_a_stale_checkout(database: peewee.Database) -> Change:
    """Planned by primary key already (its IN list of states); kept here so that it stays so."""
    order_id = an_order(OrderState.CREATING, lease_until_in=-LEASE)
    return Change(Order, order_id, lambda: intents.take_over_stale(order_id, "sweeper", LEASE))


def note_the_payment_requested(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.CREATING, lease_until_in=LEASE)
    return Change(Order, order_id, lambda: intents.note_payment_requested(order_id, WORKER))


def complete(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.CREATING, lease_until_in=LEASE)
    order = Order.get_by_id(order_id)
    latest = utc_now() + timedelta(hours=2)
    return Change(
        Order, order_id, lambda: intents.complete(order, WORKER, a_payment(order_id), latest, database)
    )


def abandon(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.CREATING, lease_until_in=LEASE)
    return Change(Order, order_id, lambda: intents.abandon(order_id, WORKER, LEASE))


def claim(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.CREATING, lease_until_in=-LEASE)
    return Change(Order, order_id, lambda: intents.claim(order_id, "retry", LEASE))


def undo(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.ABORTING, lease_until_in=LEASE)
    doorbells = Doorbells(Doorbell(), Doorbell(), Doorbell(), Doorbell())
    # Never called: this undo has no stock to release and no payment to cancel.
    peers = Peers("127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", timeout=1)
    compensation = intents.Compensation(database, peers, OrderSettler(database, peers, doorbells))
    return Change(
        Order,
        order_id,
        lambda: compensation.undo(order_id, WORKER, stock_may_be_held=False, payment_may_exist=False),
    )


def claim_an_outbox_row(database: peewee.Database) -> Change:
    order_id = an_order(OrderState.PENDING_PAYMENT)
    now = utc_now()
    email_id = Email.insert(
        order=order_id, kind=EmailKind.ORDER_CREATED, next_attempt_time=now, create_time=now
    ).execute()
    queue = WorkQueue(Email, Backoff(1, 1))
    return Change(Email, email_id, lambda: len(queue.claim_due(5)) == 1)


def a_count(window_start: datetime) -> str:
    """A count of failed look-ups of a number (the only one of the table); the number."""
    number = "PSR-" + new_id("n")[-6:].upper()
    OrderLookupFailures.insert(order_number=number, failures=1, window_start=window_start).execute()
    return number


def count_a_failed_lookup(database: peewee.Database) -> Change:
    number = a_count(utc_now() - timedelta(seconds=10))
    lookup = OrderLookup(database, LookupSettings(), "secret")

    def write() -> bool:
        with pytest.raises(NotFound):
            lookup.lookup(number, "shopper@example.com")
        return bool(OrderLookupFailures.get_by_id(number).failures == 2)

    return Change(OrderLookupFailures, number, write)


def take_a_failure_back(database: peewee.Database) -> Change:
    window_start = utc_now() - timedelta(seconds=10)
    number = a_count(window_start)
    lookup = OrderLookup(database, LookupSettings(), "secret")

    def write() -> bool:
        lookup._take_back_failure(number, window_start)  # what a look-up that matched does last
        return bool(OrderLookupFailures.get_by_id(number).failures == 0)

    return Change(OrderLookupFailures, number, write)


def forget_a_passed_window(database: peewee.Database) -> Change:
    settings = LookupSettings()
    number = a_count(utc_now() - timedelta(seconds=settings.window_seconds + 10))
    lookup = OrderLookup(database, settings, "secret")
    return Change(OrderLookupFailures, number, lambda: lookup.forget_passed_windows() == 1)


CHANGES: dict[str, Callable[[peewee.Database], Change]] = {
    "pay": pay,
    "take over a stale checkout": take_over_a_stale_checkout,
    "close": close,
    "close on the payment's event": close_on_the_payments_event,
    "note the payment requested": note_the_payment_requested,
    "complete": complete,
    "abandon": abandon,
    "claim": claim,
    "undo": undo,
    "claim an outbox row": claim_an_outbox_row,
    "count a failed look-up": count_a_failed_lookup,
    "take a failure back": take_a_failure_back,
    "forget a passed window": forget_a_passed_window,
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_locks_nothing_before_its_row(
    database: peewee.Database, name: str, request: pytest.FixtureRequest
) -> None:
    """Copies of one checkout sent at once claim its intent while its worker completes it;
    the sweeper and the payment events close the same order; dispatchers of two
    instances claim and finish one outbox row: each pair deadlocked when one of them
    locked an index entry before the row."""
    if not db.is_mysql(database):
        pytest.skip("SQLite has no row locks: atomic_write lets one writer in at a time")
    server: MariaDBServer = request.getfixturevalue("mariadb")
    with database.connection_context():
        change = CHANGES[name](database)
    outcome: list[bool] = []

    def write() -> None:
        with database.connection_context():
            outcome.append(change.write())

    def hold() -> None:
        # Shared: a look-up's first statement (its count's INSERT IGNORE) goes by, and its
        # count's change comes to wait; every other writer waits at its first lock.
        model = change.model
        key = model._meta.primary_key
        assert isinstance(key, peewee.Field)
        held = database.execute_sql(
            f"SELECT 1 FROM {model._meta.table_name} WHERE {key.column_name} = %s LOCK IN SHARE MODE",
            (change.row_id,),
        )
        assert held.fetchall()

    rows_locked = server.rows_locked_by_a_writer_kept_waiting(database, hold, write)
    # The row it waits for counts as locked; a statement planned through the index had 2.
    assert rows_locked == 1, "the writer locked an index entry before it came to wait for the row"
    assert outcome == [True]  # and, once the row was free, it made its change


def test_a_change_still_makes_only_the_changes_its_conditions_allow(database: peewee.Database) -> None:
    """Deciding on the locked row answers as the conditional statements did: a closed
    order is not closed again, a lease held by another is not taken, an intent that is no
    longer this worker's is neither completed nor undone."""
    with database.connection_context():
        paid = an_order(OrderState.PAID)
        with db.atomic_write(database):
            assert not orders.mark_closed(paid, OrderState.EXPIRED, utc_now())
        pending = an_order(OrderState.PENDING_PAYMENT)
        with db.atomic_write(database):
            assert not orders.mark_closed(pending, OrderState.CANCELLED, utc_now(), payment_id="pay_other")
        assert Order.get_by_id(pending).state == OrderState.PENDING_PAYMENT

        held = an_order(OrderState.CREATING, lease_until_in=LEASE)
        assert not intents.claim(held, "retry", LEASE)  # the lease has not run out
        assert not intents.note_payment_requested(held, "someone else")
        assert not intents.abandon(held, "someone else", LEASE)
        order = Order.get_by_id(held)
        assert not intents.complete(order, "someone else", a_payment(held), utc_now(), database)
        stored = Order.get_by_id(held)
        assert (stored.state, stored.lease_owner, stored.payment_requested) == (
            OrderState.CREATING,
            WORKER,
            False,
        )
        assert intents.note_payment_requested(held, WORKER)
        assert Order.get_by_id(held).payment_requested
        assert not intents.claim(an_order(OrderState.PENDING_PAYMENT), "retry", LEASE)
        assert intents.claim(an_order(OrderState.CREATING), "retry", LEASE)  # no lease at all

        settings = LookupSettings(max_failures=5, window_seconds=60)
        lookup = OrderLookup(database, settings, "secret")
        now = utc_now()
        passed, current = a_count(now - timedelta(seconds=61)), a_count(now - timedelta(seconds=59))
        assert lookup._count_failure(passed, now) == (1, now)  # a new window
        assert lookup._count_failure(current, now) == (2, now - timedelta(seconds=59))
        lookup._take_back_failure(current, now)  # not its window: nothing taken back
        lookup._take_back_failure(current, now - timedelta(seconds=59))
        assert OrderLookupFailures.get_by_id(current).failures == 1
        stale = a_count(now - timedelta(seconds=120))
        assert lookup.forget_passed_windows() == 1
        assert {row.order_number for row in OrderLookupFailures.select()} == {passed, current}
        assert stale not in {row.order_number for row in OrderLookupFailures.select()}
