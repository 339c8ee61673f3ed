"""What was paid for reaches the shopper (issue 14), in a real browser against the whole shop
and svc-fulfillment's sandbox biller, at desktop and phone widths: the destination form
(the PLN customer's name before Beli, the operator's prefixes, a number too short), the
delivered electricity token with its kWh and copy button, and a refused delivery refunded.

The sandbox biller's outcome follows the destination (svc-fulfillment/README.md): a number
ending 0001 is refused by the "operator", anything ordinary is delivered at once.
Screenshots: destination-form-*, destination-errors-*, delivered-token-*, refund-*.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_shop import BrowserShop, unique_email
from playwright.sync_api import Page, expect
from storefront_delivery_pages import (
    TOKEN_IN_GROUPS,
    copy_button,
    destination_error,
    expect_delivery_stage,
    expect_lookup,
    fill_destination,
)
from storefront_pages import (
    ORDER_PAGE_URL,
    buy_button,
    fill_order,
    horizontal_overflow,
    order_from_url,
    order_status,
    rupiah,
    screenshot,
    section,
)

WIDTHS = ["desktop", "phone"]
METER_LABEL = "Nomor Meter/ID Pelanggan"
#: A meter the sandbox knows and delivers to (any number not ending 0000, 0001, 0002, 0009).
METER = "14234567891"
#: A Telkomsel number the sandbox's operator refuses (ending 0001: DESTINATION_REFUSED).
REFUSED_PHONE = "081234560001"
#: The sandbox's PLN customers are upper-case names, with the meter's tariff and power.
CUSTOMER_NOTE = re.compile(r"^Nama pelanggan: [A-Z]+( [A-Z]+)+ — R\d/\d+ VA$")
#: kWh as id-ID writes it: a decimal comma, at most two decimals.
KWH = re.compile(r"^\d+(,\d{1,2})? kWh$")


def open_order_page(page: Page, shop: BrowserShop, product_id: str, heading: str) -> None:
    page.goto(f"{shop.url}/products/{product_id}")
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()


def pay_with_the_sandbox(page: Page) -> None:
    page.get_by_role("button", name="Simulasikan pembayaran").click()


def buy(page: Page) -> tuple[str, str]:
    """Presses Beli and returns the new order's id and access token from the payment page."""
    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)
    return order_from_url(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_pln_token_is_delivered_with_its_kwh_and_a_copy_button_after_the_meter_names_its_customer(
    shop: BrowserShop, sized_page: Page, width: str, screenshots: Path
) -> None:
    page = sized_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shop.url)
    open_order_page(page, shop, "token-listrik", "Token Listrik Prabayar")
    email = unique_email("pengiriman")
    fill_order(page, "Token Listrik 20.000", "BCA Virtual Account", email)
    expect(buy_button(page)).to_be_disabled()
    expect(page.locator("[data-buy-blocked]")).to_have_text("Isi data tujuan dengan benar untuk membeli.")

    fill_destination(page, METER_LABEL, METER)
    expect(expect_lookup(page, "meter_number", "customer")).to_have_text(CUSTOMER_NOTE)
    expect(buy_button(page)).to_be_enabled()
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "destination-form", width)

    order_id, token = buy(page)
    line = expect_delivery_stage(page, "awaitingPayment")
    expect(line.locator('[data-destination="meter_number"]')).to_have_text(METER)
    pay_with_the_sandbox(page)

    line = expect_delivery_stage(page, "delivered")
    delivered_token = line.locator("[data-token]")
    expect(delivered_token).to_have_text(TOKEN_IN_GROUPS)
    expect(line.locator("[data-kwh]")).to_have_text(KWH)
    expect(line.locator("[data-serial-number]")).to_have_text(re.compile(r"^\d{16,20}$"))
    shown = delivered_token.inner_text()
    assert len(shown.replace("-", "")) == 20

    copy_button(page, "Token listrik").click()
    expect(line.get_by_text("Token listrik disalin")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == shown

    expect(order_status(page)).to_have_text("Terkirim")
    expect(section(page, "payment").locator('[data-outcome="fulfilled"]')).to_be_visible()
    assert shop.order_state(order_id, token) == "ORDER_STATE_FULFILLED"
    assert shown in shop.wait_for_email(order_id, "delivered").text()
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "delivered-token", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_number_of_another_operator_is_named_and_an_invalid_number_keeps_beli_disabled(
    shop: BrowserShop, sized_page: Page, width: str, screenshots: Path
) -> None:
    page = sized_page
    open_order_page(page, shop, "pulsa-nusantara", "Pulsa Nusantara")
    fill_order(page, "Pulsa 20.000", "BCA Virtual Account", unique_email("pengiriman"))
    number = page.get_by_label("Nomor HP", exact=True)
    blocked = page.locator("[data-buy-blocked]")

    # An Indosat number for a Telkomsel product: the field names the product's operator.
    number.fill("085712345678")
    expect(destination_error(page, "phone_number")).to_have_text(
        "Nomor ini bukan nomor Telkomsel (0811, 0812, …)."
    )
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(buy_button(page)).to_be_disabled()
    expect(blocked).to_have_text("Isi data tujuan dengan benar untuk membeli.")
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "destination-errors", width)

    # Too short, once the shopper leaves the field.
    number.fill("0812345")
    number.blur()
    expect(destination_error(page, "phone_number")).to_have_text("Nomor HP minimal 10 digit.")
    expect(buy_button(page)).to_be_disabled()

    # The operator's own number: no error, the look-up names the operator, Beli is enabled.
    number.fill("081234567890")
    expect(expect_lookup(page, "phone_number", "operator")).to_have_text("Operator: Telkomsel")
    expect(destination_error(page, "phone_number")).to_have_count(0)
    expect(number).not_to_have_attribute("aria-invalid", "true")
    expect(buy_button(page)).to_be_enabled()
    expect(blocked).to_have_count(0)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_delivery_the_operator_refuses_ends_refunded_on_the_page(
    shop: BrowserShop, sized_page: Page, width: str, screenshots: Path
) -> None:
    page = sized_page
    open_order_page(page, shop, "pulsa-nusantara", "Pulsa Nusantara")
    fill_order(page, "Pulsa 20.000", "BCA Virtual Account", unique_email("pengiriman"))
    fill_destination(page, "Nomor HP", REFUSED_PHONE)
    expect_lookup(page, "phone_number", "operator")
    order_id, token = buy(page)
    pay_with_the_sandbox(page)

    line = expect_delivery_stage(page, "refunded")
    expect(line.locator("[data-failure]")).to_have_text("Nomor tujuan tidak dapat menerima produk ini.")
    # The line's price comes back, and with nothing delivered the fee too: the whole total.
    expect(line.locator("[data-refund]")).to_have_text(
        re.compile(rf"^{re.escape(rupiah('21.000'))} dikembalikan ke pembayaran Anda ")
    )
    expect(section(page, "transaction").locator("[data-refunded-total]")).to_have_text(rupiah("25.000"))
    expect(order_status(page)).to_have_text("Dana dikembalikan")
    expect(section(page, "payment").locator('[data-outcome="refunded"]')).to_contain_text(
        "dana sudah dikembalikan"
    )
    expect(line.locator("[data-token], [data-voucher-code], [data-serial-number]")).to_have_count(0)

    assert shop.order_state(order_id, token) == "ORDER_STATE_REFUNDED"
    shop.wait_for_email(order_id, "refunded")
    assert "delivered" not in [mail.kind for mail in shop.emails(order_id)]
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "refund", width)
