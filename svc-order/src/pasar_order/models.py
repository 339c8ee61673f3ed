"""The order service's tables (peewee), bound at run time through ``database_proxy``.

An order row exists from the moment checkout starts: while it is CREATING (or ABORTING,
being undone) it is the saga's persisted intent, invisible to readers; once stock and
payment are in place it is a real order. E-mails and the remote reservation steps that
follow a state change are rows too (outboxes), written in the same transaction as the
change, so that they happen exactly when the change happened.
"""

from __future__ import annotations

import enum

import peewee

from pasar.payment.v1 import payment_pb2
from pasar_kit.fields import UtcDateTimeField

database_proxy = peewee.DatabaseProxy()


class OrderState(enum.StrEnum):
    """An order's state as stored: the names of ``OrderState`` without its prefix, and the
    two of a checkout in progress, which no reader sees."""

    CREATING = "CREATING"  # checkout is reserving stock and creating the payment
    ABORTING = "ABORTING"  # checkout failed; its steps are being undone, then the row goes
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


# A checkout in progress (the saga's persisted intent), and a real order.
CHECKOUT_STATES = (OrderState.CREATING, OrderState.ABORTING)
VISIBLE_STATES = (OrderState.PENDING_PAYMENT, OrderState.PAID, OrderState.CANCELLED, OrderState.EXPIRED)


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy


class Order(BaseModel):
    id = peewee.CharField(max_length=36, primary_key=True)
    # The client's idempotency key; cleared when a checkout is abandoned, so that a retry
    # starts afresh (NULLs do not collide in a unique index).
    request_id = peewee.CharField(max_length=128, null=True, unique=True)
    # What the request asked for (hash), to tell a retry from a reuse of its request_id.
    request_fingerprint = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=16)
    customer_email = peewee.CharField(max_length=254)
    language_code = peewee.CharField(max_length=2)
    payment_channel_code = peewee.CharField(max_length=32)
    currency_code = peewee.CharField(max_length=3)
    subtotal = peewee.BigIntegerField()
    fee = peewee.BigIntegerField(null=True)
    total = peewee.BigIntegerField(null=True)
    # Set once checkout has asked for the payment: undoing it must then cancel a payment.
    payment_requested = peewee.BooleanField(default=False)
    payment_id = peewee.CharField(max_length=36, null=True, unique=True)
    # The payment as CreatePayment returned it (serialized pasar.payment.v1.Payment): the
    # instructions the "order created" e-mail shows.
    payment_snapshot = peewee.BlobField(null=True)
    access_token_hash = peewee.CharField(max_length=64)
    # Who is working on a checkout in progress, and until when (see pasar_order.intents).
    lease_owner = peewee.CharField(max_length=32, null=True)
    lease_until = UtcDateTimeField(null=True)
    create_time = UtcDateTimeField()
    update_time = UtcDateTimeField()
    expire_time = UtcDateTimeField(null=True)
    paid_time = UtcDateTimeField(null=True)

    class Meta:
        table_name = "orders"
        indexes = ((("state", "expire_time"), False),)


class OrderLine(BaseModel):
    id = peewee.AutoField()
    order = peewee.ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    order_id: str
    position = peewee.IntegerField()
    package_id = peewee.CharField(max_length=63)
    package_display_name = peewee.CharField(max_length=120)
    product_id = peewee.CharField(max_length=63)
    product_display_name = peewee.CharField(max_length=120)
    unit_price = peewee.BigIntegerField()
    quantity = peewee.IntegerField()
    line_total = peewee.BigIntegerField()

    class Meta:
        table_name = "order_lines"
        indexes = ((("order", "package_id"), True),)


def lines_of(order: Order) -> list[OrderLine]:
    """The order's lines, in the order the shopper listed them."""
    return list(OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.position))


def stored_payment(order: Order) -> payment_pb2.Payment | None:
    """The payment the order keeps (Order.payment_snapshot), or None when it keeps none."""
    if not order.payment_snapshot:
        return None
    return payment_pb2.Payment.FromString(bytes(order.payment_snapshot))


class OutboxState(enum.StrEnum):
    """An outbox row's state as stored."""

    QUEUED = "QUEUED"
    DONE = "DONE"
    FAILED = "FAILED"  # gave up for good (a step the peer refuses forever); logged


class OutboxRow(BaseModel):
    """Work to do after a committed change, claimed with a lease and retried with backoff."""

    id = peewee.AutoField()
    state = peewee.CharField(max_length=8, default=OutboxState.QUEUED)
    attempts = peewee.IntegerField(default=0)
    next_attempt_time = UtcDateTimeField()
    # The claimant holding the row (pasar_order.claimants: host, process, start time).
    lease_owner = peewee.CharField(max_length=255, null=True)
    lease_until = UtcDateTimeField(null=True)
    last_error = peewee.CharField(max_length=500, null=True)
    create_time = UtcDateTimeField()
    done_time = UtcDateTimeField(null=True)


class EmailKind(enum.StrEnum):
    """Which e-mail an outbox row sends; also the name of its templates."""

    ORDER_CREATED = "order_created"
    PAYMENT_RECEIVED = "payment_received"


class Email(OutboxRow):
    """An e-mail to send about an order; at most one of each kind per order."""

    order = peewee.ForeignKeyField(Order, backref="emails", on_delete="CASCADE")
    order_id: str  # the foreign key's column, without loading the order
    kind = peewee.CharField(max_length=32)

    class Meta:
        table_name = "emails"
        indexes = (
            (("order", "kind"), True),
            (("state", "next_attempt_time"), False),
        )


class ReservationStep(enum.StrEnum):
    """Which step on the stock reservation a task makes."""

    COMMIT = "COMMIT"
    RELEASE = "RELEASE"


class ReservationTask(OutboxRow):
    """A step on the order's stock reservation at the catalog, retried until it is done."""

    order = peewee.ForeignKeyField(Order, backref="reservation_tasks", on_delete="CASCADE")
    order_id: str
    step = peewee.CharField(max_length=8)

    class Meta:
        table_name = "reservation_tasks"
        indexes = (
            (("order", "step"), True),
            (("state", "next_attempt_time"), False),
        )


class EventCursor(BaseModel):
    """How far a consumer has handled another service's event log."""

    name = peewee.CharField(max_length=64, primary_key=True)
    sequence = peewee.BigIntegerField(default=0)
    update_time = UtcDateTimeField()

    class Meta:
        table_name = "event_cursors"


ALL_MODELS = (Order, OrderLine, Email, ReservationTask, EventCursor)
