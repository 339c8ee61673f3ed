"""Rows to protobuf messages and request fields to row values: how the service's records
look on the wire. Every mapping between the two lives here; the servicer only calls it.

Instructions are stored as the protobuf JSON of the message of the payment's channel
kind, so that a payment read back is exactly the one that was returned when it was made.
Every Payment message carries the payment's refunds and refunded_total (zero when none).
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import duration_pb2, json_format

from pasar.payment.v1 import payment_pb2
from pasar.payment.v1 import payment_service_pb2 as service
from pasar_kit.money import rupiah, rupiah_amount
from pasar_kit.telemetry import stored_trace_context
from pasar_kit.timestamps import to_timestamp
from pasar_payment.models import (
    ChannelKind,
    EventType,
    Payment,
    PaymentChannel,
    PaymentEvent,
    PaymentState,
    Refund,
    RefundState,
)
from pasar_payment.providers.base import Instructions

_INSTRUCTIONS: dict[ChannelKind, type[Instructions]] = {
    ChannelKind.VIRTUAL_ACCOUNT: payment_pb2.VirtualAccountInstructions,
    ChannelKind.QRIS: payment_pb2.QrisInstructions,
    ChannelKind.EWALLET: payment_pb2.EwalletInstructions,
    ChannelKind.RETAIL_OUTLET: payment_pb2.RetailOutletInstructions,
}
# The oneof field of Payment that holds each kind's instructions.
_INSTRUCTIONS_FIELD = {
    ChannelKind.VIRTUAL_ACCOUNT: "virtual_account",
    ChannelKind.QRIS: "qris",
    ChannelKind.EWALLET: "ewallet",
    ChannelKind.RETAIL_OUTLET: "retail_outlet",
}


def order_amount(request: service.CreatePaymentRequest) -> int:
    """The order amount of CreatePayment in whole rupiah; INVALID_ARGUMENT naming
    amount.currency_code for any other currency."""
    return rupiah_amount(request.amount, "amount")


def refund_amount(request: service.RefundPaymentRequest) -> int:
    """The amount of RefundPayment in whole rupiah; INVALID_ARGUMENT naming
    amount.currency_code for any other currency (every payment is in rupiah)."""
    return rupiah_amount(request.amount, "amount")


def channel_kind_value(kind: str) -> payment_pb2.PaymentChannelKind.ValueType:
    return payment_pb2.PaymentChannelKind.Value(f"PAYMENT_CHANNEL_KIND_{kind}")


def payment_state_value(state: PaymentState) -> payment_pb2.PaymentState.ValueType:
    """The contract's value of a stored state (PAID is ``PAYMENT_STATE_PAID``)."""
    return payment_pb2.PaymentState.Value(f"PAYMENT_STATE_{state}")


def payment_state_name(state: PaymentState) -> str:
    """The state as the contract names it, for error metadata (``PAYMENT_STATE_PAID``)."""
    return payment_pb2.PaymentState.Name(payment_state_value(state))


def refund_state_value(state: RefundState) -> payment_pb2.RefundState.ValueType:
    return payment_pb2.RefundState.Value(f"REFUND_STATE_{state}")


def instructions_kind_matches(kind: ChannelKind, instructions: Instructions) -> bool:
    return isinstance(instructions, _INSTRUCTIONS[kind])


def instructions_to_json(instructions: Instructions) -> str:
    return json_format.MessageToJson(instructions, indent=None, sort_keys=True)


def instructions_from_json(kind: ChannelKind, text: str) -> Instructions:
    return json_format.Parse(text, _INSTRUCTIONS[kind]())


def channel_message(channel: PaymentChannel, payment_ttl_seconds: int) -> payment_pb2.PaymentChannel:
    """The channel as listed, with the time to pay its payments get (PaymentWindows)."""
    return payment_pb2.PaymentChannel(
        code=channel.code,
        display_name=channel.display_name,
        kind=channel_kind_value(channel.kind),
        flat_fee=rupiah(channel.flat_fee),
        percent_fee_bps=channel.percent_fee_bps,
        min_amount=rupiah(channel.min_amount),
        max_amount=rupiah(channel.max_amount),
        payment_ttl=duration_pb2.Duration(seconds=payment_ttl_seconds),
        enabled=channel.enabled,
        sort_order=channel.sort_order,
        logo_url=channel.logo_url,
        requires_phone_number=channel.requires_phone_number,
    )


def payment_message(payment: Payment, instructions: Instructions | None = None) -> payment_pb2.Payment:
    """The payment's message; instructions: its instructions as the provider gave them, when
    the caller has them (a payment just made), instead of parsing the JSON they were stored as."""
    kind = ChannelKind(payment.channel_kind)
    message = payment_pb2.Payment(
        id=payment.id,
        order_id=payment.order_id,
        channel_code=payment.channel_code,
        channel_kind=channel_kind_value(kind),
        state=payment_state_value(PaymentState(payment.state)),
        amount=rupiah(payment.amount),
        fee=rupiah(payment.fee),
        total=rupiah(payment.total),
        provider=payment.provider,
        provider_reference=payment.provider_reference,
        create_time=to_timestamp(payment.create_time),
        expire_time=to_timestamp(payment.expire_time),
        paid_time=to_timestamp(payment.paid_time),
        update_time=to_timestamp(payment.update_time),
        refunds=[refund_message(refund) for refund in _refunds_of(payment)],
        refunded_total=rupiah(payment.refunded_total),
    )
    if instructions is None:
        instructions = instructions_from_json(kind, payment.instructions)
    getattr(message, _INSTRUCTIONS_FIELD[kind]).CopyFrom(instructions)
    return message


def _refunds_of(payment: Payment) -> list[Refund]:
    """The payment's refunds, oldest first. Every refund counts in refunded_total (its
    amount is more than zero), so a payment without any needs no query."""
    if not payment.refunded_total:
        return []
    return list(Refund.select().where(Refund.payment == payment.id).order_by(Refund.create_time, Refund.id))


def refund_message(refund: Refund) -> payment_pb2.Refund:
    return payment_pb2.Refund(
        id=refund.id,
        payment_id=refund.payment_id,
        request_id=refund.request_id,
        amount=rupiah(refund.amount),
        reason=refund.reason,
        state=refund_state_value(RefundState(refund.state)),
        provider_reference=refund.provider_reference,
        create_time=to_timestamp(refund.create_time),
        complete_time=to_timestamp(refund.complete_time),
    )


def stored_event_types(types: Iterable[payment_pb2.PaymentEventType.ValueType]) -> frozenset[EventType]:
    """The stored names of a request's event types (WatchPaymentEventsRequest.types)."""
    return frozenset(
        EventType(payment_pb2.PaymentEventType.Name(kind).removeprefix("PAYMENT_EVENT_TYPE_"))
        for kind in types
    )


def event_message(event: PaymentEvent) -> payment_pb2.PaymentEvent:
    snapshot = payment_pb2.Payment()
    snapshot.ParseFromString(bytes(event.payment))
    message = payment_pb2.PaymentEvent(
        sequence=event.sequence,
        type=payment_pb2.PaymentEventType.Value(f"PAYMENT_EVENT_TYPE_{event.type}"),
        payment=snapshot,
        create_time=to_timestamp(event.create_time),
    )
    if event.traceparent:
        # Left unset when the cause was not traced: a consumer then starts a new trace.
        message.trace_context.CopyFrom(stored_trace_context(event.traceparent, event.tracestate))
    if event.refund is not None:
        message.refund.ParseFromString(bytes(event.refund))
    return message
