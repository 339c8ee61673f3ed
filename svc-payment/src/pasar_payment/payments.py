"""Payments for orders: opened through the provider, read, and cancelled.

One payment per order: the order id is the idempotency key of CreatePayment, so a
retried call (a timeout, a restarted order service) gets the payment it already made,
never a second one. Every change records its event in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import peewee

from pasar.payment.v1 import payment_pb2
from pasar_kit.ids import new_id
from pasar_kit.money import CURRENCY_CODE
from pasar_kit.prepared import LockedRow, PreparedQuery, insert_of
from pasar_kit.telemetry import current_trace_context, trace_columns
from pasar_kit.timestamps import utc_now
from pasar_payment import reasons
from pasar_payment.channels import PaymentWindows, check_channel_accepts, find_channel
from pasar_payment.events import EventFeed, payment_change, record_event
from pasar_payment.fees import channel_fee
from pasar_payment.messages import instructions_kind_matches, instructions_to_json, payment_message
from pasar_payment.models import ChannelKind, EventType, Payment, PaymentState, database_proxy
from pasar_payment.phone_numbers import national_number
from pasar_payment.providers.base import PaymentOrder, PaymentProvider, payment_code

log = logging.getLogger(__name__)

# How many times a payment is opened again when the provider's payment code collides
# with another payment's (a random 11-digit number: practically never).
OPEN_ATTEMPTS = 3
# The states of a payment whose money arrived: PAID, and REFUNDED (paid, then given back).
WAS_PAID = frozenset({PaymentState.PAID, PaymentState.REFUNDED})

# Every checkout asks for the order's payment and makes one: their SQL built once (pasar_kit.prepared).
_PAYMENT_OF_ORDER = PreparedQuery(
    database_proxy, lambda order_id: Payment.select().where(Payment.order_id == order_id).limit(1)
)
_PAYMENT_COLUMNS = (
    "id",
    "order_id",
    "channel",
    "channel_kind",
    "state",
    "currency_code",
    "amount",
    "fee",
    "total",
    "provider",
    "provider_reference",
    "payment_code",
    "instructions",
    "create_time",
    "expire_time",
    "update_time",
    "traceparent",
    "tracestate",
)
_INSERT_PAYMENT = insert_of(database_proxy, Payment, _PAYMENT_COLUMNS)


def get_payment(payment_id: str) -> Payment:
    payment: Payment | None = Payment.get_or_none(Payment.id == payment_id)
    if payment is None:
        raise reasons.payment_not_found(payment_id)
    return payment


def find_payment_of_order(order_id: str) -> Payment | None:
    """The payment CreatePayment made for order_id, if any; looking creates nothing."""
    return _PAYMENT_OF_ORDER.first(Payment, order_id)


class PaymentBook:
    """Opens and cancels payments; database and provider are the service's own, windows
    the time to pay each channel gives (the one ListPaymentChannels reports)."""

    def __init__(
        self,
        database: peewee.Database,
        provider: PaymentProvider,
        feed: EventFeed,
        windows: PaymentWindows,
    ) -> None:
        self.database = database
        self.provider = provider
        self.feed = feed
        self.windows = windows

    def create_payment(
        self,
        *,
        order_id: str,
        channel_code: str,
        amount: int,
        description: str,
        customer_email: str,
        payer_phone_number: str = "",
    ) -> payment_pb2.Payment:
        """The order's payment (amount in whole rupiah), as its message: the existing one on a
        retry, else a new pending one (the message its CREATED event keeps, made once).

        A retry answers the first payment whatever its description, e-mail or phone number
        say (only another channel or amount is a conflict): the payment request already went
        where the first call said. The phone number is used only by a channel that
        requires one (ignored otherwise), and kept only as the instructions show it, masked.
        """
        existing = _existing_payment(order_id, channel_code, amount)
        if existing is not None:
            return payment_message(existing)
        channel = find_channel(channel_code)
        check_channel_accepts(channel, amount, payer_phone_number)
        fee = channel_fee(amount, channel.flat_fee, channel.percent_fee_bps)
        now = utc_now()
        order = PaymentOrder(
            payment_id=new_id("pay"),
            order_id=order_id,
            channel_code=channel.code,
            channel_kind=ChannelKind(channel.kind),
            issuer_name=channel.issuer_name,
            total=amount + fee,
            currency_code=CURRENCY_CODE,
            expire_time=now + timedelta(seconds=self.windows.seconds(channel)),
            description=description,
            customer_email=customer_email,
            payer_phone_number=national_number(payer_phone_number) if channel.requires_phone_number else "",
        )
        for _ in range(OPEN_ATTEMPTS):
            # The provider is called outside any transaction: no lock waits on the network.
            opened = self.provider.open_payment(order)
            if not instructions_kind_matches(order.channel_kind, opened.instructions):
                raise RuntimeError(
                    f"{self.provider.name} gave instructions of another kind than {channel.kind}"
                )
            try:
                row = {
                    "id": order.payment_id,
                    "order_id": order_id,
                    "channel": channel.code,
                    "channel_kind": channel.kind,
                    "state": PaymentState.PENDING.value,
                    "currency_code": CURRENCY_CODE,
                    "amount": amount,
                    "fee": fee,
                    "total": order.total,
                    "provider": self.provider.name,
                    "provider_reference": opened.provider_reference,
                    "payment_code": payment_code(opened.instructions),
                    "instructions": instructions_to_json(opened.instructions),
                    "create_time": now,
                    "expire_time": order.expire_time,
                    "update_time": now,
                    # The checkout's context: the expiry sweep's span for this payment
                    # joins the checkout's trace through it.
                    **trace_columns(current_trace_context()),
                }
                payment = Payment(**row)
                message = payment_message(payment, opened.instructions)
                with payment_change(self.database, self.feed):
                    _INSERT_PAYMENT.execute(row)
                    record_event(EventType.CREATED, payment, message=message)
            except peewee.IntegrityError:
                # Either a concurrent call made the order's payment first, or the payment
                # code is taken: the first is answered like a retry, the second tried again.
                existing = _existing_payment(order_id, channel_code, amount)
                if existing is not None:
                    return payment_message(existing)
                log.warning("payment code already taken; opening again", extra={"channel": channel.code})
                continue
            log.info(
                "payment created",
                extra={"payment_id": payment.id, "order_id": order_id, "channel": channel.code},
            )
            return message
        raise reasons.payment_code_taken()

    def cancel_payment(self, payment_id: str) -> Payment:
        """Cancels a pending payment; a cancelled or expired one is returned unchanged, a paid
        one (refunded since, too) is PAYMENT_PAID."""
        with payment_change(self.database, self.feed):
            payment = locked_payment(payment_id)
            cancelled = payment is not None and payment.state == PaymentState.PENDING
            if cancelled:
                payment = change_locked_payment(payment_id, state=PaymentState.CANCELLED.value)
                record_event(EventType.CANCELLED, payment)
        if payment is None:
            raise reasons.payment_not_found(payment_id)
        if payment.state in WAS_PAID:
            raise reasons.payment_paid(payment)
        if cancelled:
            log.info("payment cancelled", extra={"payment_id": payment_id})
        return payment


_LOCKED_PAYMENT = LockedRow(database_proxy, Payment)


def locked_payment(payment_id: str) -> Payment | None:
    """The payment, its row locked until the transaction ends; every change of a payment
    takes this lock first, in a payment_change transaction, and then writes by key
    (change_locked_payment). A conditional UPDATE of the id and the state was planned by
    MariaDB through the (state, expire_time) index (pasar_kit.prepared.LockedRow says why
    that deadlocks): one of twenty concurrent notifications of one payment died so."""
    return _LOCKED_PAYMENT(payment_id)


def change_locked_payment(payment_id: str, **changes: object) -> Payment:
    """Writes changes (and a new update_time) to a payment locked_payment locked; the
    payment as stored now."""
    Payment.update(update_time=utc_now(), **changes).where(Payment.id == payment_id).execute()
    payment: Payment = Payment.get_by_id(payment_id)
    return payment


def _existing_payment(order_id: str, channel_code: str, amount: int) -> Payment | None:
    """The order's payment if it has one; ALREADY_EXISTS if it was made on other terms.

    Its SQL built once: none is the usual case, and every new checkout asks."""
    payment = find_payment_of_order(order_id)
    if payment is None:
        return None
    if payment.channel_code != channel_code or payment.amount != amount:
        raise reasons.payment_conflict(order_id, payment)
    return payment
