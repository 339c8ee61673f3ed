"""How the browser tests reach the payment page of issue 15 and read it.

Orders are placed over the gateway's REST API (BrowserShop.place_order, what Beli sends),
so that each channel's page is one request away; the page is then opened from the order's id and token, as the
e-mail link opens it. On the page:

- ``[data-section="order-number"]`` holds ``[data-order-number]`` ("PSR-7K3M9Q") and its
  copy button;
- the payment part (``[data-section="payment"]``) holds ``[data-instructions=KIND]``
  (``virtualAccount``, ``qris``, ``ewallet``, ``retailOutlet``), the deadline box with
  ``[data-payment-window]`` ("Bayar dalam 24 jam") and ``time[data-deadline]`` (its
  ``datetime`` is the instant in WIB, ISO 8601 with +07:00), ``[data-countdown]``, the
  bank's folded steps ``details[data-guide=atm|mobile|internet]``, the cashier's steps
  ``[data-cashier-steps]``, the QR's "Simpan QR" link, the e-wallet's
  ``[data-ewallet-push]`` / ``[data-ewallet-sandbox]`` / ``[data-checkout-url]``,
  ``[data-payment-unreachable]`` while the payment service is down, and
  ``[data-payment-status]``, which takes the focus after "Simulasikan pembayaran".
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from browser_shop import BrowserShop, PlacedOrder
from playwright.sync_api import Locator, Page, expect
from storefront_pages import section

JAKARTA = ZoneInfo("Asia/Jakarta")
#: A package without a destination (a game voucher code), priced within every demo channel's limits.
VOUCHER_PACKAGE = "koin-petualang-60"
#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def place_voucher_order(shop: BrowserShop, channel_code: str, *, payer_phone_number: str = "") -> PlacedOrder:
    """Places an order for one game voucher (no destination), paid through the channel."""
    return shop.place_order(
        channel_code, package_id=VOUCHER_PACKAGE, destination={}, payer_phone_number=payer_phone_number
    )


def read_payment(shop: BrowserShop, payment_id: str) -> dict[str, Any]:
    return shop.api(f"/payments/{urllib.parse.quote(payment_id)}")


def shop_datetime_attribute(instant: datetime) -> str:
    """The instant as the page's <time datetime> writes it: WIB, to the second."""
    return instant.astimezone(JAKARTA).replace(microsecond=0).isoformat()


def shop_clock(instant: datetime) -> str:
    """The time of day as the page writes it in Indonesian: "14.30 WIB"."""
    return instant.astimezone(JAKARTA).strftime("%H.%M WIB")


def window_in_words(window: timedelta, language: str = "id") -> str:
    """A payment window as the page says it, in whole minutes: "24 jam", "1 jam 30 menit",
    "30 minutes"."""
    minutes = round(window.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if language == "id":
        parts = ([f"{hours} jam"] if hours else []) + ([f"{rest} menit"] if rest else [])
    else:
        parts = ([f"{hours} hour{'s' * (hours != 1)}"] if hours else []) + (
            [f"{rest} minute{'s' * (rest != 1)}"] if rest else []
        )
    return " ".join(parts)


def open_payment_page(page: Page, base_url: str, placed: PlacedOrder) -> Locator:
    """Opens the order's payment page; returns its payment part once the instructions show."""
    page.goto(base_url + placed.path)
    payment = section(page, "payment")
    expect(payment.locator("[data-instructions]")).to_be_visible()
    return payment


def deadline(page: Page) -> Locator:
    return section(page, "payment").locator("time[data-deadline]")


def payment_window(page: Page) -> Locator:
    return section(page, "payment").locator("[data-payment-window]")


def bank_guide(page: Page, method: str) -> Locator:
    """A bank's folded steps: "atm", "mobile" or "internet"."""
    return section(page, "payment").locator(f'details[data-guide="{method}"]')


def payment_status(page: Page) -> Locator:
    return section(page, "payment").locator("[data-payment-status]")
