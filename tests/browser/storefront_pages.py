"""How the browser tests find things on the storefront's pages: by role, label and text,
as a shopper (or a screen reader) does, with data- attributes only where no role fits.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Error, Locator, Page, expect

ORDER_PAGE_URL = re.compile(r"/orders/ord_[0-9a-f]{32}\?token=[A-Za-z0-9_\-]+$")


def rupiah(digits: str) -> str:
    """How the storefront writes an amount: "Rp" and a no-break space (Intl, id-ID)."""
    return f"Rp\u00a0{digits}"


def open_home(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", level=1, name="Mau beli apa hari ini?")).to_be_visible()


def section(page: Page, name: str) -> Locator:
    """A part of a page that depends on one backend (data-section="products", "channels", ...)."""
    return page.locator(f'[data-section="{name}"]')


def product_cards(page: Page) -> Locator:
    return section(page, "products").get_by_role("listitem")


def open_product(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def packages(page: Page) -> Locator:
    return page.get_by_role("group", name="Pilih paket").get_by_role("radio")


def channel_group(page: Page) -> Locator:
    return page.get_by_role("group", name="Pilih metode pembayaran", exact=True)


def channels(page: Page) -> Locator:
    """The channels a shopper can choose now (those of a folded kind are not among them)."""
    return channel_group(page).get_by_role("radio")


def _starting_with(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(name)}(\s|$)")


def choose_package(page: Page, name: str) -> None:
    page.get_by_role("group", name="Pilih paket").get_by_role("radio", name=_starting_with(name)).check()


def choose_channel(page: Page, name: str) -> None:
    """Chooses a channel by its name, unfolding its kind first when it is folded."""
    group = channel_group(page)
    expect(channels(page).first).to_be_visible()
    channel = group.get_by_role("radio", name=_starting_with(name))
    folded = group.locator('button[aria-expanded="false"]')
    while channel.count() == 0 and folded.count() > 0:
        opened = folded.count()
        folded.first.click()
        expect(folded).to_have_count(opened - 1)
    channel.check()


def buy_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Beli", exact=True)


def fill_order(page: Page, package: str, channel: str, email: str) -> None:
    choose_package(page, package)
    choose_channel(page, channel)
    page.get_by_label("E-mail").fill(email)


def order_from_url(page: Page) -> tuple[str, str]:
    """The order id and access token in the payment page's address."""
    parts = urlsplit(page.url)
    return parts.path.rsplit("/", 1)[-1], parse_qs(parts.query)["token"][0]


def order_status(page: Page) -> Locator:
    return section(page, "transaction").locator("[data-state]")


def press_until(
    page: Page,
    button: Locator,
    *,
    shows: Locator | None = None,
    url: re.Pattern[str] | None = None,
    timeout: float = 30.0,
) -> int:
    """Presses a button again and again, as a shopper would while a service comes back
    (the gateway's breaker lets a probe through a moment after), until the page shows
    `shows` or reaches `url`; returns how many presses it took."""
    deadline = time.monotonic() + timeout
    presses = 0
    while True:
        presses += 1
        button.click()
        try:
            if url is not None:
                page.wait_for_url(url, timeout=2500)
            if shows is not None:
                expect(shows).to_be_visible(timeout=2500)
            return presses
        except (AssertionError, Error):
            if time.monotonic() > deadline:
                raise


def mark_document(page: Page) -> None:
    """Marks the loaded document, to tell later that the page was never reloaded."""
    page.evaluate("window.__pasarNotReloaded = true")


def was_reloaded(page: Page) -> bool:
    return page.evaluate("window.__pasarNotReloaded !== true") is True


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    overflow: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return max(0, overflow)


def wait_for_images(page: Page, timeout: float = 10.0) -> None:
    """Waits until every picture the page shows has loaded.

    Polled from here with page.evaluate rather than page.wait_for_function: once it has to
    poll, wait_for_function evaluates its predicate as a string inside the page, which the
    storefront's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    """
    deadline = time.monotonic() + timeout
    # A picture that is not rendered (inside a folded part, display: none) never loads lazily.
    while not page.evaluate(
        "[...document.images].every((image) => image.complete || image.getClientRects().length === 0)"
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"the page's pictures did not load within {timeout}s")
        time.sleep(0.05)


def screenshot(page: Page, folder: Path, name: str, width: str) -> Path:
    """Saves the whole page as var/artifacts/screenshots/<name>-<width>.png."""
    path = folder / f"{name}-{width}.png"
    # Pictures below the fold load lazily: scroll them into view so the picture has them all.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    wait_for_images(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
