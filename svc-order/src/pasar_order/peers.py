"""The services the order service calls, behind one long-lived channel each: the catalog
and the payment service (checkout, settlement, refunds), and the fulfillment service
(delivering paid lines).

Every call has a deadline; gRPC retries only the methods the contracts declare safe to
repeat (their idempotency_level: every one the order service calls is a read or
idempotent on the order or payment id). A failed call becomes a :class:`PeerError`: a
peer's domain error keeps its code, reason and metadata, so that the order service's
caller gets the catalog's OUT_OF_STOCK or the payment service's AMOUNT_OUT_OF_RANGE
unchanged; a peer that is down, too slow or broken becomes UNAVAILABLE with the
contract's ErrorInfo (reason DEPENDENCY_UNAVAILABLE, metadata ``service``: the peer's full
service name), which tells callers, the gateway's circuit breaker among them, that the
order service itself answered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import cast

import grpc

from pasar.common.v1 import money_pb2
from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit import errors
from pasar_kit.channels import ClientTls, open_channel
from pasar_kit.idempotency import repeatable_methods
from pasar_kit.timestamps import to_timestamp
from pasar_order import reasons
from pasar_order.reasons import PeerError

log = logging.getLogger(__name__)

_PRODUCT_DESCRIPTOR = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
_PAYMENT_DESCRIPTOR = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"]
_FULFILLMENT_DESCRIPTOR = fulfillment_service_pb2.DESCRIPTOR.services_by_name["FulfillmentService"]
# The peers' full names, as DEPENDENCY_UNAVAILABLE's metadata names them.
PRODUCT_SERVICE = _PRODUCT_DESCRIPTOR.full_name
PAYMENT_SERVICE = _PAYMENT_DESCRIPTOR.full_name
FULFILLMENT_SERVICE = _FULFILLMENT_DESCRIPTOR.full_name

OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# The codes of a peer's domain errors, passed on as they are; any other code (INTERNAL,
# UNKNOWN ...) means the peer is broken, and is answered as DEPENDENCY_UNAVAILABLE.
REFUSAL_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


def peer_error(error: grpc.RpcError, service: str) -> PeerError:
    """The PeerError for a failed call to service."""
    call = cast(grpc.Call, error)  # a failed call's RpcError is also its Call
    code = call.code()
    name = service.split(".")[1]
    if code not in REFUSAL_CODES:
        # Down, too slow, or broken (INTERNAL, UNKNOWN ...). The peer's own words stay in the
        # log: they name internal addresses, which callers outside the shop must not see.
        log.warning(
            "a call to another service failed",
            extra={"service": service, "code": code.name, "details": call.details()},
        )
        problem = "is unavailable" if code in OUTAGE_CODES else "failed"
        return reasons.dependency_unavailable(service, f"the {name} service {problem}; try again later")
    info = errors.error_info(error)
    return reasons.refused_by_peer(
        code,
        call.details() or f"the {name} service refused the request",
        service,
        info.reason if info else "",
        dict(info.metadata) if info else None,
    )


class Peers:
    """Typed calls to ProductService, PaymentService and FulfillmentService with the order
    service's defaults."""

    def __init__(
        self,
        product_address: str,
        payment_address: str,
        fulfillment_address: str,
        *,
        timeout: float,
        tls: ClientTls | None = None,
        caller_token: str | None = None,
    ) -> None:
        """caller_token: the order service's secret for its peers' internal methods
        (PASAR_ORDER_CALLER_TOKEN); None when its client certificate identifies it."""
        self.timeout = timeout
        self._product_channel = open_channel(
            product_address,
            default_timeout=timeout,
            idempotent_methods=repeatable_methods(_PRODUCT_DESCRIPTOR),
            tls=tls,
            caller_token=caller_token,
        )
        self._payment_channel = open_channel(
            payment_address,
            default_timeout=timeout,
            idempotent_methods=repeatable_methods(_PAYMENT_DESCRIPTOR),
            tls=tls,
            caller_token=caller_token,
        )
        self._fulfillment_channel = open_channel(
            fulfillment_address,
            default_timeout=timeout,
            idempotent_methods=repeatable_methods(_FULFILLMENT_DESCRIPTOR),
            tls=tls,
            caller_token=caller_token,
        )
        self.product = product_service_pb2_grpc.ProductServiceStub(self._product_channel)
        self.payment = payment_service_pb2_grpc.PaymentServiceStub(self._payment_channel)
        self.fulfillment = fulfillment_service_pb2_grpc.FulfillmentServiceStub(self._fulfillment_channel)

    def close(self) -> None:
        self._product_channel.close()
        self._payment_channel.close()
        self._fulfillment_channel.close()

    # The catalog.

    def batch_get_packages(self, ids: Sequence[str]) -> list[product_pb2.Package]:
        request = product_service_pb2.BatchGetPackagesRequest(ids=list(ids))
        try:
            response: product_service_pb2.BatchGetPackagesResponse = self.product.BatchGetPackages(request)
        except grpc.RpcError as error:
            raise peer_error(error, PRODUCT_SERVICE) from None
        return list(response.packages)

    def reserve_stock(
        self, order_id: str, lines: Sequence[tuple[str, int]], expire_time: datetime | None = None
    ) -> product_pb2.Reservation:
        """expire_time: when the catalog releases the units by itself if the order service
        has neither committed nor released them."""
        request = product_service_pb2.ReserveStockRequest(
            order_id=order_id,
            lines=[product_pb2.StockLine(package_id=package_id, quantity=qty) for package_id, qty in lines],
            expire_time=to_timestamp(expire_time),
        )
        try:
            response: product_service_pb2.ReserveStockResponse = self.product.ReserveStock(request)
        except grpc.RpcError as error:
            raise peer_error(error, PRODUCT_SERVICE) from None
        return response.reservation

    def commit_reservation(self, order_id: str) -> product_pb2.Reservation:
        request = product_service_pb2.CommitReservationRequest(order_id=order_id)
        try:
            response: product_service_pb2.CommitReservationResponse = self.product.CommitReservation(request)
        except grpc.RpcError as error:
            raise peer_error(error, PRODUCT_SERVICE) from None
        return response.reservation

    def release_reservation(self, order_id: str) -> product_pb2.Reservation:
        request = product_service_pb2.ReleaseReservationRequest(order_id=order_id)
        try:
            response: product_service_pb2.ReleaseReservationResponse = self.product.ReleaseReservation(
                request
            )
        except grpc.RpcError as error:
            raise peer_error(error, PRODUCT_SERVICE) from None
        return response.reservation

    # Payments.

    def list_payment_channels(self) -> list[payment_pb2.PaymentChannel]:
        channels: list[payment_pb2.PaymentChannel] = []
        page_token = ""
        while True:
            request = payment_service_pb2.ListPaymentChannelsRequest(page_size=100, page_token=page_token)
            try:
                response: payment_service_pb2.ListPaymentChannelsResponse = self.payment.ListPaymentChannels(
                    request
                )
            except grpc.RpcError as error:
                raise peer_error(error, PAYMENT_SERVICE) from None
            channels.extend(response.payment_channels)
            page_token = response.next_page_token
            if not page_token:
                return channels

    def create_payment(
        self,
        *,
        order_id: str,
        channel_code: str,
        amount: money_pb2.Money,
        description: str,
        customer_email: str,
        payer_phone_number: str = "",
    ) -> payment_pb2.Payment:
        request = payment_service_pb2.CreatePaymentRequest(
            order_id=order_id,
            channel_code=channel_code,
            amount=amount,
            description=description,
            customer_email=customer_email,
            payer_phone_number=payer_phone_number,
        )
        try:
            response: payment_service_pb2.CreatePaymentResponse = self.payment.CreatePayment(request)
        except grpc.RpcError as error:
            raise peer_error(error, PAYMENT_SERVICE) from None
        return response.payment

    def get_payment(self, payment_id: str) -> payment_pb2.Payment:
        request = payment_service_pb2.GetPaymentRequest(id=payment_id)
        try:
            response: payment_service_pb2.GetPaymentResponse = self.payment.GetPayment(request)
        except grpc.RpcError as error:
            raise peer_error(error, PAYMENT_SERVICE) from None
        return response.payment

    def find_payment_by_order(self, order_id: str) -> payment_pb2.Payment | None:
        """The payment made for order_id, or None if there is none; asking creates nothing."""
        request = payment_service_pb2.FindPaymentByOrderRequest(order_id=order_id)
        try:
            response: payment_service_pb2.FindPaymentByOrderResponse = self.payment.FindPaymentByOrder(
                request
            )
        except grpc.RpcError as error:
            raise peer_error(error, PAYMENT_SERVICE) from None
        return response.payment if response.HasField("payment") else None

    def cancel_payment(self, payment_id: str) -> payment_pb2.Payment:
        request = payment_service_pb2.CancelPaymentRequest(id=payment_id)
        try:
            response: payment_service_pb2.CancelPaymentResponse = self.payment.CancelPayment(request)
        except grpc.RpcError as error:
            raise peer_error(error, PAYMENT_SERVICE) from None
        return response.payment

    def refund_payment(
        self, *, payment_id: str, request_id: str, amount: money_pb2.Money, reason: str
    ) -> payment_pb2.Refund:
        """Gives amount back (idempotent on request_id); the refund, new or made before."""
        request = payment_service_pb2.RefundPaymentRequest(
            payment_id=payment_id, request_id=request_id, amount=amount, reason=reason
        )
        try:
            response: payment_service_pb2.RefundPaymentResponse = self.payment.RefundPayment(request)
        except grpc.RpcError as error:
            raise peer_error(error, PAYMENT_SERVICE) from None
        return response.refund

    def watch_payment_events(
        self,
        after_sequence: int,
        timeout: float,
        types: Iterable[payment_pb2.PaymentEventType.ValueType] = (),
    ) -> Iterator[payment_service_pb2.WatchPaymentEventsResponse]:
        """The event stream from after_sequence, of the events of types (empty: of every
        type); the returned call can be cancelled.

        Its errors are raw grpc.RpcError: the consumer tells a stream that ended at its
        deadline (reopen at once) from an outage (back off)."""
        request = payment_service_pb2.WatchPaymentEventsRequest(
            after_sequence=after_sequence, types=sorted(types)
        )
        stream: Iterator[payment_service_pb2.WatchPaymentEventsResponse] = self.payment.WatchPaymentEvents(
            request, timeout=timeout
        )
        return stream

    # Deliveries.

    def create_fulfillment(
        self, request: fulfillment_service_pb2.CreateFulfillmentRequest
    ) -> fulfillment_pb2.Fulfillment:
        """Asks for a line's delivery (idempotent on the order and package ids)."""
        try:
            response: fulfillment_service_pb2.CreateFulfillmentResponse = self.fulfillment.CreateFulfillment(
                request
            )
        except grpc.RpcError as error:
            raise peer_error(error, FULFILLMENT_SERVICE) from None
        return response.fulfillment

    def watch_fulfillment_events(
        self, after_sequence: int, timeout: float
    ) -> Iterator[fulfillment_service_pb2.WatchFulfillmentEventsResponse]:
        """The fulfillment event stream from after_sequence (raw grpc.RpcError, as
        watch_payment_events)."""
        request = fulfillment_service_pb2.WatchFulfillmentEventsRequest(after_sequence=after_sequence)
        stream: Iterator[fulfillment_service_pb2.WatchFulfillmentEventsResponse] = (
            self.fulfillment.WatchFulfillmentEvents(request, timeout=timeout)
        )
        return stream
