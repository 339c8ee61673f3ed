"""The study's experiment in a real browser: with one service stopped, the parts of the
storefront that depend on it say so (with a retry) and everything else keeps working;
once the service is back, the same page recovers without being reloaded. With
svc-fulfillment (Go) stopped, shoppers still order and pay, the payment page says delivery
is delayed, and the delivery appears on that page once the service is back.

Services are stopped with SIGTERM by PID and started again on the same port; the gateway's
circuit breaker lets a probe through a moment after a service returns, so the recovery
steps press their button until it works, as a shopper would.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from browser_shop import BrowserShop
from playwright.sync_api import Page, expect
from storefront_delivery_pages import (
    DELIVERY_DELAYED_AFTER_SECONDS,
    TOKEN_IN_GROUPS,
    expect_delivery_stage,
    expect_lookup,
    fill_destination,
)
from storefront_pages import (
    ORDER_PAGE_URL,
    buy_button,
    channels,
    choose_package,
    fill_order,
    mark_document,
    open_home,
    open_product,
    order_from_url,
    order_status,
    packages,
    press_until,
    product_cards,
    rupiah,
    screenshot,
    section,
    was_reloaded,
)
from storefront_shop_pages import home_product_count


def browse_to_product(page: Page, shop: BrowserShop, name: str) -> None:
    """The home page lists every product without an alert (the catalog is up), then the
    product's page, marked to tell later whether it was reloaded."""
    open_home(page, shop.url)
    expect(product_cards(page)).to_have_count(home_product_count(shop))
    expect(section(page, "products").get_by_role("alert")).to_have_count(0)
    open_product(page, name)
    mark_document(page)


def test_with_the_order_service_down_products_and_channels_show_and_beli_recovers(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    shop.stop_service("order")

    browse_to_product(page, shop, "Pulsa Nusantara")
    expect(packages(page)).to_have_count(6)
    expect(channels(page).first).to_be_visible()
    email = f"fault-order-{uuid.uuid4().hex[:12]}@example.co.id"
    fill_order(page, "Pulsa 20.000", "BCA Virtual Account", email)
    fill_destination(page, "Nomor HP", "081234567890")

    buy_button(page).click()
    order_error = section(page, "order-error")
    expect(order_error).to_have_attribute("role", "alert")
    expect(order_error).to_contain_text("Pemesanan sedang tidak tersedia")
    expect(buy_button(page)).to_be_enabled()
    screenshot(page, screenshots, "order-unavailable", "desktop")

    # Everything but ordering still works: another package, and the summary follows it.
    choose_package(page, "Pulsa 50.000")
    expect(section(page, "checkout").locator('[data-summary="total"]')).to_have_text(rupiah("54.500"))
    expect(section(page, "channels").get_by_role("alert")).to_have_count(0)

    shop.start_service("order")
    press_until(page, buy_button(page), url=ORDER_PAGE_URL)
    assert not was_reloaded(page), "the page was reloaded to recover"
    order_id, _ = order_from_url(page)
    expect(section(page, "transaction").locator("[data-line-package]")).to_have_text("Pulsa 50.000")
    expect(order_status(page)).to_have_text("Menunggu pembayaran")

    # However often Beli was pressed, the shopper placed one order.
    shop.wait_for_email(order_id, "order_created")
    created = [
        mail for mail in shop.all_emails() if mail.kind == "order_created" and mail.message["To"] == email
    ]
    assert [mail.order_id for mail in created] == [order_id]


def test_with_the_payment_service_down_channels_show_their_error_and_products_still_show(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    shop.stop_service("payment")

    open_home(page, shop.url)
    expect(product_cards(page)).to_have_count(home_product_count(shop))
    open_product(page, "Pulsa Nusantara")
    mark_document(page)
    expect(packages(page)).to_have_count(6)
    channels_section = section(page, "channels")
    channels_error = channels_section.get_by_role("alert")
    expect(channels_error).to_contain_text("Metode pembayaran sedang tidak dapat dimuat")
    expect(channels(page)).to_have_count(0)
    expect(section(page, "product").get_by_role("alert")).to_have_count(0)
    choose_package(page, "Pulsa 10.000")
    expect(section(page, "checkout").locator('[data-summary="subtotal"]')).to_have_text(rupiah("11.500"))
    screenshot(page, screenshots, "channels-unavailable", "desktop")

    shop.start_service("payment")
    retry = channels_section.get_by_role("button", name="Coba lagi")
    press_until(page, retry, shows=channels(page).first)
    expect(channels_error).to_have_count(0)

    # The recovered page places the order, still without a reload. The gateway already
    # reaches the payment service again; svc-order's own channel to it may still be in its
    # reconnect backoff for up to 2 s, so Beli may answer "try again" once, as for a shopper.
    fill_order(page, "Pulsa 10.000", "QRIS", f"fault-payment-{uuid.uuid4().hex[:12]}@example.co.id")
    fill_destination(page, "Nomor HP", "081234567890")
    press_until(page, buy_button(page), url=ORDER_PAGE_URL)
    assert not was_reloaded(page), "the page was reloaded to recover"
    expect(
        section(page, "payment").get_by_role("img", name=f"Kode QRIS untuk membayar {rupiah('11.581')}")
    ).to_be_visible()


def test_with_the_product_service_down_the_catalog_shows_its_error_and_channels_still_show(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    shop.stop_service("product")

    open_home(page, shop.url)
    products_error = section(page, "products").get_by_role("alert")
    expect(products_error).to_contain_text("Produk sedang tidak dapat dimuat")
    screenshot(page, screenshots, "catalog-unavailable", "desktop")

    page.goto(f"{shop.url}/products/pulsa-nusantara")
    mark_document(page)
    expect(section(page, "product").get_by_role("alert")).to_contain_text("Produk sedang tidak dapat dimuat")
    expect(channels(page).first).to_be_visible()

    shop.start_service("product")
    retry = section(page, "product").get_by_role("button", name="Coba lagi")
    press_until(page, retry, shows=packages(page).first)
    expect(page.get_by_role("heading", level=1, name="Pulsa Nusantara")).to_be_visible()
    assert not was_reloaded(page), "the page was reloaded to recover"


def test_with_the_fulfillment_service_down_shoppers_order_and_pay_and_the_delivery_follows_its_return(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    shop.stop_service("fulfillment")

    browse_to_product(page, shop, "Token Listrik Prabayar")
    fill_order(
        page,
        "Token Listrik 20.000",
        "BCA Virtual Account",
        f"fault-fulfillment-{uuid.uuid4().hex[:12]}@example.co.id",
    )
    fill_destination(page, "Nomor Meter/ID Pelanggan", "14234567891")
    expect(expect_lookup(page, "meter_number", "unavailable")).to_have_text(
        "Nama pelanggan belum dapat diperiksa saat ini. Anda tetap dapat membeli."
    )
    expect(buy_button(page)).to_be_enabled()
    screenshot(page, screenshots, "lookup-unavailable", "desktop")

    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)
    order_id, token = order_from_url(page)
    page.get_by_role("button", name="Simulasikan pembayaran").click()
    expect(order_status(page)).to_have_text("Lunas", timeout=20_000)
    # The page says so once the line has waited DELIVERY_DELAYED_AFTER_SECONDS (a hang bound here).
    line = expect_delivery_stage(page, "delayed", timeout=(DELIVERY_DELAYED_AFTER_SECONDS + 30) * 1000)
    expect(line.locator("[data-delivery-title]")).to_have_text("Pengiriman tertunda")
    expect(line.locator("[data-token]")).to_have_count(0)
    assert shop.order_state(order_id, token) == "ORDER_STATE_PAID"
    screenshot(page, screenshots, "delivery-delayed", "desktop")

    shop.start_service("fulfillment")
    # svc-order's outbox asks again and the page, polling on its own, shows the delivery.
    line = expect_delivery_stage(page, "delivered", timeout=60_000)
    expect(line.locator("[data-token]")).to_have_text(TOKEN_IN_GROUPS)
    expect(order_status(page)).to_have_text("Terkirim")
    assert not was_reloaded(page), "the page was reloaded to show the delivery"
    assert shop.order_state(order_id, token) == "ORDER_STATE_FULFILLED"
    shop.wait_for_email(order_id, "delivered")
    screenshot(page, screenshots, "delivery-after-outage", "desktop")
