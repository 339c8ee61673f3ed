"""CreateOrder against fake peers: prices from the catalog, the saga's steps, and their undoing."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, cast

import grpc
import pytest
from conftest import (
    RunningService,
    StartService,
    create_request,
    unavailable_service,
    with_destinations,
)
from fakes import FakeCatalog, FakePayments, outage

from pasar.common.v1 import money_pb2
from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit.errors import FailedPrecondition, ServiceError
from pasar_kit.ids import new_id, token_hash
from pasar_kit.timestamps import utc_now
from pasar_order import intents, messages, order_numbers, reasons
from pasar_order.access import stored_hash
from pasar_order.config import DEVELOPMENT_TOKEN_SECRET
from pasar_order.models import Email, Order, OrderLine, OrderState
from pasar_order.pricing import price_lines
from pasar_testkit.assertions import error_metadata, eventually, reason_of, refused
from pasar_testkit.fake_server import FakeGrpcServer


def count(service: RunningService, model: type[Order] | type[OrderLine] | type[Email]) -> int:
    with service.database.connection_context():
        total: int = model.select().count()
        return total


def test_an_order_is_priced_from_the_catalog_and_waits_for_its_payment(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 2), ("data-5gb", 1))
    )

    order = response.order
    assert order.id.startswith("ord_")
    assert len(order.id) == 36
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert [
        (line.package_id, line.quantity, line.unit_price.amount, line.line_total.amount)
        for line in order.lines
    ] == [
        ("pulsa-10k", 2, 10_500, 21_000),
        ("data-5gb", 1, 55_000, 55_000),
    ]
    assert order.lines[1].product_id == "paket-data"
    assert order.lines[1].product_display_name == "Produk paket-data"
    assert order.lines[1].package_display_name == "Paket data-5gb"
    assert order.subtotal.amount == 76_000
    assert order.subtotal.currency_code == "IDR"
    # The fee and the total are the payment service's.
    assert order.fee.amount == 4_000
    assert order.total.amount == 80_000
    assert order.language_code == "id"
    assert not order.HasField("paid_time")
    # A number for people, beside the id; the lines' English names as the catalog had them.
    assert re.fullmatch(r"PSR-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}", order.order_number)
    assert order.lines[1].product_display_name_en == "Product paket-data"
    assert order.lines[1].package_display_name_en == "Package data-5gb"

    payment = response.payment
    assert payment.order_id == order.id == fake_payments.payment_of(order.id).order_id
    assert order.payment_id == payment.id
    assert payment.amount.amount == 76_000
    assert payment.virtual_account.account_number
    # One deadline: the payment's; and how to pay, kept with the order.
    assert order.expire_time == payment.expire_time
    assert order.payment_instructions.virtual_account == payment.virtual_account

    assert fake_catalog.stock("pulsa-10k") == 8
    assert fake_catalog.stock("data-5gb") == 2
    assert fake_catalog.reservation_state(order.id) == product_pb2.RESERVATION_STATE_RESERVED

    # The token opens the order; only its hash is stored.
    assert len(response.access_token) >= 43
    with service.database.connection_context():
        stored = Order.get_by_id(order.id)
        assert stored.access_token_hash == token_hash(response.access_token)
        assert response.access_token.encode() not in repr(stored.__data__).encode()
        assert [email.kind for email in Email.select()] == ["order_created"]


def test_a_retry_with_the_same_request_id_returns_the_same_order_payment_and_token(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    request = create_request(("pulsa-10k", 1), request_id="checkout-7f3a", language="en")
    first: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(request)
    second: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(request)

    assert second.order.id == first.order.id
    assert second.payment.id == first.payment.id
    assert second.access_token == first.access_token
    assert second.order == first.order
    assert fake_catalog.stock("pulsa-10k") == 9
    assert len(fake_payments.payments) == 1
    assert count(service, Order) == 1
    assert count(service, Email) == 1
    # The same content with its lines in another order is the same request.
    reordered = create_request(("pulsa-10k", 1), request_id="checkout-7f3a", language="en")
    assert service.stub.CreateOrder(reordered).order.id == first.order.id


def test_a_request_id_reused_for_other_content_is_already_exists(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    service.stub.CreateOrder(create_request(("pulsa-10k", 1), request_id="reused-1"))

    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-10k", 2), request_id="reused-1")))

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(error) == ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED)
    assert fake_catalog.stock("pulsa-10k") == 9


def test_request_ids_differing_only_in_case_are_other_requests(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    """Request ids are case-sensitive (the contract's pattern allows both cases): on MariaDB,
    whose default collation ignores case, request_id is compared byte for byte."""
    lower = service.stub.CreateOrder(create_request(("pulsa-10k", 1), request_id="checkout-abc"))
    upper = service.stub.CreateOrder(create_request(("pulsa-10k", 2), request_id="CHECKOUT-ABC"))
    same_content = service.stub.CreateOrder(create_request(("pulsa-10k", 1), request_id="Checkout-Abc"))
    assert len({lower.order.id, upper.order.id, same_content.order.id}) == 3
    assert fake_catalog.stock("pulsa-10k") == 6
    assert len(fake_payments.payments) == 3
    assert count(service, Order) == 3
    with service.database.connection_context():
        assert Order.get_by_id(upper.order.id).request_id == "CHECKOUT-ABC"
    retried = service.stub.CreateOrder(create_request(("pulsa-10k", 2), request_id="CHECKOUT-ABC"))
    assert retried.order.id == upper.order.id


def test_without_a_request_id_each_call_is_a_new_order(service: RunningService) -> None:
    first = service.stub.CreateOrder(create_request())
    second = service.stub.CreateOrder(create_request())
    assert first.order.id != second.order.id
    assert first.access_token != second.access_token


def test_concurrent_retries_of_one_request_make_one_order(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    request = create_request(("pulsa-25k", 1), request_id="double-click")
    results: list[order_service_pb2.CreateOrderResponse] = []
    lock = threading.Lock()

    def place() -> None:
        response = service.stub.CreateOrder(request)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=place) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert len({response.order.id for response in results}) == 1
    assert len({response.access_token for response in results}) == 1
    assert fake_catalog.stock("pulsa-25k") == 9
    assert len(fake_payments.payments) == 1


@pytest.mark.parametrize(
    "case",
    [
        (
            [("no-such-package", 1)],
            "bca_va",
            grpc.StatusCode.NOT_FOUND,
            ProductErrorReason.Name(ProductErrorReason.PACKAGE_NOT_FOUND),
            {"package_id": "no-such-package"},
        ),
        (
            [("data-5gb", 4)],
            "bca_va",
            grpc.StatusCode.FAILED_PRECONDITION,
            ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK),
            {"package_id": "data-5gb", "requested": "4", "available": "3"},
        ),
        (
            [("pulsa-10k", 1)],
            "dana",
            grpc.StatusCode.NOT_FOUND,
            PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_NOT_FOUND),
            {"channel_code": "dana"},
        ),
        (  # OVO sends its request to the wallet of a phone number, and none was given
            [("pulsa-10k", 1)],
            "ovo",
            grpc.StatusCode.INVALID_ARGUMENT,
            PaymentErrorReason.Name(PaymentErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
            {"channel_code": "ovo"},
        ),
    ],
)
def test_a_hopeless_order_is_refused_before_anything_is_written(
    service: RunningService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    case: tuple[list[tuple[str, int]], str, grpc.StatusCode, str, dict[str, str]],
) -> None:
    lines, channel, code, expected_reason, expected_metadata = case
    error = refused(lambda: service.stub.CreateOrder(create_request(*lines, channel=channel)))

    assert error.code() == code
    assert reason_of(error) == expected_reason
    assert error_metadata(error) == expected_metadata
    assert count(service, Order) == 0
    assert count(service, OrderLine) == 0
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert fake_catalog.reservations == {}
    assert fake_payments.payments == {}


def test_an_amount_outside_the_channels_limits_is_refused_before_reserving(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    fake_catalog.add_package("voucher-game-1k", price=1_000, stock=50)

    error = refused(
        lambda: service.stub.CreateOrder(create_request(("voucher-game-1k", 2), channel="bca_va"))
    )

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE)
    assert error_metadata(error) == {
        "channel_code": "bca_va",
        "min_amount": "10000",
        "max_amount": "50000000",
    }
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert count(service, Order) == 0


def test_an_amount_beyond_int64_is_out_of_the_channels_range_with_its_limits(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    fake_catalog.add_package("emas-1kg", price=2**62, stock=5)

    error = refused(lambda: service.stub.CreateOrder(create_request(("emas-1kg", 2), channel="qris")))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE)
    assert error_metadata(error) == {"channel_code": "qris", "min_amount": "1000", "max_amount": "10000000"}
    assert count(service, Order) == 0


def test_stock_taken_between_pricing_and_reserving_is_out_of_stock_and_leaves_nothing(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    def sold_out_meanwhile() -> None:
        fake_catalog.packages["data-5gb"].stock_available = 0

    fake_catalog.hooks.before["ReserveStock"] = sold_out_meanwhile
    error = refused(lambda: service.stub.CreateOrder(create_request(("data-5gb", 1))))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK)
    assert error_metadata(error) == {"package_id": "data-5gb", "requested": "1", "available": "0"}
    assert count(service, Order) == 0
    assert count(service, OrderLine) == 0
    assert fake_payments.payments == {}
    assert fake_catalog.hooks.count("ReleaseReservation") == 0  # nothing was reserved


def test_a_refused_payment_releases_the_reservation_and_passes_the_reason_on(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    fake_payments.channels["bca_va"].min_amount.amount = 0  # the directory lets it through ...

    def refuse() -> None:  # ... but the payment service refuses it when asked
        raise FailedPrecondition(
            "disabled",
            reason=PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_DISABLED),
            metadata={"channel_code": "bca_va"},
        )

    fake_payments.hooks.before["CreatePayment"] = refuse
    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-10k", 3))))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_DISABLED)
    assert error_metadata(error) == {"channel_code": "bca_va"}
    assert fake_catalog.stock("pulsa-10k") == 10
    [(order_id, state)] = [(key, value[0]) for key, value in fake_catalog.reservations.items()]
    assert state == product_pb2.RESERVATION_STATE_RELEASED
    assert count(service, Order) == 0
    assert count(service, OrderLine) == 0
    assert fake_payments.payments == {}
    assert fake_payments.hooks.count("CreatePayment") == 1  # a refusal is not retried to learn an id
    assert order_id.startswith("ord_")


def test_a_payment_service_outage_answers_unavailable_and_undoes_everything(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    service.stub.CreateOrder(create_request())  # the channel list is read while it is up
    fake_payments.hooks.keep = True
    fake_payments.hooks.before["CreatePayment"] = outage

    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-25k", 2))))

    assert unavailable_service(error) == "pasar.payment.v1.PaymentService"
    asked_to_create = fake_payments.hooks.count("CreatePayment")
    fake_payments.hooks.before.clear()
    # No answer came, so a payment may still be in the making: the intent waits for the
    # sweeper, which finds none and undoes the checkout without making one to cancel.
    eventually(lambda: count(service, Order) == 1, message="only the first order is left")
    assert fake_catalog.stock("pulsa-25k") == 10
    assert len(fake_payments.payments) == 1
    assert fake_payments.hooks.count("CreatePayment") == asked_to_create
    assert fake_payments.hooks.count("FindPaymentByOrder") >= 2  # the checkout's look, then the sweeper's


def test_a_payment_made_after_the_checkout_gave_up_on_it_is_cancelled(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    # CreatePayment outlives the checkout's deadline (1 s) and makes the payment after the
    # checkout has undone itself as far as it could: the sweeper, looking again after the
    # lease, finds the payment and cancels it.
    fake_payments.hooks.before["CreatePayment"] = lambda: time.sleep(1.5)

    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-25k", 2))))

    assert unavailable_service(error) == "pasar.payment.v1.PaymentService"
    eventually(lambda: count(service, Order) == 0, message="the sweeper undid the checkout")
    [payment] = fake_payments.payments.values()
    assert payment.state == payment_pb2.PAYMENT_STATE_CANCELLED
    assert fake_catalog.stock("pulsa-25k") == 10


def test_a_catalog_outage_answers_unavailable_naming_the_catalog(
    service: RunningService, catalog_server: FakeGrpcServer, fake_payments: FakePayments
) -> None:
    catalog_server.stop()
    error = refused(lambda: service.stub.CreateOrder(create_request()))
    assert unavailable_service(error) == "pasar.product.v1.ProductService"
    assert count(service, Order) == 0
    assert fake_payments.payments == {}


def test_a_broken_catalog_answers_unavailable_naming_the_catalog(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    def bug() -> None:
        raise RuntimeError("a bug in the catalog")  # the catalog answers INTERNAL

    fake_catalog.hooks.before["BatchGetPackages"] = bug
    error = refused(lambda: service.stub.CreateOrder(create_request()))
    assert unavailable_service(error) == "pasar.product.v1.ProductService"
    assert count(service, Order) == 0


def test_a_lost_answer_to_reserve_stock_is_undone(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    # Every attempt reserves (the first for real, the retries idempotently), every answer is lost.
    fake_catalog.hooks.keep = True
    fake_catalog.hooks.after["ReserveStock"] = outage

    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-10k", 4))))

    assert unavailable_service(error) == "pasar.product.v1.ProductService"
    assert fake_catalog.stock("pulsa-10k") == 10  # released by the undo
    [state] = [entry[0] for entry in fake_catalog.reservations.values()]
    assert state == product_pb2.RESERVATION_STATE_RELEASED
    assert count(service, Order) == 0
    assert fake_payments.payments == {}


def leave_crashed_checkout(
    service: RunningService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    request: order_service_pb2.CreateOrderRequest,
    *,
    payment_created: bool,
    payment_requested: bool | None = None,
    lease_left: float = -1.0,
) -> str:
    """Leaves what a worker killed in the middle of a checkout leaves: the intent (its lease
    run out), the reservation, and maybe the payment, whose id it never recorded.

    payment_requested (by default payment_created): the intent records that CreatePayment
    was about to be called; the worker may have died before the call reached the payment
    service."""
    order_request = messages.order_request(request)
    order_id = new_id("ord")
    context = cast(Any, None)
    with service.database.connection_context():
        priced = price_lines(order_request.lines, list(fake_catalog.packages.values()), {})
        intents.create(
            order_id=order_id,
            request_id=order_request.request_id,
            fingerprint=order_request.fingerprint,
            customer_email=order_request.customer_email,
            language_code=order_request.language_code,
            payment_channel_code=order_request.payment_channel_code,
            priced=priced,
            access_token_hash=stored_hash(DEVELOPMENT_TOKEN_SECRET, order_id),
            owner="dead-worker",
            # Held while this sets the scene, so that the sweeper does not undo it half made.
            lease=timedelta(seconds=60),
            database=service.database,
        )
        stock_lines = [product_pb2.StockLine(package_id=p, quantity=q) for p, q in order_request.lines]
        fake_catalog.ReserveStock(
            product_service_pb2.ReserveStockRequest(order_id=order_id, lines=stock_lines), context
        )
        # Checked here, while the lease holds the sweeper off: once it has run out below, the
        # sweeper may release the stock before the caller could look (a flake on MariaDB).
        assert fake_catalog.reservation_state(order_id) == product_pb2.RESERVATION_STATE_RESERVED
        if payment_created if payment_requested is None else payment_requested:
            Order.update(payment_requested=True).where(Order.id == order_id).execute()
        if payment_created:
            fake_payments.CreatePayment(
                payment_service_pb2.CreatePaymentRequest(
                    order_id=order_id,
                    channel_code=order_request.payment_channel_code,
                    amount=money_pb2.Money(currency_code="IDR", amount=priced.subtotal),
                    description=intents.payment_description(order_id),
                    customer_email=order_request.customer_email,
                ),
                context,
            )
        Order.update(lease_until=utc_now() + timedelta(seconds=lease_left)).where(
            Order.id == order_id
        ).execute()
    return order_id


@pytest.mark.parametrize(
    ("payment_requested", "payment_created"),
    [(False, False), (True, False), (True, True)],
    ids=["before-the-payment", "died-calling-create-payment", "after-the-payment"],
)
def test_a_checkout_whose_worker_crashed_is_undone_by_the_sweeper(
    service: RunningService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    payment_requested: bool,
    payment_created: bool,
) -> None:
    request = create_request(("pulsa-10k", 5), request_id="crash-1")
    order_id = leave_crashed_checkout(
        service,
        fake_catalog,
        fake_payments,
        request,
        payment_created=payment_created,
        payment_requested=payment_requested,
    )
    created_by_the_dead_worker = fake_payments.hooks.count("CreatePayment")

    eventually(lambda: count(service, Order) == 0, message="the sweeper removed the intent")
    assert count(service, OrderLine) == 0
    assert fake_catalog.stock("pulsa-10k") == 10
    assert fake_catalog.reservation_state(order_id) == product_pb2.RESERVATION_STATE_RELEASED
    if payment_created:
        assert fake_payments.payment_of(order_id).state == payment_pb2.PAYMENT_STATE_CANCELLED
    else:
        assert fake_payments.payments == {}  # no payment was made: none is made to be cancelled
    # Undoing never asks for a payment (the retry below does, for its new order).
    assert fake_payments.hooks.count("CreatePayment") == created_by_the_dead_worker
    # The request id is free again: a retry places a new order.
    assert service.stub.CreateOrder(request).order.id != order_id


def test_a_crashed_checkout_whose_payment_was_paid_becomes_paid(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    fake_payments.hooks.before["CancelPayment"] = lambda: None
    request = create_request(("pulsa-10k", 2))
    # The lease holds the sweeper off until the payment is paid (a lease that ran out
    # before it was extended let the sweeper undo the checkout first: a flake).
    order_id = leave_crashed_checkout(
        service, fake_catalog, fake_payments, request, payment_created=True, lease_left=3600
    )
    fake_payments.pay(fake_payments.payment_of(order_id).id)

    def paid() -> bool:
        with service.database.connection_context():
            return bool(Order.get_by_id(order_id).state == OrderState.PAID)

    eventually(paid, message="the PAID event marks the crashed checkout paid")
    eventually(lambda: fake_catalog.reservation_state(order_id) == product_pb2.RESERVATION_STATE_COMMITTED)
    assert fake_catalog.stock("pulsa-10k") == 8
    with service.database.connection_context():
        queued = [email.kind for email in Email.select().where(Email.order == order_id).order_by(Email.id)]
    assert queued == ["order_created", "payment_received"]  # the checkout never got to queue the first


def test_a_retry_resumes_a_checkout_whose_worker_crashed(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    service = start_service(PASAR_ORDER_SWEEP_SECONDS="600")  # the retry comes before the sweeper
    request = create_request(("pulsa-10k", 1), request_id="resume-me")
    # The lease runs out after the sweeper's first round (at start-up), before the retry.
    order_id = leave_crashed_checkout(
        service, fake_catalog, fake_payments, request, payment_created=True, lease_left=1
    )
    time.sleep(1.2)

    response = service.stub.CreateOrder(request)

    assert response.order.id == order_id
    assert response.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert response.payment.id == fake_payments.payment_of(order_id).id
    assert fake_catalog.stock("pulsa-10k") == 9
    assert len(fake_payments.payments) == 1
    assert service.stub.CreateOrder(request).access_token == response.access_token


def test_a_resumed_checkout_that_cannot_reserve_cancels_the_first_attempts_payment(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    """The crashed attempt had asked for a payment; the retry resuming it finds the catalog
    down at ReserveStock and undoes the checkout: that payment is cancelled too (it was
    left pending, payable for an order that no longer existed)."""
    service = start_service(PASAR_ORDER_SWEEP_SECONDS="600")  # the retry comes before the sweeper
    request = create_request(("pulsa-10k", 1), request_id="resume-then-fail")
    order_id = leave_crashed_checkout(
        service, fake_catalog, fake_payments, request, payment_created=True, lease_left=1
    )
    time.sleep(1.2)
    fake_catalog.hooks.keep = True
    fake_catalog.hooks.before["ReserveStock"] = outage

    error = refused(lambda: service.stub.CreateOrder(request))

    assert unavailable_service(error) == "pasar.product.v1.ProductService"
    assert count(service, Order) == 0
    assert fake_catalog.stock("pulsa-10k") == 10
    assert fake_payments.payment_of(order_id).state == payment_pb2.PAYMENT_STATE_CANCELLED


def test_a_retry_waits_for_an_attempt_still_in_progress(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    release = threading.Event()

    def slow_payment_service() -> None:
        release.wait(5)

    fake_payments.hooks.before["CreatePayment"] = slow_payment_service
    request = create_request(("pulsa-10k", 1), request_id="slow-one")
    first: list[order_service_pb2.CreateOrderResponse] = []
    thread = threading.Thread(target=lambda: first.append(service.stub.CreateOrder(request)))
    thread.start()
    eventually(lambda: fake_payments.hooks.count("CreatePayment") == 1)

    threading.Timer(0.3, release.set).start()
    second = service.stub.CreateOrder(request)
    thread.join()

    assert second.order.id == first[0].order.id
    assert second.access_token == first[0].access_token
    assert len(fake_payments.payments) == 1


def test_packages_priced_in_different_currencies_are_refused_before_reserving(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    fake_catalog.add_package("steam-5usd", 5, stock=5).price.currency_code = "USD"

    error = refused(lambda: service.stub.CreateOrder(create_request(("pulsa-10k", 1), ("steam-5usd", 1))))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ErrorReason.Name(ErrorReason.MIXED_CURRENCIES)
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert fake_payments.payments == {}


@pytest.mark.parametrize(
    "answer", [reasons.request_id_racing, reasons.earlier_attempt_in_progress, reasons.checkout_abandoned]
)
def test_every_retry_answer_is_aborted_with_the_contention_reason(answer: Callable[[], ServiceError]) -> None:
    """A caller that retries on the contract's CONTENTION retries these too (issue 12)."""
    error = answer()
    assert error.code == grpc.StatusCode.ABORTED
    assert error.reason == CommonErrorReason.Name(CommonErrorReason.CONTENTION)


def test_an_order_number_already_taken_is_drawn_again(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    first: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("pulsa-10k", 1)))
    draws = iter([first.order.order_number, "PSR-2345AB"])
    monkeypatch.setattr(order_numbers, "new_order_number", lambda: next(draws))

    second: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("pulsa-10k", 1)))

    assert second.order.order_number == "PSR-2345AB"
    assert second.order.id != first.order.id
    with service.database.connection_context():
        assert sorted(str(order.order_number) for order in Order.select()) == sorted(
            [first.order.order_number, "PSR-2345AB"]
        )


def test_checkouts_drawing_one_number_at_once_each_get_a_number_of_their_own(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both first draws are the same number and the checkouts race to insert it: the unique
    index lets one have it (on MariaDB the other waits for that insert's commit), the other
    draws again."""
    draws = iter(["PSR-2345AB", "PSR-2345AB", "PSR-2345CD", "PSR-2345EF"])
    lock = threading.Lock()

    def draw() -> str:
        with lock:
            return next(draws)

    monkeypatch.setattr(order_numbers, "new_order_number", draw)
    start = threading.Barrier(2)

    def place() -> str:
        start.wait()
        response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
            create_request(("pulsa-10k", 1))
        )
        return response.order.order_number

    with ThreadPoolExecutor(max_workers=2) as pool:
        numbers = sorted(pool.map(lambda _: place(), range(2)))
    assert numbers == ["PSR-2345AB", "PSR-2345CD"]


def test_the_checkouts_answer_is_the_order_as_stored(service: RunningService) -> None:
    """CreateOrder answers from the rows it wrote and the change it made, reading neither
    back: GetOrder, which reads them, answers the very same order (lines, destinations,
    payment, every time)."""
    request = with_destinations(
        create_request(("pulsa-10k", 2), ("telkomsel-20k", 1)), telkomsel_20k={"phone_number": "081234567890"}
    )
    placed = service.stub.CreateOrder(request)
    got = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    ).order
    assert placed.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert got == placed.order
