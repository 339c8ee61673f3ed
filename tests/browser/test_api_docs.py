"""The API page (/api/v1/docs) as a client's author reads it: a field's or a type's name in
a route's tables is never split across lines at a desktop's width, and at a phone's width
the page does not scroll sideways. (What the page says is gateway-flask's test_docs.py.)
"""

from __future__ import annotations

from browser_shop import BrowserShop
from playwright.sync_api import Page, expect
from storefront_pages import horizontal_overflow

# The one-word names in the tables' first two columns whose text runs over more than one line.
SPLIT_NAMES = """() => [...document.querySelectorAll("td:first-child code, td.type")]
  .filter((cell) => !cell.textContent.trim().includes(" "))
  .filter((cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size > 1;
  })
  .map((cell) => cell.textContent.trim())"""


def open_api_docs(page: Page, shop: BrowserShop) -> None:
    page.goto(f"{shop.url}/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_no_field_or_type_name_is_split_at_a_desktop_s_width(shop: BrowserShop, page: Page) -> None:
    open_api_docs(page, shop)
    names = page.evaluate("document.querySelectorAll('td:first-child code, td.type').length")
    assert names > 100  # the routes' parameters and bodies, and the schemas' fields
    assert page.evaluate(SPLIT_NAMES) == []


def test_the_page_does_not_scroll_sideways_at_a_phone_s_width(shop: BrowserShop, phone_page: Page) -> None:
    open_api_docs(phone_page, shop)
    assert horizontal_overflow(phone_page) == 0
