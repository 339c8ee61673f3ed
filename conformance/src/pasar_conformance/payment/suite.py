"""The payment contract as the common checks see it: its service, a probe, valid requests."""

from __future__ import annotations

from google.protobuf import message

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.payment.v1 import payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.common import Suite
from pasar_conformance.payment.log import CREATED, LOG
from pasar_conformance.payment.shop import SANDBOX, SERVICE, desk, rpc, sandbox_notification
from pasar_conformance.target import Target

PACKAGE = "pasar.payment.v1"


# Valid requests, seeding what they need (the common checks repeat them, and send the
# internal ones without a credential).
def _list_channels(_target: Target) -> message.Message:
    return payment_service_pb2.ListPaymentChannelsRequest(page_size=100)


def _get_payment(target: Target) -> message.Message:
    return payment_service_pb2.GetPaymentRequest(id=desk(target).open().id)


def _simulate(target: Target) -> message.Message:
    desk(target).require_sandbox()
    return payment_service_pb2.SimulatePaymentRequest(id=desk(target).open().id)


def _create(target: Target) -> message.Message:
    return desk(target).request()


def _find(target: Target) -> message.Message:
    return payment_service_pb2.FindPaymentByOrderRequest(order_id=desk(target).open().order_id)


def _cancel(target: Target) -> message.Message:
    return payment_service_pb2.CancelPaymentRequest(id=desk(target).open().id)


def _refund(target: Target) -> message.Message:
    """A refund of part of a paid payment: its repeats answer the first refund."""
    payments = desk(target)
    return payments.refund_request(payments.paid().id, 1_000)


def _notify(target: Target) -> message.Message:
    """A notification handled once already: its repeats answer alike (duplicate, unchanged)."""
    payment = desk(target).open()
    if payment.provider != SANDBOX:
        return payment_service_pb2.NotifyPaymentRequest(
            provider=payment.provider, payload=b"{}", signature="0"
        )
    notification = sandbox_notification(target, payment)
    target.call(rpc("NotifyPayment"), notification)
    return notification


def _watch(_target: Target) -> message.Message:
    return payment_service_pb2.WatchPaymentEventsRequest(after_sequence=0)


def _waiting_stream(target: Target) -> message.Message:
    """A stream after the log's last event, answered a moment later (EventLog.waiting_request)."""
    payments = desk(target)
    return LOG.waiting_request(target, lambda: (payments.open().id, CREATED))


PAYMENT_SUITE = Suite(
    package=PACKAGE,
    services=(SERVICE,),
    probe=(rpc("ListPaymentChannels"), lambda: payment_service_pb2.ListPaymentChannelsRequest(page_size=1)),
    heavy=(rpc("WatchPaymentEvents"), _waiting_stream),
    requests={
        rpc("ListPaymentChannels"): _list_channels,
        rpc("GetPayment"): _get_payment,
        rpc("SimulatePayment"): _simulate,
        rpc("CreatePayment"): _create,
        rpc("FindPaymentByOrder"): _find,
        rpc("CancelPayment"): _cancel,
        rpc("RefundPayment"): _refund,
        rpc("NotifyPayment"): _notify,
        rpc("WatchPaymentEvents"): _watch,
    },
    out_of_reach={
        ErrorReason.Name(ErrorReason.CHANNEL_DISABLED): (
            "no RPC of the contract switches a channel off, and ListPaymentChannels lists enabled ones only"
        ),
        ErrorReason.Name(ErrorReason.SANDBOX_DISABLED): (
            "a shop whose payments the sandbox settles never answers it; against a shop with another"
            " provider, test_settlement asserts it"
        ),
    },
    also_checks=(
        CommonReason.Name(CommonReason.INVALID_PAGE_TOKEN),
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_MISSING),
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_INVALID),
    ),
)
