"""How the browser tests find the shop pages' parts that issue 15 added: the home page's
shelves (one per category, each its category's first products) and its search, the
payment methods' groups, the e-wallet's phone number and the checkout bar that keeps the
total and Beli in reach on a phone.
By role, label and text where one fits, as a shopper (or a screen reader) finds them.
"""

from __future__ import annotations

import re

from browser_shop import BrowserShop
from playwright.sync_api import Locator, Page, expect
from storefront_pages import section

#: Products on one of home's shelves (HomeView.vue's SHELF_SIZE): each category's first.
SHELF_SIZE = 8


def home_product_count(shop: BrowserShop) -> int:
    """How many products the home page shows: each category's first SHELF_SIZE, asked for
    as home asks (ListProducts with the category's id and that page size)."""
    count = 0
    for category in shop.api("/categories?pageSize=100")["categories"]:
        answer = shop.api(f"/products?categoryId={category['id']}&pageSize={SHELF_SIZE}")
        count += len(answer.get("products", []))
    return count


def shelf(page: Page, category_id: str) -> Locator:
    """One category's shelf on the home page: its heading, "Lihat semua" and products."""
    return section(page, "products").locator(f'[data-shelf="{category_id}"]')


def shelf_titles(page: Page) -> Locator:
    """The home page's category headings, one per shelf, in the page's order."""
    return section(page, "products").locator("[data-shelf] h3")


def product_names(page: Page) -> Locator:
    """The names (links) of the products listed on the home page, in the page's order."""
    return section(page, "products").locator("[data-product-id] a")


def search(page: Page, text: str) -> None:
    """Types into the search box and submits it, as a shopper does (Enter)."""
    box = page.get_by_role("searchbox")
    box.fill(text)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))


def switch_language(page: Page, code: str) -> None:
    """Presses the header's language button ("ID" or "EN")."""
    page.get_by_role("group", name=re.compile(r"^(Bahasa|Language)$")).get_by_role(
        "button", name=re.compile(f"^{code}")
    ).click()


def channel_group_toggles(page: Page) -> Locator:
    """The payment methods' kind headings (buttons that fold and unfold each kind)."""
    return section(page, "channels").locator("[data-channel-group] > h3 button")


def channel_option(page: Page, code: str) -> Locator:
    """One payment method's card (its radio, name, and fee or limit), by the channel's code."""
    return section(page, "channels").locator(f'[data-channel-code="{code}"]')


def checkout_bar(page: Page) -> Locator:
    return page.locator("[data-checkout-bar]")


def bar_covers(page: Page, target: Locator) -> bool:
    """True when the element the browser finds at the centre of `target` is not `target`
    (or inside it): something, such as a fixed bar, lies over it."""
    box = target.bounding_box()
    assert box is not None, "the element is not rendered"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    covered: bool = target.evaluate(
        "(element, [x, y]) => { const hit = document.elementFromPoint(x, y); "
        "return !(hit !== null && (hit === element || element.contains(hit))); }",
        [x, y],
    )
    return covered
