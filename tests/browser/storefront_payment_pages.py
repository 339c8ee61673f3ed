"""How the browser tests reach the payment page of issue 15 and read it.

Orders are placed over the gateway's REST API (what Beli sends), so that each channel's
page is one request away; the page is then opened from the order's id and token, as the
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

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect
from storefront_pages import section

JAKARTA = ZoneInfo("Asia/Jakarta")
#: A package without a destination (a game voucher code), priced within every demo channel's limits.
VOUCHER_PACKAGE = "koin-petualang-60"
#: How long placing an order may be answered 503 while a restarted service comes back.
PLACE_ORDER_RETRY_SECONDS = 15.0
#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class PlacedOrder:
    """An order as CreateOrder answered it (proto3 JSON), with its access token."""

    order: dict[str, Any]
    token: str

    @property
    def id(self) -> str:
        return str(self.order["id"])

    @property
    def number(self) -> str:
        return str(self.order.get("orderNumber", ""))

    @property
    def payment_id(self) -> str:
        return str(self.order["paymentId"])

    @property
    def create_time(self) -> datetime:
        return parse_timestamp(self.order["createTime"])

    @property
    def expire_time(self) -> datetime:
        return parse_timestamp(self.order["expireTime"])

    def page_url(self, base_url: str) -> str:
        return f"{base_url}/orders/{self.id}?{urllib.parse.urlencode({'token': self.token})}"


def api_request(
    base_url: str, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def place_order(
    base_url: str, channel: str, *, payer_phone_number: str = "", package: str = VOUCHER_PACKAGE
) -> PlacedOrder:
    """Places an order for one game voucher, paid through `channel`, as Beli does."""
    body: dict[str, object] = {
        "customerEmail": f"bayar-{uuid.uuid4().hex[:12]}@example.co.id",
        "lines": [{"packageId": package, "quantity": 1}],
        "paymentChannelCode": channel,
        "languageCode": "id",
    }
    if payer_phone_number:
        body["payerPhoneNumber"] = payer_phone_number
    # One key for every attempt, as Beli does: a service that was just started again (a test
    # before stopped one) can answer 503 until the order service has reconnected to it.
    key = uuid.uuid4().hex
    deadline = time.monotonic() + PLACE_ORDER_RETRY_SECONDS
    while True:
        try:
            answer = api_request(base_url, "POST", "/orders", body, {"Idempotency-Key": key})
            break
        except urllib.error.HTTPError as error:
            if error.code != HTTPStatus.SERVICE_UNAVAILABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.25)
    return PlacedOrder(order=answer["order"], token=str(answer["accessToken"]))


def read_payment(base_url: str, payment_id: str) -> dict[str, Any]:
    return dict(api_request(base_url, "GET", f"/payments/{urllib.parse.quote(payment_id)}"))


def parse_timestamp(text: str) -> datetime:
    """A proto3 JSON Timestamp ("2026-12-05T07:30:00.123456789Z") as the storefront's Date
    holds it: to the millisecond, rounded half up (protobuf-es's timestampMs)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text)
    assert match is not None, f"not a proto3 JSON timestamp: {text!r}"
    nanos = int((match.group(2) or "0").ljust(9, "0"))
    whole = datetime.fromisoformat(f"{match.group(1)}+00:00")
    return whole + timedelta(milliseconds=math.floor(nanos / 1_000_000 + 0.5))


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
    page.goto(placed.page_url(base_url))
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
