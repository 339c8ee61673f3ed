"""GetOrder and CancelOrder: the access token, and cancelling at the payment service first."""

from __future__ import annotations

import grpc
import pytest
from conftest import RunningService, create_request, unavailable_service
from fakes import FakeCatalog, FakePayments

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_kit.errors import error_info
from pasar_order.models import Order, OrderState
from pasar_testkit.assertions import error_metadata, eventually, reason_of, refused
from pasar_testkit.fake_server import FakeGrpcServer


def place(service: RunningService, *lines: tuple[str, int]) -> order_service_pb2.CreateOrderResponse:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(*lines))
    return response


def get(service: RunningService, order_id: str, token: str) -> order_pb2.Order:
    response: order_service_pb2.GetOrderResponse = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=order_id, token=token)
    )
    return response.order


def cancel(service: RunningService, order_id: str, token: str) -> order_pb2.Order:
    response: order_service_pb2.CancelOrderResponse = service.stub.CancelOrder(
        order_service_pb2.CancelOrderRequest(id=order_id, token=token)
    )
    return response.order


def test_the_token_opens_the_order(service: RunningService) -> None:
    placed = place(service, ("pulsa-10k", 2))
    assert get(service, placed.order.id, placed.access_token) == placed.order


@pytest.mark.parametrize("which", ["wrong token", "unknown id", "another order's token"])
def test_a_wrong_token_reads_like_an_unknown_order(service: RunningService, which: str) -> None:
    placed = place(service)
    other = place(service)
    order_id, token = {
        "wrong token": (placed.order.id, "not-the-token"),
        "unknown id": ("ord_" + "0" * 32, placed.access_token),
        "another order's token": (placed.order.id, other.access_token),
    }[which]

    unknown = ("ord_" + "f" * 32, placed.access_token)
    for call in (get, cancel):
        error = refused(lambda call=call: call(service, order_id, token))  # type: ignore[misc]
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert reason_of(error) == ErrorReason.Name(ErrorReason.ORDER_NOT_FOUND)
        assert error_metadata(error) == {}
        # Nothing in the answer tells it from an order that does not exist.
        baseline = refused(lambda call=call: call(service, *unknown))  # type: ignore[misc]
        assert (error.details(), error_info(error)) == (baseline.details(), error_info(baseline))
    assert get(service, placed.order.id, placed.access_token).state == order_pb2.ORDER_STATE_PENDING_PAYMENT


def test_malformed_ids_and_tokens_are_invalid_arguments(service: RunningService) -> None:
    error = refused(lambda: get(service, "ORD-1", "token"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = refused(lambda: cancel(service, "ord_" + "a" * 32, ""))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = refused(lambda: get(service, "ord_" + "a" * 32, "t" * 129))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_an_order_still_in_checkout_is_invisible(
    service: RunningService, fake_payments: FakePayments
) -> None:
    placed = place(service)
    with service.database.connection_context():
        Order.update(state=OrderState.CREATING).where(Order.id == placed.order.id).execute()
    error = refused(lambda: get(service, placed.order.id, placed.access_token))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_cancelling_cancels_the_payment_then_releases_the_stock(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("pulsa-25k", 3))
    assert fake_catalog.stock("pulsa-25k") == 7

    cancelled = cancel(service, placed.order.id, placed.access_token)

    assert cancelled.state == order_pb2.ORDER_STATE_CANCELLED
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED
    eventually(lambda: fake_catalog.stock("pulsa-25k") == 10, message="the reservation is released")
    assert fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_RELEASED
    # Cancelling again returns it unchanged.
    again = cancel(service, placed.order.id, placed.access_token)
    assert again.state == order_pb2.ORDER_STATE_CANCELLED
    assert again.update_time == cancelled.update_time
    assert get(service, placed.order.id, placed.access_token).state == order_pb2.ORDER_STATE_CANCELLED


def test_a_paid_order_cannot_be_cancelled(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service)
    fake_payments.pay(placed.payment.id)
    eventually(lambda: get(service, placed.order.id, placed.access_token).state == order_pb2.ORDER_STATE_PAID)

    error = refused(lambda: cancel(service, placed.order.id, placed.access_token))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE)
    assert error_metadata(error) == {"state": order_pb2.OrderState.Name(order_pb2.ORDER_STATE_PAID)}


def test_cancelling_an_order_paid_a_moment_ago_makes_it_paid(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    placed = place(service, ("pulsa-10k", 1))
    # The money arrived, but its event has not reached the order service yet.
    with fake_payments.lock:
        fake_payments.payments[placed.payment.id].state = payment_pb2.PAYMENT_STATE_PAID

    error = refused(lambda: cancel(service, placed.order.id, placed.access_token))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE)
    assert error_metadata(error) == {"state": order_pb2.OrderState.Name(order_pb2.ORDER_STATE_PAID)}
    assert get(service, placed.order.id, placed.access_token).state == order_pb2.ORDER_STATE_PAID
    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )
    assert fake_catalog.stock("pulsa-10k") == 9


def test_cancelling_while_the_payment_service_is_down_changes_nothing(
    service: RunningService, fake_catalog: FakeCatalog, payments_server: FakeGrpcServer
) -> None:
    placed = place(service, ("pulsa-10k", 1))
    payments_server.stop()

    error = refused(lambda: cancel(service, placed.order.id, placed.access_token))

    assert unavailable_service(error) == "pasar.payment.v1.PaymentService"
    assert get(service, placed.order.id, placed.access_token).state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert fake_catalog.stock("pulsa-10k") == 9


@pytest.mark.parametrize(
    ("channel", "kind"),
    [("bca_va", "virtual_account"), ("qris", "qris"), ("gopay", "ewallet")],
)
def test_an_order_shows_how_to_pay_while_the_payment_service_is_down(
    service: RunningService, payments_server: FakeGrpcServer, channel: str, kind: str
) -> None:
    """The payment's instructions are kept with the order, as the payment was created: a
    shopper at the counter still sees the virtual account number with svc-payment down."""
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 1), channel=channel)
    )
    assert placed.order.payment_instructions.WhichOneof("kind") == kind
    assert getattr(placed.order.payment_instructions, kind) == getattr(placed.payment, kind)
    payments_server.stop()

    order = get(service, placed.order.id, placed.access_token)

    assert order.payment_instructions == placed.order.payment_instructions
    if kind == "virtual_account":
        assert order.payment_instructions.virtual_account.account_number == "8808123456789012"
