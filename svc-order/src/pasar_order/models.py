"""The order service's tables (peewee), bound at run time through ``database_proxy``.

An order row exists from the moment checkout starts: while it is CREATING (or ABORTING,
being undone) it is the saga's persisted intent, invisible to readers; once stock and
payment are in place it is a real order. E-mails and the remote reservation steps that
follow a state change are rows too (outboxes), written in the same transaction as the
change, so that they happen exactly when the change happened.

Once paid, each line is delivered by the fulfillment service (a FulfillmentTask asks for
it; the line keeps the fulfillment as its events tell it) and, when its delivery fails,
refunded (a RefundTask asks the payment service; the line keeps the refund).
"""

from __future__ import annotations

import enum
import json

import peewee

from pasar.fulfillment.v1 import fulfillment_pb2
from pasar.payment.v1 import payment_pb2
from pasar_kit.fields import UtcDateTimeField
from pasar_kit.prepared import PreparedQuery

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
    FULFILLED = "FULFILLED"  # every line delivered
    REFUNDED = (
        "REFUNDED"  # every line ended, and each failed one (and the fee, if none was delivered) refunded
    )


# A checkout in progress (the saga's persisted intent), and a real order.
CHECKOUT_STATES = (OrderState.CREATING, OrderState.ABORTING)
VISIBLE_STATES = (
    OrderState.PENDING_PAYMENT,
    OrderState.PAID,
    OrderState.CANCELLED,
    OrderState.EXPIRED,
    OrderState.FULFILLED,
    OrderState.REFUNDED,
)
# A paid order, delivered or not.
PAID_STATES = (OrderState.PAID, OrderState.FULFILLED, OrderState.REFUNDED)


class FulfillmentState(enum.StrEnum):
    """A line's fulfillment state as stored (``pasar.fulfillment.v1.FulfillmentState``)."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# A line whose delivery has ended, one way or the other.
ENDED_FULFILLMENT_STATES = (FulfillmentState.SUCCEEDED, FulfillmentState.FAILED)


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy


class TracedRow(BaseModel):
    """A row whose later work joins the trace that wrote it: the W3C trace context of the
    span current when it was written (pasar_kit.telemetry.trace_columns; empty when the
    writer was not traced), read back by stored_context for the span of that work."""

    # NOT NULL DEFAULT '' in the schema too (migration 006), so rows written before read as untraced.
    traceparent = peewee.CharField(max_length=55, default="", constraints=[peewee.SQL("DEFAULT ''")])
    tracestate = peewee.CharField(max_length=512, default="", constraints=[peewee.SQL("DEFAULT ''")])


class Order(TracedRow):
    """An order; its trace context is the checkout's, which its settlement and deliveries join."""

    id = peewee.CharField(max_length=36, primary_key=True)
    # The number people read out ("PSR-7K3M9Q", pasar_order.order_numbers), given with the
    # intent; unique. NULL never happens since migration 5 numbered the older orders.
    order_number = peewee.CharField(max_length=10, null=True, unique=True)
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
    # When every line had ended and the order became FULFILLED or REFUNDED.
    complete_time = UtcDateTimeField(null=True)
    # What went back to the payer once the order was REFUNDED (lines' and fee's refunds).
    refunded_total = peewee.BigIntegerField(null=True)
    # The refund of the fee (serialized pasar.payment.v1.Refund), when no line was delivered.
    fee_refund_snapshot = peewee.BlobField(null=True)

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
    # The catalog's English names at checkout; empty when it had none (older lines too).
    package_display_name_en = peewee.CharField(max_length=120, default="")
    product_display_name_en = peewee.CharField(max_length=120, default="")
    unit_price = peewee.BigIntegerField()
    quantity = peewee.IntegerField()
    line_total = peewee.BigIntegerField()
    # Where to deliver (JSON object of the product's field names to the shopper's values;
    # NULL for orders placed before destinations existed). Personal data: logs mask it.
    destination = peewee.TextField(null=True)
    # The package's pasar.product.v1.DeliveryKind at checkout (0: unknown, older orders).
    delivery_kind = peewee.IntegerField(default=0)
    # The line's fulfillment as its last event told it (serialized pasar.fulfillment.v1.Fulfillment).
    fulfillment_id = peewee.CharField(max_length=36, null=True)
    fulfillment_state = peewee.CharField(max_length=16, null=True)
    fulfillment_snapshot = peewee.BlobField(null=True)
    # The refund of a line whose delivery failed (serialized pasar.payment.v1.Refund).
    refund_snapshot = peewee.BlobField(null=True)

    class Meta:
        table_name = "order_lines"
        indexes = ((("order", "package_id"), True),)


def line_destination(line: OrderLine) -> dict[str, str]:
    """The line's destination (empty for a product without destination fields)."""
    if not line.destination:
        return {}
    value: dict[str, str] = json.loads(line.destination)
    return value


def stored_destination(destination: dict[str, str]) -> str | None:
    """A destination as OrderLine.destination keeps it (NULL when empty)."""
    return json.dumps(destination, sort_keys=True) if destination else None


def stored_fulfillment(line: OrderLine) -> fulfillment_pb2.Fulfillment | None:
    """The line's fulfillment as last recorded, or None before it was asked for."""
    if not line.fulfillment_snapshot:
        return None
    return fulfillment_pb2.Fulfillment.FromString(bytes(line.fulfillment_snapshot))


def stored_refund(snapshot: bytes | None) -> payment_pb2.Refund | None:
    """A refund kept as OrderLine.refund_snapshot or Order.fee_refund_snapshot."""
    if not snapshot:
        return None
    return payment_pb2.Refund.FromString(bytes(snapshot))


# Read for every e-mail the mail outbox sends, and every order answered: their SQL made once.
_ORDER_BY_ID = PreparedQuery(database_proxy, lambda key: Order.select().where(Order.id == key).limit(1))
# Looked for by every checkout (the client's idempotency key; usually none).
_ORDER_BY_REQUEST_ID = PreparedQuery(
    database_proxy, lambda key: Order.select().where(Order.request_id == key).limit(1)
)
_LINES_BY_ORDER_ID = PreparedQuery(
    database_proxy,
    lambda key: OrderLine.select().where(OrderLine.order == key).order_by(OrderLine.position),
)


def order_of_id(order_id: str) -> Order:
    """The order with this id (Order.get_by_id's answer); peewee.DoesNotExist if none."""
    order = _ORDER_BY_ID.first(Order, order_id)
    if order is None:
        raise peewee.DoesNotExist(f"no order {order_id!r}")
    return order


def order_of_request_id(request_id: str) -> Order | None:
    """The order placed with this request id (idempotency key), if any."""
    return _ORDER_BY_REQUEST_ID.first(Order, request_id)


def lines_of(order: Order) -> list[OrderLine]:
    """The order's lines, in the order the shopper listed them."""
    return lines_of_order_id(order.id)


def lines_of_order_id(order_id: str) -> list[OrderLine]:
    """The lines of the order with this id (none for an id no order has)."""
    return _LINES_BY_ORDER_ID.instances(OrderLine, order_id)


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


class OutboxRow(TracedRow):
    """Work to do after a committed change, claimed with a lease and retried with backoff;
    its trace context is the one of the change that queued it."""

    order_id: str  # every outbox row is about one order (its foreign key's column)

    id = peewee.AutoField()
    state = peewee.CharField(max_length=8, default=OutboxState.QUEUED)
    attempts = peewee.IntegerField(default=0)
    next_attempt_time = UtcDateTimeField()
    # The claimant holding the row (pasar_kit.claimants: host, process, start time).
    lease_owner = peewee.CharField(max_length=255, null=True)
    lease_until = UtcDateTimeField(null=True)
    last_error = peewee.CharField(max_length=500, null=True)
    create_time = UtcDateTimeField()
    done_time = UtcDateTimeField(null=True)


class EmailKind(enum.StrEnum):
    """Which e-mail an outbox row sends; also the name of its templates."""

    ORDER_CREATED = "order_created"
    PAYMENT_RECEIVED = "payment_received"
    DELIVERED = "delivered"
    REFUNDED = "refunded"
    EXPIRED = "expired"  # unpaid by its expire_time: queued with the change to EXPIRED


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


class FulfillmentTask(OutboxRow):
    """Asking the fulfillment service to deliver one line of a paid order, until it accepts."""

    order = peewee.ForeignKeyField(Order, backref="fulfillment_tasks", on_delete="CASCADE")
    order_id: str
    line = peewee.ForeignKeyField(OrderLine, unique=True, backref="fulfillment_tasks", on_delete="CASCADE")
    line_id: int

    class Meta:
        table_name = "fulfillment_tasks"
        indexes = ((("state", "next_attempt_time"), False),)


class RefundTask(OutboxRow):
    """Asking the payment service to give money back: a failed line's, or the fee."""

    order = peewee.ForeignKeyField(Order, backref="refund_tasks", on_delete="CASCADE")
    order_id: str
    # The line refunded; NULL for the fee.
    line = peewee.ForeignKeyField(OrderLine, null=True, backref="refund_tasks", on_delete="CASCADE")
    line_id: int | None
    # RefundPayment's idempotency key: the failed fulfillment's id, or "<order id>:fee".
    request_id = peewee.CharField(max_length=128, unique=True)
    amount = peewee.BigIntegerField()

    class Meta:
        table_name = "refund_tasks"
        indexes = ((("state", "next_attempt_time"), False),)


class EventCursor(BaseModel):
    """How far a consumer has handled another service's event log."""

    name = peewee.CharField(max_length=64, primary_key=True)
    sequence = peewee.BigIntegerField(default=0)
    update_time = UtcDateTimeField()

    class Meta:
        table_name = "event_cursors"


class OrderLookupFailures(BaseModel):
    """Failed LookupOrder calls of one order number (known or not) in its current window
    (pasar_order.lookups); in the database, so that every instance counts the same."""

    order_number = peewee.CharField(max_length=10, primary_key=True)
    failures = peewee.IntegerField(default=0)
    window_start = UtcDateTimeField(index=True)  # the sweeper deletes passed windows by it

    class Meta:
        table_name = "order_lookup_failures"


ALL_MODELS = (
    Order,
    OrderLine,
    Email,
    ReservationTask,
    FulfillmentTask,
    RefundTask,
    EventCursor,
    OrderLookupFailures,
)
