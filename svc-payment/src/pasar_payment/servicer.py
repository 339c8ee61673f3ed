"""PaymentService's RPC handlers: protobuf in, a domain call, protobuf out.

The kit's call pipeline has already validated each request against the contract, opened
a database connection for unary calls, and will turn a raised domain error into its
status; handlers stay this thin.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from pasar.payment.v1 import payment_service_pb2 as service
from pasar.payment.v1 import payment_service_pb2_grpc
from pasar_payment.channels import PaymentWindows, list_enabled_channels
from pasar_payment.event_stream import EventStreams
from pasar_payment.messages import (
    channel_message,
    order_amount,
    payment_message,
    refund_amount,
    refund_message,
    stored_event_types,
)
from pasar_payment.payments import PaymentBook, find_payment_of_order, get_payment
from pasar_payment.refunds import PaymentRefunder
from pasar_payment.settlement import PaymentSettler


class PaymentServicer(payment_service_pb2_grpc.PaymentServiceServicer):
    def __init__(
        self,
        payments: PaymentBook,
        settler: PaymentSettler,
        refunder: PaymentRefunder,
        streams: EventStreams,
        windows: PaymentWindows,
    ) -> None:
        self.payments = payments
        self.windows = windows
        self.settler = settler
        self.refunder = refunder
        self.streams = streams

    def ListPaymentChannels(
        self, request: service.ListPaymentChannelsRequest, context: grpc.ServicerContext
    ) -> service.ListPaymentChannelsResponse:
        channels, next_page_token = list_enabled_channels(request.page_size, request.page_token)
        return service.ListPaymentChannelsResponse(
            payment_channels=[
                channel_message(channel, self.windows.seconds(channel)) for channel in channels
            ],
            next_page_token=next_page_token,
            sandbox=self.settler.sandbox_enabled,
        )

    def GetPayment(
        self, request: service.GetPaymentRequest, context: grpc.ServicerContext
    ) -> service.GetPaymentResponse:
        return service.GetPaymentResponse(payment=payment_message(get_payment(request.id)))

    def SimulatePayment(
        self, request: service.SimulatePaymentRequest, context: grpc.ServicerContext
    ) -> service.SimulatePaymentResponse:
        payment = self.settler.simulate_payment(request.id)
        return service.SimulatePaymentResponse(payment=payment_message(payment))

    def CreatePayment(
        self, request: service.CreatePaymentRequest, context: grpc.ServicerContext
    ) -> service.CreatePaymentResponse:
        payment = self.payments.create_payment(
            order_id=request.order_id,
            channel_code=request.channel_code,
            amount=order_amount(request),
            description=request.description,
            customer_email=request.customer_email,
            payer_phone_number=request.payer_phone_number,
        )
        return service.CreatePaymentResponse(payment=payment)

    def FindPaymentByOrder(
        self, request: service.FindPaymentByOrderRequest, context: grpc.ServicerContext
    ) -> service.FindPaymentByOrderResponse:
        payment = find_payment_of_order(request.order_id)
        if payment is None:
            return service.FindPaymentByOrderResponse()
        return service.FindPaymentByOrderResponse(payment=payment_message(payment))

    def CancelPayment(
        self, request: service.CancelPaymentRequest, context: grpc.ServicerContext
    ) -> service.CancelPaymentResponse:
        return service.CancelPaymentResponse(
            payment=payment_message(self.payments.cancel_payment(request.id))
        )

    def RefundPayment(
        self, request: service.RefundPaymentRequest, context: grpc.ServicerContext
    ) -> service.RefundPaymentResponse:
        outcome = self.refunder.refund_payment(
            payment_id=request.payment_id,
            request_id=request.request_id,
            amount=refund_amount(request),
            reason=request.reason,
        )
        return service.RefundPaymentResponse(
            payment=payment_message(outcome.payment), refund=refund_message(outcome.refund)
        )

    def NotifyPayment(
        self, request: service.NotifyPaymentRequest, context: grpc.ServicerContext
    ) -> service.NotifyPaymentResponse:
        outcome = self.settler.handle_notification(request.provider, request.payload, request.signature)
        return service.NotifyPaymentResponse(
            payment=payment_message(outcome.payment), duplicate=outcome.duplicate
        )

    def WatchPaymentEvents(
        self, request: service.WatchPaymentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[service.WatchPaymentEventsResponse]:
        yield from self.streams.watch(request.after_sequence, context, stored_event_types(request.types))
