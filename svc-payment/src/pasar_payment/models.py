"""The payment service's tables, bound at run time through ``database_proxy``.

Amounts are whole rupiah in integer columns; times are aware UTC datetimes, stored as
naive UTC with microseconds. The schema itself is created by the migrations in
``migrations/``; these classes must describe the same tables.
"""

from __future__ import annotations

import enum

import peewee

from pasar_kit.fields import UtcDateTimeField

database_proxy = peewee.DatabaseProxy()


class ChannelKind(enum.StrEnum):
    """How a channel is paid; the names of ``PaymentChannelKind`` without its prefix."""

    VIRTUAL_ACCOUNT = "VIRTUAL_ACCOUNT"
    QRIS = "QRIS"
    EWALLET = "EWALLET"
    RETAIL_OUTLET = "RETAIL_OUTLET"


class PaymentState(enum.StrEnum):
    """A payment's state; the names of ``PaymentState`` without its prefix."""

    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    # Paid, then refunded in full; a payment refunded in part stays PAID.
    REFUNDED = "REFUNDED"


class RefundState(enum.StrEnum):
    """A refund's state; the names of ``RefundState`` without its prefix."""

    # The provider accepted the refund and will confirm it later (no provider of this
    # build does: the sandbox refunds at once).
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"


class EventType(enum.StrEnum):
    """What happened to a payment; the names of ``PaymentEventType`` without its prefix."""

    CREATED = "CREATED"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


def traceparent_field() -> peewee.CharField:
    """A W3C traceparent (55 characters in version 00); "" when the writer was not traced."""
    return peewee.CharField(max_length=55, default="", constraints=[peewee.SQL("DEFAULT ''")])


def tracestate_field() -> peewee.CharField:
    """A W3C tracestate, within the 512 characters the specification asks every vendor to keep."""
    return peewee.CharField(max_length=512, default="", constraints=[peewee.SQL("DEFAULT ''")])


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy


class PaymentChannel(BaseModel):
    """A way to pay, with its fee and limits; reference data seeded by a migration."""

    code = peewee.CharField(max_length=32, primary_key=True)
    display_name = peewee.CharField(max_length=64)
    kind = peewee.CharField(max_length=16)
    # The bank, wallet or store chain behind the channel, as instructions name it ("BCA").
    issuer_name = peewee.CharField(max_length=32)
    flat_fee = peewee.BigIntegerField()
    percent_fee_bps = peewee.IntegerField()
    min_amount = peewee.BigIntegerField()
    max_amount = peewee.BigIntegerField()
    payment_ttl_seconds = peewee.IntegerField()
    enabled = peewee.BooleanField()
    sort_order = peewee.IntegerField()
    logo_url = peewee.CharField(max_length=255)
    # The channel pushes the payment request to the wallet registered to a phone number
    # (OVO, DANA): CreatePayment needs the payer's (migration 005).
    requires_phone_number = peewee.BooleanField(default=False)

    class Meta:
        table_name = "payment_channel"
        indexes = ((("enabled", "sort_order", "code"), False),)


class Payment(BaseModel):
    """A request for money for one order through one channel."""

    id = peewee.CharField(max_length=36, primary_key=True)
    order_id = peewee.CharField(max_length=64, unique=True)
    channel = peewee.ForeignKeyField(PaymentChannel, column_name="channel_code", on_delete="RESTRICT")
    channel_code: str  # the channel's code without loading the channel (peewee's accessor)
    channel_kind = peewee.CharField(max_length=16)
    state = peewee.CharField(max_length=16)
    currency_code = peewee.CharField(max_length=3)
    amount = peewee.BigIntegerField()
    fee = peewee.BigIntegerField()
    total = peewee.BigIntegerField()
    provider = peewee.CharField(max_length=32)
    provider_reference = peewee.CharField(max_length=64)
    # The number the shopper types or tells (virtual account number, store payment code);
    # unique per channel so that no two payments can be confused. Null for QR and links.
    payment_code = peewee.CharField(max_length=32, null=True)
    # The instructions message of the channel's kind, in protobuf JSON.
    instructions = peewee.TextField()
    create_time = UtcDateTimeField()
    expire_time = UtcDateTimeField()
    paid_time = UtcDateTimeField(null=True)
    update_time = UtcDateTimeField()
    # The provider's id of the notification that settled the payment.
    settlement_id = peewee.CharField(max_length=64, null=True)
    # The sum of the payment's refunds, kept beside the total so that the check of what
    # is left to refund reads the row it locks (pasar_payment.refunds).
    refunded_total = peewee.BigIntegerField(default=0)
    # The trace context of CreatePayment's span (W3C; "" when untraced, migration 006): the
    # expiry sweep's span for this payment joins the checkout's trace through it.
    traceparent = traceparent_field()
    tracestate = tracestate_field()

    class Meta:
        table_name = "payment"
        indexes = (
            (("provider", "provider_reference"), True),
            (("channel", "payment_code"), True),
            (("state", "expire_time"), False),
        )


class Refund(BaseModel):
    """Money of a paid payment given back to the payer, through the payment's provider."""

    id = peewee.CharField(max_length=36, primary_key=True)
    payment = peewee.ForeignKeyField(Payment, column_name="payment_id", on_delete="RESTRICT")
    payment_id: str  # the payment's id without loading the payment (peewee's accessor)
    # The caller's idempotency key, unique across payments; compared byte for byte (the
    # binary collation on MySQL/MariaDB, migration 004), as the contract allows both cases.
    request_id = peewee.CharField(max_length=128, unique=True)
    currency_code = peewee.CharField(max_length=3)
    amount = peewee.BigIntegerField()
    reason = peewee.CharField(max_length=200)
    state = peewee.CharField(max_length=16)
    provider_reference = peewee.CharField(max_length=64)
    create_time = UtcDateTimeField()
    complete_time = UtcDateTimeField(null=True)

    class Meta:
        table_name = "refund"


class PaymentEvent(BaseModel):
    """One entry of the payment event log, in the order consumers read it.

    ``sequence`` is allocated from :class:`PaymentEventCounter` inside the transaction
    that changes the payment, so events become visible in sequence order (see
    :mod:`pasar_payment.events`).
    """

    sequence = peewee.BigIntegerField(primary_key=True)
    type = peewee.CharField(max_length=16)
    payment_id = peewee.CharField(max_length=36, index=True)
    # The serialized pasar.payment.v1.Payment right after the change.
    payment = peewee.BlobField()
    # The serialized pasar.payment.v1.Refund a REFUNDED event tells of; null for the others.
    refund = peewee.BlobField(null=True)
    create_time = UtcDateTimeField()
    # The trace context of the call that caused the event ("" when untraced, migration 006);
    # WatchPaymentEvents hands it on as PaymentEvent.trace_context.
    traceparent = traceparent_field()
    tracestate = tracestate_field()

    class Meta:
        table_name = "payment_event"


class PaymentEventCounter(BaseModel):
    """The single row holding the last sequence given to a payment event."""

    id = peewee.IntegerField(primary_key=True)
    last_sequence = peewee.BigIntegerField()

    class Meta:
        table_name = "payment_event_counter"


COUNTER_ID = 1
MODELS = (PaymentChannel, Payment, Refund, PaymentEvent, PaymentEventCounter)
