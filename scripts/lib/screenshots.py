"""Full-page screenshots of a running shop's storefront, at desktop and phone width.

    .venv/bin/python scripts/lib/screenshots.py http://127.0.0.1:8080 notes/screenshots/after

Takes, into OUT_DIR/NAME-desktop.png and NAME-phone.png (1280x800 and 390x844, id-ID,
Asia/Jakarta): ``home``; ``product`` (the PLN token's page with a package, the meter number
and a virtual account chosen); ``payment-va`` and ``payment-qris`` (the payment page of a
fresh order paid by the first virtual account and by QRIS, placed through the REST API);
``lookup`` (/orders); ``api-docs`` (/api/v1/docs); ``lookup-recent`` (/orders after Beli
on the product page in the same browser). It drives Debian's Chromium
(/usr/bin/chromium) with Playwright's Python API, and finds things by role and label only,
so that the same script takes the "before" and the "after" pictures of a change.
It needs a shop with the demo catalog whose payments the sandbox settles (scripts/run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
VIEWPORTS = {"desktop": ViewportSize(width=1280, height=800), "phone": ViewportSize(width=390, height=844)}
TIMEOUT_MS = 20_000

#: The demo catalog's PLN token, a meter the sandbox knows, and the package to buy.
PRODUCT_ID = "token-listrik"
PACKAGE_ID = "token-listrik-20k"
METER = "14234567891"


@dataclass(frozen=True)
class Order:
    id: str
    token: str

    def path(self) -> str:
        return f"/orders/{self.id}?token={self.token}"


def api(base_url: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    """One call of the gateway's REST API; its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if body is not None:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if not base_url.startswith(("http://", "https://")):
        raise SystemExit(f"the shop's address must be http(s), not {base_url!r}")
    request = urllib.request.Request(base_url + path, data=data, headers=headers)  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - checked above
        answer: dict[str, object] = json.load(response)
    return answer


def channel(base_url: str, kind: str) -> tuple[str, str]:
    """The code and name of the first enabled channel of a kind ("PAYMENT_CHANNEL_KIND_QRIS")."""
    channels = api(base_url, "/api/v1/payment-channels")["paymentChannels"]
    assert isinstance(channels, list)
    for found in channels:
        if found.get("kind") == kind and found.get("enabled", True):
            return str(found["code"]), str(found["displayName"])
    raise SystemExit(f"the shop has no {kind} channel")


def place_order(base_url: str, channel_code: str) -> Order:
    answer = api(
        base_url,
        "/api/v1/orders",
        {
            "customerEmail": f"screenshot-{uuid.uuid4().hex[:8]}@example.co.id",
            "lines": [{"packageId": PACKAGE_ID, "quantity": 1, "destination": {"meter_number": METER}}],
            "paymentChannelCode": channel_code,
            "languageCode": "id",
        },
    )
    order = answer["order"]
    assert isinstance(order, dict)
    return Order(str(order["id"]), str(answer["accessToken"]))


def settle(page: Page) -> None:
    """Waits until the page has loaded what it shows: no request for half a second, no
    loading notice, every picture loaded (those below the fold scrolled into view first)."""
    # A page that polls may never be idle; the checks below still hold.
    with contextlib.suppress(PlaywrightError):
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    while page.evaluate(
        "document.querySelector('.base-loading') !== null"
        " || ![...document.images].every((i) => i.complete || i.getClientRects().length === 0)"
    ):
        if time.monotonic() > deadline:
            print(f"  (still loading after {TIMEOUT_MS} ms: {page.url})", file=sys.stderr)
            break
        time.sleep(0.1)
    page.evaluate("window.scrollTo(0, 0)")
    time.sleep(0.3)


def choose_on_product_page(page: Page, channel_name: str) -> None:
    """A package, the meter number and the channel, as a shopper picks them."""
    page.get_by_role("radio").first.wait_for()
    page.get_by_role("radio", name=re.compile(r"^Token Listrik 20\.000")).first.check()
    page.get_by_label(re.compile("Nomor Meter")).fill(METER)
    channel = page.get_by_role("radio", name=re.compile(rf"^{re.escape(channel_name)}")).first
    # Channels may be folded by kind: unfold them one by one until the channel shows.
    folded = page.locator('fieldset button[aria-expanded="false"]')
    while not channel.is_visible() and folded.count() > 0:
        folded.first.click()
        page.wait_for_timeout(100)
    channel.check()


def save(page: Page, out: Path, name: str, width: str) -> None:
    settle(page)
    target = out / f"{name}-{width}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled")
    print(target)


def buy_then_open_lookup(page: Page, pages: dict[str, str], va_name: str) -> None:
    """Beli on the product page (what a shopper's browser remembers), then the lookup page."""
    page.goto(pages["product"])
    choose_on_product_page(page, va_name)
    page.get_by_label("E-mail", exact=True).fill(f"screenshot-{uuid.uuid4().hex[:8]}@example.co.id")
    page.get_by_role("button", name="Beli", exact=True).locator("visible=true").first.click()
    page.wait_for_url(re.compile(r"/orders/ord_[0-9a-f]{32}\?token="))
    page.goto(pages["lookup"])


def take(browser: Browser, width: str, pages: dict[str, str], out: Path, *, va_name: str) -> None:
    """Every page at one width; `pages` maps a picture's name to the page's full address.
    Last, ``lookup-recent``: the lookup page after a purchase made in this browser."""
    context = browser.new_context(viewport=VIEWPORTS[width], locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        for name, path in pages.items():
            page.goto(path)
            if name == "product":
                choose_on_product_page(page, va_name)
            save(page, out, name, width)
        buy_then_open_lookup(page, pages, va_name)
        save(page, out, "lookup-recent", width)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base_url", help="the shop's address, such as http://127.0.0.1:8080")
    parser.add_argument("out_dir", type=Path, help="where the PNG files go")
    args = parser.parse_args()
    base_url = str(args.base_url).rstrip("/")
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    va_code, va_name = channel(base_url, "PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT")
    qris_code, _ = channel(base_url, "PAYMENT_CHANNEL_KIND_QRIS")
    paths = {
        "home": "/",
        "product": f"/products/{PRODUCT_ID}",
        "payment-va": place_order(base_url, va_code).path(),
        "payment-qris": place_order(base_url, qris_code).path(),
        "lookup": "/orders",
        "api-docs": "/api/v1/docs",
    }
    pages = {name: base_url + path for name, path in paths.items()}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for width in VIEWPORTS:
                take(browser, width, pages, out, va_name=va_name)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
