"""The whole checkout over gRPC: order, payment, paid, stock sold, delivered, the three e-mails."""

from __future__ import annotations

from conftest import StartShop

from pasar.order.v1 import order_pb2
from pasar.payment.v1 import payment_pb2
from pasar_testkit.mail import body_text
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def test_the_whole_checkout(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=11_500, stock=5, name="Pulsa 10.000")

    placed = shop.place(create_order_request((package_id, 2), channel="bca_va", language="en"))

    order, payment = placed.order, placed.payment
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    assert [(line.package_id, line.quantity, line.unit_price.amount) for line in order.lines] == [
        (package_id, 2, 11_500)
    ]
    assert order.lines[0].package_display_name == "Pulsa 10.000"
    assert order.lines[0].product_display_name == "Pulsa Uji"
    assert order.subtotal.amount == 23_000
    assert order.fee.amount == 4_000  # BCA virtual account: a flat Rp 4.000
    assert order.total.amount == 27_000
    assert payment.id == order.payment_id
    assert payment.state == payment_pb2.PAYMENT_STATE_PENDING
    assert payment.total.amount == 27_000
    assert len(payment.virtual_account.account_number) == 16
    assert shop.stock(package_id) == 3
    assert shop.rows("product", "SELECT state FROM reservation WHERE order_id = ?", (order.id,)) == [
        ("RESERVED",)
    ]
    assert shop.order(order.id, placed.access_token) == order

    paid = shop.simulate(payment.id)
    assert paid.state == payment_pb2.PAYMENT_STATE_PAID

    order = shop.wait_until_paid(order.id, placed.access_token)
    assert order.paid_time == paid.paid_time
    wait_for(
        lambda: (
            shop.rows("product", "SELECT state FROM reservation WHERE order_id = ?", (order.id,))
            == [("COMMITTED",)]
        ),
        what="the reservation is committed",
    )
    assert shop.stock(package_id) == 3  # sold: the units never come back

    order = shop.wait_for_order_state(order.id, placed.access_token, order_pb2.ORDER_STATE_FULFILLED)
    assert order.paid_time == paid.paid_time
    wait_for(lambda: len(shop.mails(order.id)) == 3, what="the three e-mails are written")
    [created] = shop.mails(order.id, "order_created")
    [received] = shop.mails(order.id, "payment_received")
    [delivered] = shop.mails(order.id, "delivered")
    [voucher] = order.lines[0].fulfillment.deliveries[:1]
    assert voucher.voucher_code in body_text(delivered)[0]
    link = f"{shop.stack.gateway_url}/orders/{order.id}?token={placed.access_token}"
    for message in (created, received):
        assert message["To"] == "budi@example.co.id"
        text, html = body_text(message)
        assert link in text
        assert link in html
    text, _ = body_text(created)
    assert payment.virtual_account.account_number in text
    assert "Rp 27.000" in text
    assert "Pulsa Uji – Pulsa 10.000: 2 x Rp 11.500 = Rp 23.000" in text
    text, _ = body_text(received)
    assert "We have received your payment of Rp 27.000" in text
