"""The payment page of issue 15 in a real browser against the whole shop: one honest
deadline (the order's expiry, in WIB, for each kind of channel), the order number, the
QRIS saved as a PNG, a bank's folded steps, the virtual account number while the payment
service is stopped, the e-wallet's next step, and where the focus goes after
"Simulasikan pembayaran".

Orders are placed over the REST API (storefront_payment_pages.place_voucher_order); the page is
opened from the order's link. Screenshots: payment-<kind>-desktop, payment-va-steps-phone,
payment-unreachable-desktop.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_shop import BrowserShop, parse_timestamp
from playwright.sync_api import Page, expect
from storefront_pages import horizontal_overflow, order_status, rupiah, screenshot, section
from storefront_payment_pages import (
    PNG_SIGNATURE,
    bank_guide,
    deadline,
    open_payment_page,
    payment_status,
    payment_window,
    place_voucher_order,
    read_payment,
    shop_clock,
    shop_datetime_attribute,
    window_in_words,
)

#: A Telkomsel number for the push wallets (OVO and DANA ask for the payer's phone number).
PAYER_PHONE = "081234567890"
#: The order number's shape: "PSR-" and six characters of 23456789ABCDEFGHJKMNPQRSTVWXYZ.
ORDER_NUMBER = re.compile(r"^PSR-[2-9A-HJKMNP-TV-Z]{6}$")
#: One game voucher (Rp 15.000) and each channel's admin fee, as the demo channels charge it.
VA_TOTAL = rupiah("19.000")


@dataclass(frozen=True)
class ChannelCase:
    """A demo channel of one kind, and the phone number it asks for (push wallets)."""

    channel: str
    kind: str
    payer_phone: str = ""


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ChannelCase("bca_va", "virtualAccount"), id="virtual-account"),
        pytest.param(ChannelCase("qris", "qris"), id="qris"),
        pytest.param(ChannelCase("ovo", "ewallet", PAYER_PHONE), id="ewallet-with-phone"),
        pytest.param(ChannelCase("alfamart", "retailOutlet"), id="retail-outlet"),
    ],
)
def test_the_deadline_shown_is_the_orders_expiry_in_wib(
    shop: BrowserShop, page: Page, screenshots: Path, case: ChannelCase
) -> None:
    kind = case.kind
    placed = place_voucher_order(shop, case.channel, payer_phone_number=case.payer_phone)
    # One deadline: the payment expires at the order's expiry.
    payment_json = read_payment(shop, placed.payment_id)
    assert parse_timestamp(payment_json["expireTime"]) == placed.expire_time

    payment = open_payment_page(page, shop.url, placed)
    expect(payment.locator(f'[data-instructions="{kind}"]')).to_be_visible()
    expect(deadline(page)).to_have_attribute("datetime", shop_datetime_attribute(placed.expire_time))
    expect(deadline(page)).to_contain_text(shop_clock(placed.expire_time))
    expect(payment.locator("[data-deadline-box]")).to_contain_text("Bayar sebelum")
    window = window_in_words(placed.expire_time - placed.create_time)
    expect(payment_window(page)).to_have_text(f"Bayar dalam {window}")
    expect(payment.locator("[data-countdown]")).to_have_text(re.compile(r"^\d{2}:\d{2}(:\d{2})?$"))

    assert ORDER_NUMBER.match(placed.number), placed.number
    expect(section(page, "order-number").locator("[data-order-number]")).to_have_text(placed.number)
    expect(section(page, "order-number").get_by_role("button", name="Salin Nomor pesanan")).to_be_visible()
    assert placed.id in page.url  # the id stays the key, in the address

    if kind == "ewallet":
        # A push wallet: the request went to the masked number; approve before the deadline.
        push = payment.locator("[data-ewallet-push]")
        expect(push).to_contain_text("akun OVO 0812****7890")
        expect(push).to_contain_text(f"setujui sebelum {shop_clock(placed.expire_time)}")
        expect(payment.locator("[data-checkout-url]")).to_have_count(0)
    screenshot(page, screenshots, f"payment-{kind}", "desktop")


def test_a_wallet_without_a_link_in_the_demo_points_to_the_simulate_button(
    shop: BrowserShop, page: Page
) -> None:
    placed = place_voucher_order(shop, "gopay")
    payment = open_payment_page(page, shop.url, placed)
    expect(payment.locator("[data-ewallet-sandbox]")).to_contain_text("“Simulasikan pembayaran”")
    expect(payment.get_by_role("button", name="Simulasikan pembayaran")).to_be_visible()
    # Never a link to a placeholder host.
    expect(page.locator('a[href*=".test"]')).to_have_count(0)
    expect(payment.locator("[data-checkout-url]")).to_have_count(0)


def test_save_qr_downloads_a_png_named_by_the_order_number(shop: BrowserShop, page: Page) -> None:
    placed = place_voucher_order(shop, "qris")
    payment = open_payment_page(page, shop.url, placed)
    expect(payment.get_by_role("img", name=re.compile(r"^Kode QRIS untuk membayar Rp"))).to_be_visible()
    with page.expect_download() as download_info:
        payment.get_by_role("link", name="Simpan QR").click()
    download = download_info.value
    assert download.suggested_filename == f"QRIS-{placed.number}.png"
    saved = Path(download.path()).read_bytes()
    assert saved.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", saved[16:24])  # the IHDR chunk: big enough to scan from a gallery
    assert width == height >= 480


def test_a_banks_steps_open_with_the_number_and_the_total_filled_in(
    shop: BrowserShop, phone_page: Page, screenshots: Path
) -> None:
    page = phone_page
    placed = place_voucher_order(shop, "bca_va")
    payment = open_payment_page(page, shop.url, placed)
    number = payment.locator("[data-account-number]").inner_text()
    guides = payment.locator("details[data-guide]")
    expect(guides.locator("summary")).to_have_text(["ATM BCA", "BCA mobile (m-BCA)", "KlikBCA"])
    atm = bank_guide(page, "atm")
    expect(atm.get_by_role("listitem").first).to_be_hidden()  # folded until asked

    atm.get_by_text("ATM BCA", exact=True).click()
    expect(atm).to_have_attribute("open", "")
    expect(atm.get_by_role("listitem")).to_have_count(5)
    expect(atm.get_by_role("listitem").nth(2)).to_contain_text(number)
    expect(atm).to_contain_text(VA_TOTAL)
    expect(bank_guide(page, "mobile").get_by_role("listitem").first).to_be_hidden()

    # By keyboard too: the summary is a control.
    mobile_summary = bank_guide(page, "mobile").locator("summary")
    mobile_summary.focus()
    page.keyboard.press("Enter")
    expect(bank_guide(page, "mobile")).to_have_attribute("open", "")
    expect(bank_guide(page, "mobile")).to_contain_text(number)
    assert horizontal_overflow(page) == 0
    screenshot(page, screenshots, "payment-va-steps", "phone")


def test_with_the_payment_service_stopped_the_virtual_account_number_still_shows(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    placed = place_voucher_order(shop, "bca_va")
    number = read_payment(shop, placed.payment_id)["virtualAccount"]["accountNumber"]

    shop.stop_service("payment")
    page.goto(shop.url + placed.path)
    payment = section(page, "payment")
    unreachable = payment.locator("[data-payment-unreachable]")
    expect(unreachable).to_contain_text("status pembayaran mungkin terlambat")
    expect(payment.locator("[data-account-number]")).to_have_text(number)
    expect(payment.locator("[data-payment-total]")).to_have_text(VA_TOTAL)
    expect(deadline(page)).to_have_attribute("datetime", shop_datetime_attribute(placed.expire_time))
    expect(order_status(page)).to_have_text("Menunggu pembayaran")
    expect(section(page, "order-number").locator("[data-order-number]")).to_have_text(placed.number)
    screenshot(page, screenshots, "payment-unreachable", "desktop")


def test_the_focus_goes_to_the_new_status_after_simulating_the_payment(shop: BrowserShop, page: Page) -> None:
    placed = place_voucher_order(shop, "bca_va")
    payment = open_payment_page(page, shop.url, placed)
    simulate = payment.get_by_role("button", name="Simulasikan pembayaran")
    simulate.focus()
    page.keyboard.press("Enter")
    expect(payment_status(page)).to_be_focused()
    expect(payment_status(page)).to_contain_text("Pembayaran diterima")
    expect(simulate).to_have_count(0)
    # The page's live region says where the order stands as it moves on.
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^Status pesanan: "))).to_have_count(1)
    expect(order_status(page)).to_have_text("Terkirim", timeout=20_000)
    expect(payment_status(page)).to_be_focused()


def test_in_english_the_order_names_its_lines_in_english_and_the_deadline_in_wib(
    shop: BrowserShop, page: Page
) -> None:
    placed = place_voucher_order(shop, "qris")
    [line] = placed.order["lines"]
    assert line["productDisplayNameEn"] != ""  # the demo catalog is in both languages

    open_payment_page(page, shop.url, placed)
    page.get_by_role("group", name="Bahasa").get_by_role("button", name=re.compile("^EN")).click()
    transaction = section(page, "transaction")
    expect(transaction.locator("[data-line-product]")).to_have_text(line["productDisplayNameEn"])
    expect(transaction.locator("[data-line-package]")).to_have_text(
        line.get("packageDisplayNameEn") or line["packageDisplayName"]
    )
    window = window_in_words(placed.expire_time - placed.create_time, "en")
    expect(payment_window(page)).to_have_text(f"Pay within {window}")
    expect(deadline(page)).to_contain_text(shop_clock(placed.expire_time).replace(".", ":"))
