"""The order e-mails over a real SMTP server: once each, right content, and patient when it is down."""

from __future__ import annotations

from conftest import StartShop
from e2e_shop import Shop

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar_testkit.mail import MailCatcher, body_text
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def pay(shop: Shop, placed: order_service_pb2.CreateOrderResponse) -> None:
    shop.simulate(placed.payment.id)
    shop.wait_until_paid(placed.order.id, placed.access_token)


def test_both_emails_arrive_once_with_the_right_content(
    start_shop: StartShop, mail_catcher: MailCatcher
) -> None:
    shop = start_shop(smtp_url=mail_catcher.url)
    package_id = shop.add_package(price=11_500, stock=5, name="Pulsa 10.000")
    placed = shop.place(create_order_request((package_id, 1), channel="qris", email="rina@example.co.id"))
    order = placed.order

    [created] = wait_for(
        lambda: mail_catcher.received("order_created", order_id=order.id), what="the order e-mail"
    )
    pay(shop, placed)
    [received] = wait_for(
        lambda: mail_catcher.received("payment_received", order_id=order.id), what="the payment e-mail"
    )

    link = f"{shop.stack.gateway_url}/orders/{order.id}?token={placed.access_token}"
    total = f"Rp {order.total.amount:,}".replace(",", ".")
    assert created["Subject"] == f"Pesanan {order.order_number} menunggu pembayaran {total}"
    assert received["Subject"] == f"Pembayaran diterima: pesanan {order.order_number}"
    for message in (created, received):
        assert message["To"] == "rina@example.co.id"
        assert message["From"] == "Pasar <no-reply@pasar.test>"
        assert message["Content-Language"] == "id"
        text, html = body_text(message)
        assert link in text
        assert f'href="{link}"' in html
        assert "Pulsa Uji – Pulsa 10.000: 1 x Rp 11.500 = Rp 11.500" in text
    text, html = body_text(created)
    assert "Bayar dengan QRIS" in text
    assert "Cara membayar" in html
    assert f"Bayar tepat {total} sebelum" in text
    text, _ = body_text(received)
    assert f"Pembayaran Anda sebesar {total} untuk pesanan {order.order_number} sudah kami terima" in text

    # Once each: the delivery e-mail follows, nothing more arrives, and nothing was written
    # to files instead.
    shop.wait_for_order_state(order.id, placed.access_token, order_pb2.ORDER_STATE_FULFILLED)
    wait_for(lambda: mail_catcher.received("delivered", order_id=order.id), what="the delivery e-mail")
    wait_for(lambda: shop.rows("order", "SELECT DISTINCT state FROM emails") == [("DONE",)])
    assert len(mail_catcher.received(order_id=order.id)) == 3
    assert created["Message-ID"] != received["Message-ID"]
    assert shop.mails() == []


def test_emails_wait_for_the_smtp_server_to_come_back(
    start_shop: StartShop, mail_catcher: MailCatcher
) -> None:
    mail_catcher.stop()  # the mail server is down from the start
    shop = start_shop(smtp_url=mail_catcher.url)
    package_id = shop.add_package(price=30_000, stock=5)
    placed = shop.place(create_order_request((package_id, 1), channel="shopeepay", language="en"))
    pay(shop, placed)

    def retried() -> bool:
        rows: dict[str, tuple[str, int]] = {
            str(kind): (str(state), int(attempts))
            for kind, state, attempts in shop.rows("order", "SELECT kind, state, attempts FROM emails")
        }
        # "order created" is retried; "payment received" waits behind it, queued.
        first_retried = rows.get("order_created", ("", 0))[1] >= 2
        return first_retried and rows.get("payment_received", ("", 0))[0] == "QUEUED"

    wait_for(retried, what="both e-mails queued, the first retried")

    mail_catcher.start()

    wait_for(
        lambda: len(mail_catcher.received(order_id=placed.order.id)) == 3,
        what="the e-mails after SMTP is back",
    )
    wait_for(lambda: shop.rows("order", "SELECT DISTINCT state FROM emails") == [("DONE",)])
    assert sorted(m["X-Pasar-Email-Kind"] for m in mail_catcher.received()) == [
        "delivered",
        "order_created",
        "payment_received",
    ]
    [received] = mail_catcher.received("payment_received", order_id=placed.order.id)
    assert received["Subject"] == f"Payment received for order {placed.order.order_number}"
