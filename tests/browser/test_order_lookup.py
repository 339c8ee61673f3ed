"""Cek pesanan: a shopper finds an order again by its number and the e-mail address or
the phone number it was placed with, is told the same for a wrong pair as for an unknown
number, and to wait after too many attempts; and the orders placed on this device are
listed there (and linked from the header) until the shopper removes them.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from browser_shop import BrowserShop, PlacedOrder, unique_email
from playwright.sync_api import Locator, Page, expect
from storefront_delivery_pages import fill_destination
from storefront_pages import (
    ORDER_PAGE_URL,
    buy_button,
    fill_order,
    horizontal_overflow,
    open_home,
    open_product,
    order_from_url,
    screenshot,
    section,
)

NOT_FOUND = (
    "Pesanan tidak ditemukan. Periksa nomor pesanan, dan pakai e-mail atau nomor HP yang sama "
    "seperti saat memesan."
)
#: svc-order's failed look-ups of one number before it answers RATE_LIMITED (the default).
LOOKUP_MAX_FAILURES = 5
ORDER_NUMBER = re.compile(r"^PSR-[2-9A-HJKMNP-TV-Z]{6}$")
#: The characters of an order number, for a number nobody has.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def unknown_number() -> str:
    digits = uuid.uuid4().int
    return "PSR-" + "".join(ORDER_NUMBER_ALPHABET[(digits >> (5 * i)) % 30] for i in range(6))


def va_order(shop: BrowserShop, email: str) -> PlacedOrder:
    placed = shop.place_order(str(shop.channel("PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT")["code"]), email=email)
    assert ORDER_NUMBER.match(placed.number), placed.number
    return placed


def open_lookup_from_the_header(page: Page, shop: BrowserShop) -> None:
    open_home(page, shop.url)
    page.get_by_role("navigation").get_by_role("link", name="Cek pesanan").click()
    expect(page.get_by_role("heading", level=1, name="Cek pesanan")).to_be_visible()


def look_up(page: Page, number: str, contact: str) -> None:
    page.get_by_label("Nomor pesanan", exact=True).fill(number)
    page.get_by_label("E-mail atau nomor HP", exact=True).fill(contact)
    page.get_by_role("button", name="Cari pesanan").click()


def lookup_alert(page: Page) -> Locator:
    return section(page, "order-lookup").get_by_role("alert")


def expect_order_page(page: Page, placed: PlacedOrder) -> None:
    page.wait_for_url(ORDER_PAGE_URL)
    order_id, _ = order_from_url(page)
    assert order_id == placed.id
    expect(section(page, "transaction").locator("[data-order-id]")).to_have_text(placed.id)


def test_a_shopper_finds_an_order_by_its_number_and_email(shop: BrowserShop, page: Page) -> None:
    email = unique_email("cek")
    placed = va_order(shop, email)
    open_lookup_from_the_header(page, shop)
    # Typed as people type it: lower case, without "PSR-", the e-mail in capitals.
    look_up(page, placed.number.removeprefix("PSR-").lower(), f"  {email.upper()} ")
    expect_order_page(page, placed)
    # Found on this device, it is listed among this device's orders.
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^Pesanan saya")).click()
    expect(section(page, "recent-orders").locator("[data-recent-number]")).to_have_text([placed.number])


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_shopper_finds_an_order_by_its_number_and_the_phone_number_topped_up(
    shop: BrowserShop, sized_page: Page, width: str, screenshots: Path
) -> None:
    placed = va_order(shop, unique_email("cek"))  # a phone credit to 081234567890
    open_lookup_from_the_header(sized_page, shop)
    assert horizontal_overflow(sized_page) == 0
    screenshot(sized_page, screenshots, "lookup-empty", width)
    look_up(sized_page, placed.number, "+62 812-3456-7890")
    expect_order_page(sized_page, placed)


def test_a_wrong_pair_is_told_exactly_like_an_unknown_number(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    placed = va_order(shop, unique_email("cek"))
    open_lookup_from_the_header(page, shop)
    look_up(page, placed.number, unique_email("cek"))
    expect(lookup_alert(page)).to_have_text(NOT_FOUND)
    screenshot(page, screenshots, "lookup-not-found", "desktop")
    wrong_pair = lookup_alert(page).inner_text()
    look_up(page, placed.number, "081299998888")
    expect(lookup_alert(page)).to_have_text(NOT_FOUND)
    look_up(page, unknown_number(), unique_email("cek"))
    expect(lookup_alert(page)).to_have_text(NOT_FOUND)
    assert lookup_alert(page).inner_text() == wrong_pair
    assert page.url == f"{shop.url}/orders"


def test_too_many_attempts_for_one_number_say_how_long_to_wait(shop: BrowserShop, page: Page) -> None:
    number = unknown_number()
    for _ in range(LOOKUP_MAX_FAILURES):
        with pytest.raises(urllib.error.HTTPError) as failed:
            shop.api("/orders:lookup", {"orderNumber": number, "contact": unique_email("cek")})
        assert failed.value.code == 404
        assert json.load(failed.value)["error"]["code"] == "NOT_FOUND"
    open_lookup_from_the_header(page, shop)
    look_up(page, number, unique_email("cek"))
    expect(lookup_alert(page)).to_have_text(
        re.compile(r"^Terlalu banyak percobaan\. Coba lagi dalam \d+ (menit|detik)\.$")
    )


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_orders_placed_on_this_device_are_listed_until_removed(
    shop: BrowserShop, sized_page: Page, width: str, screenshots: Path
) -> None:
    page = sized_page
    open_home(page, shop.url)
    recent_link = page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^Pesanan saya"))
    expect(recent_link).to_have_count(0)

    open_product(page, "Pulsa Nusantara")
    fill_order(page, "Pulsa 20.000", "BCA Virtual Account", unique_email("cek"))
    fill_destination(page, "Nomor HP", "081234567890")
    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)
    order_id, token = order_from_url(page)
    number = shop.api(f"/orders/{order_id}?token={token}")["orderNumber"]

    recent_link.click()
    recent = section(page, "recent-orders")
    item = recent.get_by_role("listitem")
    expect(item).to_have_count(1)
    expect(item.locator("[data-recent-number]")).to_have_text(str(number))
    expect(item.locator("[data-recent-products]")).to_have_text("Pulsa Nusantara")
    expect(item.locator("[data-recent-total]")).to_have_text("Rp\u00a025.000")
    assert horizontal_overflow(page) == 0
    # The header's links stay on one row, even at a phone's width.
    links = [link.bounding_box() for link in page.get_by_role("navigation").get_by_role("link").all()]
    assert len({round(box["y"]) for box in links if box is not None}) == 1, links
    screenshot(page, screenshots, "lookup-recent", width)

    # It opens the order, and survives a reload: it is kept in the browser.
    item.get_by_role("link", name=f"Buka pesanan {number}").click()
    page.wait_for_url(ORDER_PAGE_URL)
    assert order_from_url(page)[0] == order_id
    page.goto(f"{shop.url}/orders")
    expect(item).to_have_count(1)

    item.get_by_role("button", name=f"Hapus {number} dari perangkat ini").click()
    expect(item).to_have_count(0)
    expect(recent).to_contain_text("Belum ada pesanan yang dibuat atau dicari di perangkat ini.")
    expect(recent_link).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Cek pesanan")).to_be_visible()
    expect(item).to_have_count(0)
    assert page.evaluate("window.localStorage.getItem('pasar.recentOrders')") is None
