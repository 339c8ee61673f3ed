"""A shopper buys in a real browser: home, the order page with its destination, Beli, the
payment page, the sandbox payment, the delivery, the e-mails and the link they carry, at
desktop and phone widths. Each page is saved as a screenshot under var/artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

from browser_shop import BrowserShop, unique_email
from playwright.sync_api import Page, expect
from storefront_delivery_pages import expect_delivery_stage, expect_lookup, fill_destination
from storefront_pages import (
    ORDER_PAGE_URL,
    buy_button,
    channels,
    fill_order,
    horizontal_overflow,
    open_home,
    open_product,
    order_from_url,
    order_status,
    packages,
    product_cards,
    rupiah,
    screenshot,
    section,
)
from storefront_shop_pages import home_product_count


def test_a_shopper_buys_phone_credit_pays_and_opens_the_order_from_the_email(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    open_home(page, shop.url)
    expect(product_cards(page)).to_have_count(home_product_count(shop))
    card = page.locator('[data-product-id="pulsa-nusantara"]')
    expect(card.get_by_role("img")).to_have_count(0)  # the picture is decorative: the name is beside it
    expect(card.locator("img")).to_have_attribute("src", "/images/products/pulsa-nusantara.svg")
    expect(card.locator("[data-price-range]")).to_have_text(f"{rupiah('6.500')} – {rupiah('99.500')}")
    page.wait_for_load_state("networkidle")
    screenshot(page, screenshots, "home", "desktop")

    open_product(page, "Pulsa Nusantara")
    expect(packages(page)).to_have_count(6)
    expect(channels(page).first).to_be_visible()
    email = unique_email("pembeli")
    fill_order(page, "Pulsa 20.000", "BCA Virtual Account", email)
    fill_destination(page, "Nomor HP", "081234567890")
    expect_lookup(page, "phone_number", "operator")
    summary = section(page, "checkout")
    expect(summary.locator('[data-summary="subtotal"]')).to_have_text(rupiah("21.000"))
    expect(summary.locator('[data-summary="fee"]')).to_have_text(rupiah("4.000"))
    expect(summary.locator('[data-summary="total"]')).to_have_text(rupiah("25.000"))
    screenshot(page, screenshots, "order", "desktop")

    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)
    order_id, token = order_from_url(page)
    payment = section(page, "payment")
    expect(payment.get_by_role("heading", name="Detail Pembayaran")).to_be_visible()
    expect(payment.locator("[data-account-number]")).to_have_text(re.compile(r"^\d{10,}$"))
    expect(payment.locator("[data-payment-total]")).to_have_text(rupiah("25.000"))
    expect(payment.locator("[data-countdown]")).to_have_text(re.compile(r"^\d{2}:\d{2}(:\d{2})?$"))
    transaction = section(page, "transaction")
    expect(transaction.get_by_role("heading", name="Detail Transaksi")).to_be_visible()
    expect(transaction.locator("[data-order-id]")).to_have_text(order_id)
    expect(transaction.locator("[data-line-product]")).to_have_text("Pulsa Nusantara")
    expect(transaction.locator("[data-line-package]")).to_have_text("Pulsa 20.000")
    expect(section(page, "delivery").locator('[data-destination="phone_number"]')).to_have_text(
        "081234567890"
    )
    expect(transaction.locator("[data-order-total]")).to_have_text(rupiah("25.000"))
    expect(order_status(page)).to_have_text("Menunggu pembayaran")
    screenshot(page, screenshots, "payment", "desktop")

    page.get_by_role("button", name="Simulasikan pembayaran").click()
    # Paid, then delivered by the sandbox biller: the order ends Terkirim (FULFILLED).
    expect(order_status(page)).to_have_text("Terkirim", timeout=20_000)
    expect(payment.locator('[data-outcome="fulfilled"]')).to_contain_text("Pesanan Anda sudah terkirim")
    expect(page.get_by_role("button", name="Simulasikan pembayaran")).to_have_count(0)
    expect_delivery_stage(page, "delivered")
    screenshot(page, screenshots, "paid", "desktop")

    created = shop.wait_for_email(order_id, "order_created")
    paid = shop.wait_for_email(order_id, "payment_received")
    delivered = shop.wait_for_email(order_id, "delivered")
    link = f"{shop.url}/orders/{order_id}?token={token}"
    assert created.message["To"] == email
    assert created.order_links() != []
    assert set(created.order_links()) == {link}
    assert link in paid.order_links()
    assert link in delivered.order_links()

    # The link opens the order in a new tab, as from the shopper's mail program.
    mail_tab = page.context.new_page()
    mail_tab.goto(link)
    expect(section(mail_tab, "transaction").locator("[data-order-id]")).to_have_text(order_id)
    expect(order_status(mail_tab)).to_have_text("Terkirim")
    mail_tab.close()

    # The lookup page opens the same order from the pasted link.
    page.get_by_role("link", name="Cek pesanan").click()
    expect(page.get_by_role("heading", level=1, name="Cek pesanan")).to_be_visible()
    by_link = page.get_by_role("form", name="Dengan tautan dari e-mail")
    by_link.get_by_label("Tautan dari e-mail", exact=True).fill(link)
    screenshot(page, screenshots, "lookup", "desktop")
    by_link.get_by_role("button", name="Buka pesanan").click()
    page.wait_for_url(ORDER_PAGE_URL)
    expect(order_status(page)).to_have_text("Terkirim")


def test_a_shopper_on_a_phone_pays_by_qris(shop: BrowserShop, phone_page: Page, screenshots: Path) -> None:
    page = phone_page
    open_home(page, shop.url)
    expect(product_cards(page).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "home", "phone")

    open_product(page, "Token Listrik Prabayar")
    fill_order(page, "Token Listrik 50.000", "QRIS", unique_email("pembeli"))
    fill_destination(page, "Nomor Meter/ID Pelanggan", "14234567891")
    expect_lookup(page, "meter_number", "customer")
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "order", "phone")

    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)
    qr = section(page, "payment").get_by_role("img", name=re.compile(r"^Kode QRIS untuk membayar Rp"))
    expect(qr).to_be_visible()
    assert page.evaluate("(image) => image.naturalWidth > 0", qr.element_handle())
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "payment", "phone")

    page.get_by_role("button", name="Simulasikan pembayaran").click()
    expect(order_status(page)).to_have_text("Terkirim", timeout=20_000)
    expect_delivery_stage(page, "delivered")
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "paid", "phone")

    page.get_by_role("link", name="Cek pesanan").click()
    expect(page.get_by_role("heading", level=1, name="Cek pesanan")).to_be_visible()
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "lookup", "phone")


def test_the_order_page_works_with_the_keyboard_alone(shop: BrowserShop, page: Page) -> None:
    page.goto(f"{shop.url}/products/pulsa-nusantara")
    first_package = packages(page).first
    first_package.focus()
    page.keyboard.press("ArrowRight")  # the next package: Pulsa 10.000
    expect(packages(page).nth(1)).to_be_checked()
    channels(page).first.focus()
    page.keyboard.press("Space")
    expect(channels(page).first).to_be_checked()
    email = page.get_by_label("E-mail")
    email.focus()
    page.keyboard.type(unique_email("pembeli"))
    page.get_by_label("Nomor HP", exact=True).focus()
    page.keyboard.type("081234567890")
    page.keyboard.press("Enter")  # submits the form: Beli
    page.wait_for_url(ORDER_PAGE_URL)
    expect(order_status(page)).to_have_text("Menunggu pembayaran")


def test_the_language_switch_speaks_english_and_is_remembered(shop: BrowserShop, page: Page) -> None:
    open_home(page, shop.url)
    page.get_by_role("group", name="Bahasa").get_by_role("button", name=re.compile("^EN")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What would you like to buy today?")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{shop.url}/products/pulsa-nusantara")
    expect(page.get_by_role("group", name="Choose a package")).to_be_visible()
    expect(page.get_by_role("group", name="Choose a payment method")).to_be_visible()
    expect(page.get_by_role("button", name="Buy", exact=True)).to_be_visible()
    expect(page.get_by_role("group", name="Deliver to")).to_be_visible()
    # Prices stay Rupiah as Indonesians write them, whatever the language.
    first_package = page.get_by_role("group", name="Choose a package").get_by_role("radio").first
    expect(first_package.locator("xpath=..")).to_contain_text(rupiah("6.500"))
