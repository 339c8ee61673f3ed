"""In-process stand-ins for ProductService, PaymentService and FulfillmentService, served
over real gRPC.

They keep the contracts' semantics that checkout relies on (idempotency on the order id,
all-or-nothing reservations, a payment paid at most once, an event log read from a
cursor, a line fulfilled once, a refund made once per request id) in memory, and let a
test provoke what is hard to get from the real services: an outage of one method, an
answer lost after the work was done, a payment settled or a line delivered or failed at a
chosen moment. They run behind the kit's call pipeline, so the order service's requests
are validated against the contracts exactly as the real services would (conftest.py
serves them on pasar_testkit's FakeGrpcServer).
"""

# The fakes implement only the RPCs the order service calls; mypy-protobuf marks the
# others abstract, which is what keeps the real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from pasar.common.v1 import money_pb2, trace_context_pb2
from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import errors
from pasar_kit.ids import new_id
from pasar_kit.timestamps import to_timestamp, utc_now

# A hook runs before (or after) a method's work; raising from it makes the call fail.
Hook = Callable[[], None]


def idr(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="IDR", amount=amount)


def now() -> timestamp_pb2.Timestamp:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.FromDatetime(utc_now())
    return timestamp


def outage() -> None:
    """A hook: the service answers UNAVAILABLE, as if it were down."""
    raise errors.Unavailable("injected outage")


Event = TypeVar("Event", payment_pb2.PaymentEvent, fulfillment_pb2.FulfillmentEvent)


class FakeEventLog(Generic[Event]):
    """A fake's event log, and the Watch*Events stream that follows it (the fake payments
    and fulfillment): every event after the caller's sequence, then each new one."""

    def __init__(self) -> None:
        self.lock = threading.Condition()  # notified on each new event
        self.events: list[Event] = []
        self.watchers = 0  # streams following the log now

    def follow_events(self, after_sequence: int, context: grpc.ServicerContext) -> Iterator[Event]:
        position = after_sequence
        with self.lock:
            self.watchers += 1
        try:
            while context.is_active():
                with self.lock:
                    pending = self.events[position:]
                    if not pending:
                        self.lock.wait(0.05)
                        continue
                for event in pending:
                    yield event
                    position = event.sequence
        finally:
            with self.lock:
                self.watchers -= 1


@dataclass
class Hooks:
    """Per-method hooks that tests set; each runs once unless keep is set."""

    before: dict[str, Hook] = field(default_factory=dict)
    after: dict[str, Hook] = field(default_factory=dict)
    keep: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    # The W3C traceparent each call carried (empty when untraced), by method.
    traceparents: dict[str, list[str]] = field(default_factory=dict)

    def run_before(self, method: str, key: str, context: grpc.ServicerContext | None = None) -> None:
        self.calls.append((method, key))
        if context is not None:
            metadata = dict(context.invocation_metadata())
            self.traceparents.setdefault(method, []).append(str(metadata.get("traceparent", "")))
        hook = self.before.get(method) if self.keep else self.before.pop(method, None)
        if hook:
            hook()

    def run_after(self, method: str) -> None:
        hook = self.after.get(method) if self.keep else self.after.pop(method, None)
        if hook:
            hook()

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)


def reservation_error(
    error: type[errors.ServiceError], reason: ProductErrorReason.ValueType, order_id: str
) -> errors.ServiceError:
    """A reservation's refusal, as the catalog's contract words it."""
    return error(
        f"reservation {order_id}: {ProductErrorReason.Name(reason)}",
        reason=ProductErrorReason.Name(reason),
        metadata={"order_id": order_id},
    )


class FakeCatalog(product_service_pb2_grpc.ProductServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.packages: dict[str, product_pb2.Package] = {}
        self.reservations: dict[
            str, tuple[product_pb2.ReservationState.ValueType, list[tuple[str, int]]]
        ] = {}
        # The expire_time each ReserveStock asked for, by order id.
        self.reservation_expiry: dict[str, timestamp_pb2.Timestamp] = {}
        # The longest a reservation is held (the real catalog's is 72 hours); None: as asked.
        self.max_hold: timedelta | None = None
        self.hooks = Hooks()

    def add_package(
        self,
        package_id: str,
        price: int,
        stock: int,
        *,
        product_id: str = "pulsa-nusantara",
        delivery_kind: product_pb2.DeliveryKind.ValueType = product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        destination_fields: Sequence[product_pb2.DestinationField] = (),
    ) -> product_pb2.Package:
        package = product_pb2.Package(
            id=package_id,
            product_id=product_id,
            display_name=f"Paket {package_id}",
            display_name_en=f"Package {package_id}",
            price=idr(price),
            stock_available=stock,
            product_display_name=f"Produk {product_id}",
            product_display_name_en=f"Product {product_id}",
            delivery_kind=delivery_kind,
            destination_fields=destination_fields,
        )
        self.packages[package_id] = package
        return package

    def stock(self, package_id: str) -> int:
        return self.packages[package_id].stock_available

    def reservation_state(self, order_id: str) -> product_pb2.ReservationState.ValueType | None:
        entry = self.reservations.get(order_id)
        return entry[0] if entry else None

    def BatchGetPackages(
        self, request: product_service_pb2.BatchGetPackagesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.BatchGetPackagesResponse:
        self.hooks.run_before("BatchGetPackages", ",".join(request.ids))
        with self.lock:
            for package_id in request.ids:
                if package_id not in self.packages:
                    raise errors.NotFound(
                        f"package {package_id} not found",
                        reason=ProductErrorReason.Name(ProductErrorReason.PACKAGE_NOT_FOUND),
                        metadata={"package_id": package_id},
                    )
            return product_service_pb2.BatchGetPackagesResponse(
                packages=[self.packages[package_id] for package_id in request.ids]
            )

    def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReserveStockResponse:
        self.hooks.run_before("ReserveStock", request.order_id)
        lines = [(line.package_id, line.quantity) for line in request.lines]
        with self.lock:
            existing = self.reservations.get(request.order_id)
            if existing is not None:
                if sorted(existing[1]) != sorted(lines):
                    raise errors.AlreadyExists(
                        "other lines",
                        reason=ProductErrorReason.Name(ProductErrorReason.RESERVATION_CONFLICT),
                        metadata={"order_id": request.order_id},
                    )
            else:
                for package_id, quantity in lines:
                    package = self.packages.get(package_id)
                    if package is None:
                        raise errors.NotFound(
                            "no package",
                            reason=ProductErrorReason.Name(ProductErrorReason.PACKAGE_NOT_FOUND),
                            metadata={"package_id": package_id},
                        )
                    if package.stock_available < quantity:
                        raise errors.FailedPrecondition(
                            "out of stock",
                            reason=ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK),
                            metadata={
                                "package_id": package_id,
                                "requested": str(quantity),
                                "available": str(package.stock_available),
                            },
                        )
                for package_id, quantity in lines:
                    self.packages[package_id].stock_available -= quantity
                self.reservations[request.order_id] = (product_pb2.RESERVATION_STATE_RESERVED, lines)
                expire_time = request.expire_time
                if self.max_hold is not None:
                    latest = timestamp_pb2.Timestamp()
                    latest.FromDatetime(utc_now() + self.max_hold)
                    if latest.ToNanoseconds() < expire_time.ToNanoseconds():
                        expire_time = latest
                self.reservation_expiry[request.order_id] = expire_time
            state = self.reservations[request.order_id][0]
            held_until = self.reservation_expiry[request.order_id]
        self.hooks.run_after("ReserveStock")
        return product_service_pb2.ReserveStockResponse(
            reservation=product_pb2.Reservation(
                order_id=request.order_id, state=state, expire_time=held_until
            )
        )

    def CommitReservation(
        self, request: product_service_pb2.CommitReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.CommitReservationResponse:
        self.hooks.run_before("CommitReservation", request.order_id, context)
        with self.lock:
            entry = self.reservations.get(request.order_id)
            if entry is None:
                raise reservation_error(
                    errors.NotFound, ProductErrorReason.RESERVATION_NOT_FOUND, request.order_id
                )
            if entry[0] == product_pb2.RESERVATION_STATE_RELEASED:
                raise reservation_error(
                    errors.FailedPrecondition, ProductErrorReason.RESERVATION_RELEASED, request.order_id
                )
            self.reservations[request.order_id] = (product_pb2.RESERVATION_STATE_COMMITTED, entry[1])
        return product_service_pb2.CommitReservationResponse(
            reservation=product_pb2.Reservation(
                order_id=request.order_id, state=product_pb2.RESERVATION_STATE_COMMITTED
            )
        )

    def ReleaseReservation(
        self, request: product_service_pb2.ReleaseReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReleaseReservationResponse:
        self.hooks.run_before("ReleaseReservation", request.order_id)
        with self.lock:
            entry = self.reservations.get(request.order_id)
            if entry is None:
                raise reservation_error(
                    errors.NotFound, ProductErrorReason.RESERVATION_NOT_FOUND, request.order_id
                )
            if entry[0] == product_pb2.RESERVATION_STATE_COMMITTED:
                raise reservation_error(
                    errors.FailedPrecondition, ProductErrorReason.RESERVATION_COMMITTED, request.order_id
                )
            if entry[0] == product_pb2.RESERVATION_STATE_RESERVED:
                for package_id, quantity in entry[1]:
                    self.packages[package_id].stock_available += quantity
                self.reservations[request.order_id] = (product_pb2.RESERVATION_STATE_RELEASED, entry[1])
        return product_service_pb2.ReleaseReservationResponse(
            reservation=product_pb2.Reservation(
                order_id=request.order_id, state=product_pb2.RESERVATION_STATE_RELEASED
            )
        )


def window(seconds: float) -> duration_pb2.Duration:
    """A channel's payment_ttl."""
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(seconds=seconds))
    return duration


def channels() -> list[payment_pb2.PaymentChannel]:
    """The fake's channels, each with its payment window as the demo's have them: a day for
    a virtual account, minutes for QRIS and e-wallets; OVO asks for the wallet's phone number."""
    return [
        payment_pb2.PaymentChannel(
            code="bca_va",
            display_name="BCA Virtual Account",
            kind=payment_pb2.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT,
            flat_fee=idr(4000),
            min_amount=idr(10_000),
            max_amount=idr(50_000_000),
            payment_ttl=window(24 * 3600),
            enabled=True,
        ),
        payment_pb2.PaymentChannel(
            code="qris",
            display_name="QRIS",
            kind=payment_pb2.PAYMENT_CHANNEL_KIND_QRIS,
            percent_fee_bps=70,
            min_amount=idr(1_000),
            max_amount=idr(10_000_000),
            payment_ttl=window(15 * 60),
            enabled=True,
        ),
        payment_pb2.PaymentChannel(
            code="gopay",
            display_name="GoPay",
            kind=payment_pb2.PAYMENT_CHANNEL_KIND_EWALLET,
            percent_fee_bps=200,
            min_amount=idr(1_000),
            max_amount=idr(10_000_000),
            payment_ttl=window(15 * 60),
            enabled=True,
        ),
        payment_pb2.PaymentChannel(
            code="ovo",
            display_name="OVO",
            kind=payment_pb2.PAYMENT_CHANNEL_KIND_EWALLET,
            percent_fee_bps=200,
            min_amount=idr(1_000),
            max_amount=idr(10_000_000),
            payment_ttl=window(15 * 60),
            enabled=True,
            requires_phone_number=True,
        ),
    ]


class FakePayments(payment_service_pb2_grpc.PaymentServiceServicer, FakeEventLog[payment_pb2.PaymentEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.channels = {channel.code: channel for channel in channels()}
        self.payments: dict[str, payment_pb2.Payment] = {}
        # Each CreatePayment's payer_phone_number, by order id.
        self.payer_phone_numbers: dict[str, str] = {}
        self.by_order: dict[str, str] = {}
        self.hooks = Hooks()
        # As a payment service older than WatchPaymentEventsRequest.types: every type streamed.
        self.streams_every_type = False

    def payment_of(self, order_id: str) -> payment_pb2.Payment:
        with self.lock:
            return self.payments[self.by_order[order_id]]

    def _record(
        self,
        event_type: payment_pb2.PaymentEventType.ValueType,
        payment: payment_pb2.Payment,
        trace_context: trace_context_pb2.TraceContext | None = None,
    ) -> None:
        """Appends an event (the caller holds the lock) and wakes the watchers; trace_context
        is the context of the call that caused it, as the payment service keeps it."""
        event = payment_pb2.PaymentEvent(sequence=len(self.events) + 1, type=event_type, create_time=now())
        event.payment.CopyFrom(payment)
        if trace_context is not None:
            event.trace_context.CopyFrom(trace_context)
        self.events.append(event)
        self.lock.notify_all()

    def _change(
        self,
        payment_id: str,
        state: payment_pb2.PaymentState.ValueType,
        event_type: payment_pb2.PaymentEventType.ValueType,
        trace_context: trace_context_pb2.TraceContext | None = None,
    ) -> payment_pb2.Payment:
        payment = self.payments[payment_id]
        payment.state = state
        payment.update_time.CopyFrom(now())
        if state == payment_pb2.PAYMENT_STATE_PAID:
            payment.paid_time.CopyFrom(now())
        self._record(event_type, payment, trace_context)
        return payment

    def pay(
        self, payment_id: str, trace_context: trace_context_pb2.TraceContext | None = None
    ) -> payment_pb2.Payment:
        """Settles a pending payment, as the sandbox provider's notification would (whose
        call's trace context the PAID event carries)."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment.state != payment_pb2.PAYMENT_STATE_PENDING:
                return payment
            return self._change(
                payment_id, payment_pb2.PAYMENT_STATE_PAID, payment_pb2.PAYMENT_EVENT_TYPE_PAID, trace_context
            )

    def expire(self, payment_id: str) -> payment_pb2.Payment:
        with self.lock:
            return self._change(
                payment_id, payment_pb2.PAYMENT_STATE_EXPIRED, payment_pb2.PAYMENT_EVENT_TYPE_EXPIRED
            )

    def replay_event(self, sequence: int) -> None:
        """Appends a copy of an earlier event under a new sequence (a duplicate delivery)."""
        with self.lock:
            earlier = self.events[sequence - 1]
            self._record(earlier.type, earlier.payment)
            self.events[-1].refund.CopyFrom(earlier.refund)

    def refunds_of(self, order_id: str) -> dict[str, int]:
        """The refunds made for an order's payment: request id -> amount."""
        with self.lock:
            payment = self.payments[self.by_order[order_id]]
            return {refund.request_id: refund.amount.amount for refund in payment.refunds}

    def RefundPayment(
        self, request: payment_service_pb2.RefundPaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.RefundPaymentResponse:
        self.hooks.run_before("RefundPayment", request.request_id)
        with self.lock:
            payment = self.payments.get(request.payment_id)
            if payment is None:
                raise errors.NotFound(
                    "no payment",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_NOT_FOUND),
                    metadata={"payment_id": request.payment_id},
                )
            for refund in payment.refunds:
                if refund.request_id == request.request_id:
                    if refund.amount != request.amount:
                        raise errors.AlreadyExists(
                            "reused",
                            reason=PaymentErrorReason.Name(PaymentErrorReason.REFUND_REQUEST_REUSED),
                            metadata={"refund_id": refund.id},
                        )
                    return payment_service_pb2.RefundPaymentResponse(payment=payment, refund=refund)
            if payment.state != payment_pb2.PAYMENT_STATE_PAID:
                raise errors.FailedPrecondition(
                    "not refundable",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_NOT_REFUNDABLE),
                    metadata={
                        "payment_id": payment.id,
                        "state": payment_pb2.PaymentState.Name(payment.state),
                    },
                )
            refundable = payment.total.amount - payment.refunded_total.amount
            if request.amount.amount > refundable:
                raise errors.FailedPrecondition(
                    "too much",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.REFUND_EXCEEDS_PAYMENT),
                    metadata={"payment_id": payment.id, "refundable_amount": str(refundable)},
                )
            refund = payment_pb2.Refund(
                id=new_id("rfd"),
                payment_id=payment.id,
                request_id=request.request_id,
                amount=request.amount,
                reason=request.reason,
                state=payment_pb2.REFUND_STATE_SUCCEEDED,
                provider_reference=f"sandbox-{request.request_id}",
                create_time=now(),
                complete_time=now(),
            )
            payment.refunds.append(refund)
            payment.refunded_total.CopyFrom(idr(payment.refunded_total.amount + request.amount.amount))
            if payment.refunded_total.amount == payment.total.amount:
                payment.state = payment_pb2.PAYMENT_STATE_REFUNDED
            payment.update_time.CopyFrom(now())
            self._record(payment_pb2.PAYMENT_EVENT_TYPE_REFUNDED, payment)
            self.events[-1].refund.CopyFrom(refund)
            response = payment_service_pb2.RefundPaymentResponse(payment=payment, refund=refund)
        self.hooks.run_after("RefundPayment")
        return response

    def ListPaymentChannels(
        self, request: payment_service_pb2.ListPaymentChannelsRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.ListPaymentChannelsResponse:
        self.hooks.run_before("ListPaymentChannels", "")
        return payment_service_pb2.ListPaymentChannelsResponse(
            payment_channels=[channel for channel in self.channels.values() if channel.enabled]
        )

    def CreatePayment(
        self, request: payment_service_pb2.CreatePaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.CreatePaymentResponse:
        self.hooks.run_before("CreatePayment", request.order_id)
        with self.lock:
            existing = self.by_order.get(request.order_id)
            if existing is not None:
                payment = self.payments[existing]
                if payment.channel_code != request.channel_code or payment.amount != request.amount:
                    raise errors.AlreadyExists(
                        "conflict",
                        reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_CONFLICT),
                        metadata={"order_id": request.order_id, "payment_id": payment.id},
                    )
            else:
                channel = self.channels.get(request.channel_code)
                if channel is None:
                    raise errors.NotFound(
                        "no channel",
                        reason=PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_NOT_FOUND),
                        metadata={"channel_code": request.channel_code},
                    )
                if not channel.enabled:
                    raise errors.FailedPrecondition(
                        "disabled",
                        reason=PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_DISABLED),
                        metadata={"channel_code": channel.code},
                    )
                if channel.requires_phone_number and not request.payer_phone_number:
                    raise errors.InvalidArgument(
                        "phone number required",
                        reason=PaymentErrorReason.Name(PaymentErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
                        metadata={"channel_code": channel.code},
                    )
                amount = request.amount.amount
                if not channel.min_amount.amount <= amount <= channel.max_amount.amount:
                    raise errors.FailedPrecondition(
                        "out of range",
                        reason=PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE),
                        metadata={
                            "channel_code": channel.code,
                            "min_amount": str(channel.min_amount.amount),
                            "max_amount": str(channel.max_amount.amount),
                        },
                    )
                fee = channel.flat_fee.amount + -(-amount * channel.percent_fee_bps // 10_000)
                now = utc_now()
                payment = payment_pb2.Payment(
                    id=new_id("pay"),
                    order_id=request.order_id,
                    channel_code=channel.code,
                    channel_kind=channel.kind,
                    state=payment_pb2.PAYMENT_STATE_PENDING,
                    amount=request.amount,
                    fee=idr(fee),
                    total=idr(amount + fee),
                    provider="sandbox",
                    create_time=to_timestamp(now),
                    update_time=to_timestamp(now),
                    expire_time=to_timestamp(now + channel.payment_ttl.ToTimedelta()),
                )
                self.payer_phone_numbers[request.order_id] = request.payer_phone_number
                if channel.kind == payment_pb2.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT:
                    payment.virtual_account.CopyFrom(
                        payment_pb2.VirtualAccountInstructions(
                            bank_name="BCA", account_number="8808123456789012", account_name="PASAR"
                        )
                    )
                elif channel.kind == payment_pb2.PAYMENT_CHANNEL_KIND_QRIS:
                    payment.qris.qr_string = "00020101021226610016ID.CO.SANDBOX"
                elif channel.requires_phone_number:
                    phone = request.payer_phone_number
                    payment.ewallet.CopyFrom(
                        payment_pb2.EwalletInstructions(
                            wallet_name=channel.display_name, phone_number=f"{phone[:4]}****{phone[-4:]}"
                        )
                    )
                else:
                    payment.ewallet.CopyFrom(
                        payment_pb2.EwalletInstructions(
                            wallet_name="GoPay", checkout_url="https://sandbox.pasar.test/gopay/checkout"
                        )
                    )
                self.payments[payment.id] = payment
                self.by_order[request.order_id] = payment.id
                self._record(payment_pb2.PAYMENT_EVENT_TYPE_CREATED, payment)
            response = payment_service_pb2.CreatePaymentResponse(payment=payment)
        self.hooks.run_after("CreatePayment")
        return response

    def GetPayment(
        self, request: payment_service_pb2.GetPaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.GetPaymentResponse:
        self.hooks.run_before("GetPayment", request.id)
        with self.lock:
            if request.id not in self.payments:
                raise errors.NotFound(
                    "no payment",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_NOT_FOUND),
                    metadata={"payment_id": request.id},
                )
            return payment_service_pb2.GetPaymentResponse(payment=self.payments[request.id])

    def FindPaymentByOrder(
        self, request: payment_service_pb2.FindPaymentByOrderRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.FindPaymentByOrderResponse:
        self.hooks.run_before("FindPaymentByOrder", request.order_id)
        with self.lock:
            payment_id = self.by_order.get(request.order_id)
            if payment_id is None:
                return payment_service_pb2.FindPaymentByOrderResponse()
            return payment_service_pb2.FindPaymentByOrderResponse(payment=self.payments[payment_id])

    def CancelPayment(
        self, request: payment_service_pb2.CancelPaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.CancelPaymentResponse:
        self.hooks.run_before("CancelPayment", request.id)
        with self.lock:
            payment = self.payments.get(request.id)
            if payment is None:
                raise errors.NotFound(
                    "no payment",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_NOT_FOUND),
                    metadata={"payment_id": request.id},
                )
            if payment.state == payment_pb2.PAYMENT_STATE_PAID:
                raise errors.FailedPrecondition(
                    "paid",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_PAID),
                    metadata={
                        "payment_id": payment.id,
                        "state": payment_pb2.PaymentState.Name(payment.state),
                    },
                )
            if payment.state == payment_pb2.PAYMENT_STATE_PENDING:
                payment = self._change(
                    request.id, payment_pb2.PAYMENT_STATE_CANCELLED, payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED
                )
            return payment_service_pb2.CancelPaymentResponse(payment=payment)

    def WatchPaymentEvents(
        self, request: payment_service_pb2.WatchPaymentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[payment_service_pb2.WatchPaymentEventsResponse]:
        self.hooks.run_before("WatchPaymentEvents", str(request.after_sequence))
        for event in self.follow_events(request.after_sequence, context):
            # Read at each event: a test may switch it once the service's stream is open.
            types = () if self.streams_every_type else request.types
            if not types or event.type in types:
                yield payment_service_pb2.WatchPaymentEventsResponse(event=event)
            else:  # as the payment service reports the events passed over, but at once
                yield payment_service_pb2.WatchPaymentEventsResponse(passed_sequence=event.sequence)


def sandbox_deliveries(fulfillment: fulfillment_pb2.Fulfillment) -> list[fulfillment_pb2.Delivery]:
    """One delivery per unit, of the kind the line's product delivers (as the sandbox biller)."""
    deliveries = []
    for unit in range(fulfillment.quantity):
        serial = f"{4100000000000000 + unit}"
        if fulfillment.delivery_kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN:
            deliveries.append(
                fulfillment_pb2.Delivery(
                    serial_number=serial, token=f"1234-5678-9012-3456-789{unit}", kwh="13.85"
                )
            )
        elif fulfillment.delivery_kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE:
            deliveries.append(
                fulfillment_pb2.Delivery(serial_number=serial, voucher_code=f"ABCD-EFGH-JKLM-NPQ{unit}")
            )
        else:
            deliveries.append(fulfillment_pb2.Delivery(serial_number=serial))
    return deliveries


class FakeFulfillment(
    fulfillment_service_pb2_grpc.FulfillmentServiceServicer, FakeEventLog[fulfillment_pb2.FulfillmentEvent]
):
    """Accepts lines (idempotent on order and package id); a test then ends each with
    succeed() or fail(), which records the event the order service follows."""

    def __init__(self) -> None:
        super().__init__()
        self.fulfillments: dict[tuple[str, str], fulfillment_pb2.Fulfillment] = {}
        self.hooks = Hooks()
        # Delivery kinds the biller does not deliver (DELIVERY_KIND_NOT_SUPPORTED).
        self.unsupported_kinds: set[int] = set()

    def lines_of(self, order_id: str) -> list[fulfillment_pb2.Fulfillment]:
        with self.lock:
            return [f for (order, _), f in self.fulfillments.items() if order == order_id]

    def _record(
        self,
        event_type: fulfillment_pb2.FulfillmentEventType.ValueType,
        fulfillment: fulfillment_pb2.Fulfillment,
        trace_context: trace_context_pb2.TraceContext | None = None,
    ) -> None:
        event = fulfillment_pb2.FulfillmentEvent(
            sequence=len(self.events) + 1, type=event_type, create_time=now()
        )
        event.fulfillment.CopyFrom(fulfillment)
        if trace_context is not None:
            event.trace_context.CopyFrom(trace_context)
        self.events.append(event)
        self.lock.notify_all()

    def _end(
        self,
        order_id: str,
        package_id: str,
        state: fulfillment_pb2.FulfillmentState.ValueType,
        event_type: fulfillment_pb2.FulfillmentEventType.ValueType,
        trace_context: trace_context_pb2.TraceContext | None = None,
    ) -> fulfillment_pb2.Fulfillment:
        with self.lock:
            fulfillment = self.fulfillments[(order_id, package_id)]
            if fulfillment.state != fulfillment_pb2.FULFILLMENT_STATE_PENDING:
                return fulfillment
            fulfillment.state = state
            if state == fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED:
                fulfillment.deliveries.extend(sandbox_deliveries(fulfillment))
            else:
                fulfillment.failure.CopyFrom(
                    fulfillment_pb2.Failure(
                        reason=fulfillment_pb2.FAILURE_REASON_DESTINATION_NOT_FOUND, message="no such meter"
                    )
                )
            fulfillment.update_time.CopyFrom(now())
            fulfillment.complete_time.CopyFrom(now())
            self._record(event_type, fulfillment, trace_context)
            return fulfillment

    def succeed(
        self, order_id: str, package_id: str, trace_context: trace_context_pb2.TraceContext | None = None
    ) -> fulfillment_pb2.Fulfillment:
        """The biller delivered the line (the sandbox's deliveries for its kind); the event
        carries trace_context (the biller's notification's, at the real service)."""
        return self._end(
            order_id,
            package_id,
            fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED,
            fulfillment_pb2.FULFILLMENT_EVENT_TYPE_SUCCEEDED,
            trace_context,
        )

    def fail(self, order_id: str, package_id: str) -> fulfillment_pb2.Fulfillment:
        """The biller delivered nothing of the line."""
        return self._end(
            order_id,
            package_id,
            fulfillment_pb2.FULFILLMENT_STATE_FAILED,
            fulfillment_pb2.FULFILLMENT_EVENT_TYPE_FAILED,
        )

    def replay_events(self) -> None:
        """Appends a copy of every event so far under new sequences (a duplicate delivery)."""
        with self.lock:
            for earlier in list(self.events):
                self._record(earlier.type, earlier.fulfillment)

    def CreateFulfillment(
        self, request: fulfillment_service_pb2.CreateFulfillmentRequest, context: grpc.ServicerContext
    ) -> fulfillment_service_pb2.CreateFulfillmentResponse:
        self.hooks.run_before("CreateFulfillment", f"{request.order_id}/{request.package_id}", context)
        key = (request.order_id, request.package_id)
        if request.delivery_kind in self.unsupported_kinds:
            kind = product_pb2.DeliveryKind.Name(request.delivery_kind)
            raise errors.FailedPrecondition(
                f"{kind} is not delivered",
                reason=FulfillmentErrorReason.Name(FulfillmentErrorReason.DELIVERY_KIND_NOT_SUPPORTED),
                metadata={"delivery_kind": kind},
            )
        with self.lock:
            existing = self.fulfillments.get(key)
            if existing is not None:
                same = (
                    existing.product_id == request.product_id
                    and existing.delivery_kind == request.delivery_kind
                    and existing.quantity == request.quantity
                    and existing.amount == request.amount
                    and dict(existing.destination) == dict(request.destination)
                )
                if not same:
                    raise errors.AlreadyExists(
                        "other content",
                        reason=FulfillmentErrorReason.Name(FulfillmentErrorReason.FULFILLMENT_CONFLICT),
                        metadata={"fulfillment_id": existing.id},
                    )
                fulfillment = existing
            else:
                fulfillment = fulfillment_pb2.Fulfillment(
                    id=new_id("ful"),
                    order_id=request.order_id,
                    package_id=request.package_id,
                    product_id=request.product_id,
                    delivery_kind=request.delivery_kind,
                    quantity=request.quantity,
                    amount=request.amount,
                    destination=request.destination,
                    state=fulfillment_pb2.FULFILLMENT_STATE_PENDING,
                    biller="sandbox",
                    biller_reference=f"sbx-{len(self.fulfillments) + 1}",
                    create_time=now(),
                    update_time=now(),
                )
                self.fulfillments[key] = fulfillment
                self._record(fulfillment_pb2.FULFILLMENT_EVENT_TYPE_CREATED, fulfillment)
            response = fulfillment_service_pb2.CreateFulfillmentResponse(fulfillment=fulfillment)
        self.hooks.run_after("CreateFulfillment")
        return response

    def WatchFulfillmentEvents(
        self, request: fulfillment_service_pb2.WatchFulfillmentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[fulfillment_service_pb2.WatchFulfillmentEventsResponse]:
        self.hooks.run_before("WatchFulfillmentEvents", str(request.after_sequence))
        for event in self.follow_events(request.after_sequence, context):
            yield fulfillment_service_pb2.WatchFulfillmentEventsResponse(event=event)
