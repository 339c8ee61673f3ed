"""The shop pages as issue 15 asked for them, in a real browser against the whole shop:
home's shelves in the categories' order (each its category's first products, asked for
per category, with "Lihat semua" to the category's list), search by the words shoppers type, the catalog
in English, the payment methods grouped common-first with the rare ones folded, a
channel's minimum instead of a silent gap, the e-wallet's phone number, and on a phone
(390 px) a checkout bar that keeps the total and Beli in reach without covering the page.
Issue 16: each request the storefront sends starts a trace the gateway continues (seen
in a real Jaeger), and an error it shows names that trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from browser_shop import BrowserShop, unique_email
from page_accessibility import check_accessibility
from playwright.sync_api import Page, Request, Response, expect
from storefront_delivery_pages import fill_destination
from storefront_pages import (
    ORDER_PAGE_URL,
    buy_button,
    choose_channel,
    choose_package,
    open_home,
    open_product,
    product_cards,
    rupiah,
    screenshot,
    section,
)
from storefront_shop_pages import (
    bar_covers,
    channel_group_toggles,
    channel_option,
    checkout_bar,
    home_product_count,
    product_names,
    search,
    shelf,
    shelf_titles,
    switch_language,
)

from pasar_testkit.jaeger import SPAN_KIND_CLIENT, SPAN_KIND_SERVER, JaegerServer, Trace
from pasar_testkit.processes import ComponentProcess

#: The demo catalog's game vouchers (svc-product's demo catalog, category voucher-game).
GAME_VOUCHERS = {"Permata Arena Legenda", "Koin Petualang", "Voucher Game Universal"}


def test_home_puts_each_category_on_its_own_shelf_in_the_categories_order(
    shop: BrowserShop, page: Page, screenshots: Path
) -> None:
    categories = shop.api("/categories?pageSize=100")["categories"]
    in_order = [category["displayName"] for category in categories]
    open_home(page, shop.url)
    expect(shelf_titles(page).first).to_be_visible()
    # Every demo category has products, so every one has its shelf, in ListCategories' order.
    expect(shelf_titles(page)).to_have_text(in_order)
    assert in_order[:2] == ["Pulsa", "Paket Data"]
    # The category links follow the same order, after "Semua".
    links = page.get_by_role("navigation", name="Kategori").get_by_role("link")
    expect(links).to_have_text(["Semua", *in_order])
    # A shelf holds its category's products: the first one the phone credits.
    first_shelf = section(page, "products").locator("[data-shelf]").first
    expect(first_shelf).to_have_attribute("data-shelf", "pulsa")
    expect(first_shelf.get_by_role("heading", level=4).first).to_have_text(re.compile(r"^Pulsa "))
    page.wait_for_load_state("networkidle")
    screenshot(page, screenshots, "home-shelves", "desktop")


def test_home_asks_each_category_for_its_first_products_and_see_all_opens_the_category(
    shop: BrowserShop, page: Page
) -> None:
    categories = shop.api("/categories?pageSize=100")["categories"]
    shown = home_product_count(shop)
    asked: list[dict[str, list[str]]] = []

    def record(request: Request) -> None:
        url = urlsplit(request.url)
        if url.path == "/api/v1/products":
            asked.append(parse_qs(url.query))

    page.on("request", record)
    open_home(page, shop.url)
    expect(shelf_titles(page)).to_have_count(len(categories))
    expect(product_cards(page)).to_have_count(shown)
    page.wait_for_load_state("networkidle")
    # One small page per category, never the catalog: no call without a category.
    expected = [{"categoryId": [category["id"]], "pageSize": ["8"]} for category in categories]
    assert sorted(asked, key=str) == sorted(expected, key=str)

    see_all = shelf(page, "pulsa").get_by_role("link", name="Lihat semua produk Pulsa")
    expect(see_all).to_have_text(re.compile(r"^\s*Lihat semua\b"))
    see_all.click()
    expect(page).to_have_url(re.compile(r"/\?category=pulsa$"))
    expect(page.get_by_role("heading", level=2, name="Pulsa", exact=True)).to_be_visible()
    # The category's list, a page at a time (the next by its page token).
    assert asked[-1] == {"categoryId": ["pulsa"], "pageSize": ["24"]}
    in_category = shop.api("/products?categoryId=pulsa&pageSize=100")["products"]
    expect(product_names(page)).to_have_text([product["displayName"] for product in in_category])
    nav = page.get_by_role("navigation", name="Kategori")
    expect(nav.get_by_role("link", name="Pulsa", exact=True)).to_have_attribute("aria-current", "page")


def test_search_finds_what_shoppers_type_and_says_when_nothing_matches(shop: BrowserShop, page: Page) -> None:
    open_home(page, shop.url)
    search(page, "pln")
    expect(page.get_by_role("heading", level=2, name="Hasil pencarian “pln”")).to_be_visible()
    expect(product_names(page)).to_have_text(["Token Listrik Prabayar"])

    search(page, "GAME")
    expect(product_names(page)).to_have_count(len(GAME_VOUCHERS))
    assert set(product_names(page).all_inner_texts()) == GAME_VOUCHERS
    expect(page.locator("[data-result-count]")).to_have_text("3 produk ditemukan")

    search(page, "xyzzy")
    empty = page.locator("[data-no-results]")
    expect(empty.get_by_role("status")).to_have_text("Tidak ada produk yang cocok dengan “xyzzy”.")
    # A word to try is one press away.
    empty.get_by_role("link", name="pln", exact=True).click()
    expect(product_names(page)).to_have_text(["Token Listrik Prabayar"])


def test_english_mode_shows_the_catalog_in_english(shop: BrowserShop, page: Page, screenshots: Path) -> None:
    open_home(page, shop.url)
    switch_language(page, "EN")
    expect(page.get_by_role("heading", level=1)).to_have_text("What would you like to buy today?")
    expect(shelf_titles(page).first).to_have_text("Phone Credit")
    expect(page.get_by_role("link", name="Prepaid Electricity Token", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Token Listrik Prabayar")).to_have_count(0)

    # The server's search matches the English names too.
    search(page, "electricity")
    expect(product_names(page)).to_have_text(["Prepaid Electricity Token"])

    open_product(page, "Prepaid Electricity Token")
    expect(section(page, "product")).to_contain_text("An electricity token for prepaid household meters.")
    packages = page.get_by_role("group", name="Choose a package").get_by_role("radio")
    expect(packages.first).to_have_accessible_name(re.compile(r"^Electricity Token 20,000"))
    expect(page.get_by_role("group", name="Choose a payment method")).to_be_visible()
    screenshot(page, screenshots, "order-english", "desktop")


def test_payment_methods_come_grouped_common_first_with_the_rare_ones_folded(
    shop: BrowserShop, page: Page
) -> None:
    listed = shop.api("/payment-channels?pageSize=100")["paymentChannels"]
    kinds_in_sort_order: list[str] = []
    for channel in sorted(listed, key=lambda channel: channel.get("sortOrder", 0)):
        if channel["kind"] not in kinds_in_sort_order:
            kinds_in_sort_order.append(channel["kind"])
    assert kinds_in_sort_order == [
        "PAYMENT_CHANNEL_KIND_QRIS",
        "PAYMENT_CHANNEL_KIND_EWALLET",
        "PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT",
        "PAYMENT_CHANNEL_KIND_RETAIL_OUTLET",
    ]

    page.goto(f"{shop.url}/products/pulsa-nusantara")
    toggles = channel_group_toggles(page)
    expect(toggles).to_have_count(4)
    names = [re.sub(r"\s+\d+ pilihan$", "", text.strip()) for text in toggles.all_inner_texts()]
    assert names == ["QRIS", "E-Wallet", "Virtual Account", "Gerai Retail"]
    expanded = [toggle.get_attribute("aria-expanded") for toggle in toggles.all()]
    assert expanded == ["true", "true", "false", "false"]
    expect(channel_option(page, "bca_va")).to_be_hidden()

    # Unfolding a kind shows its channels, and the keyboard reaches them.
    toggles.nth(2).press("Enter")
    expect(toggles.nth(2)).to_have_attribute("aria-expanded", "true")
    expect(channel_option(page, "bca_va")).to_be_visible()


def test_a_channel_that_does_not_take_the_amount_says_its_minimum(shop: BrowserShop, page: Page) -> None:
    page.goto(f"{shop.url}/products/pulsa-nusantara")
    choose_package(page, "Pulsa 5.000")  # Rp 6.500: under the banks' and outlets' Rp 10.000
    channel_group_toggles(page).nth(2).click()
    bca = channel_option(page, "bca_va")
    expect(bca.locator("[data-limit]")).to_have_text(f"Minimal {rupiah('10.000')}")
    expect(bca.get_by_role("radio")).to_be_disabled()
    expect(channel_option(page, "qris").get_by_role("radio")).to_be_enabled()

    # A bigger package lifts the limit, and the fee shows instead.
    choose_package(page, "Pulsa 20.000")
    expect(bca.locator("[data-fee]")).to_have_text(f"Biaya admin {rupiah('4.000')}")
    expect(bca.get_by_role("radio")).to_be_enabled()


def test_a_push_wallet_asks_for_its_phone_number_before_beli(shop: BrowserShop, page: Page) -> None:
    page.goto(f"{shop.url}/products/pulsa-nusantara")
    choose_package(page, "Pulsa 20.000")
    choose_channel(page, "OVO")
    fill_destination(page, "Nomor HP", "081234567890")
    page.get_by_label("E-mail").fill(unique_email("toko"))
    phone = page.get_by_label("Nomor HP akun OVO")
    expect(phone).to_be_visible()
    phone.fill("0812")
    buy_button(page).click()
    expect(page.locator("[data-payer-phone-error]")).to_have_text(
        "Masukkan nomor HP yang terdaftar di OVO, misalnya 081234567890."
    )
    expect(phone).to_be_focused()

    phone.fill("0812-9876-5432")
    buy_button(page).click()
    page.wait_for_url(ORDER_PAGE_URL)


def test_on_a_phone_the_checkout_bar_keeps_the_total_and_beli_in_reach(
    shop: BrowserShop, phone_page: Page, screenshots: Path
) -> None:
    page = phone_page
    open_home(page, shop.url)
    open_product(page, "Pulsa Nusantara")
    bar = checkout_bar(page)
    beli = buy_button(page)
    # At the top of a long page the bar is already on screen, at its bottom edge.
    expect(bar).to_be_in_viewport()
    expect(beli).to_be_in_viewport()
    box = bar.bounding_box()
    assert box is not None
    assert abs(box["y"] + box["height"] - 844) <= 1, box
    expect(bar.locator("[data-checkout-channel]")).to_have_text("Belum memilih metode pembayaran")

    choose_package(page, "Pulsa 20.000")
    choose_channel(page, "QRIS")
    fill_destination(page, "Nomor HP", "081234567890")
    expect(bar.locator("[data-checkout-total]")).to_have_text(rupiah("21.147"))  # 21.000 + 0,7 % rounded up
    expect(bar.locator("[data-checkout-channel]")).to_have_text("Metode: QRIS")
    # What the shopper sees: the screen, not the whole page (where a fixed bar has no place).
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "order-bar-screen-phone.png"), animations="disabled")

    # The page ends above the bar: scrolled to the bottom, the footer is not under it.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer = page.get_by_role("contentinfo")
    assert not bar_covers(page, footer), "the checkout bar covers the footer"

    # The keyboard reaches Beli from the e-mail, and what has the focus is never under the bar.
    email = page.get_by_label("E-mail")
    email.focus()
    assert not bar_covers(page, email), "the checkout bar covers the focused e-mail field"
    email.fill(unique_email("toko"))
    for _ in range(4):
        if beli.evaluate("(button) => document.activeElement === button"):
            break
        page.keyboard.press("Tab")
    expect(beli).to_be_focused()
    screenshot(page, screenshots, "order-bar", "phone")
    page.keyboard.press("Enter")
    page.wait_for_url(ORDER_PAGE_URL)


TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-01")


@contextmanager
def traced_gateway(shop: BrowserShop, jaeger: JaegerServer, log_dir: Path) -> Iterator[str]:
    """A second pasar-gateway in front of the shop's services, as the shop's own is
    configured but with tracing on, exporting to jaeger; its URL. Stopped by its PID."""
    session_gateway = shop.stack["gateway"]
    env = {name: value for name, value in session_gateway.env.items() if name != "PASAR_LISTEN_ADDRESS"}
    gateway = ComponentProcess(
        "gateway-traced",
        command=session_gateway.command,
        env={**env, **jaeger.tracing_env()},
        log_dir=log_dir,
        http_ready_path="/healthz",
    )
    gateway.start()
    try:
        yield f"http://{gateway.address}"
    finally:
        gateway.stop()


def continued_by_the_gateway(trace: Trace, browser_span: str) -> bool:
    """Whether trace holds the gateway's HTTP span as the browser span's child, with the
    gRPC call it made beneath it."""
    for http in trace.find(service="gateway", kind=SPAN_KIND_SERVER):
        if http.parent_span_id == browser_span and any(
            call.kind == SPAN_KIND_CLIENT and call.parent_span_id == http.span_id for call in trace.spans
        ):
            return True
    return False


def test_each_request_starts_a_trace_the_gateway_continues_and_an_error_names_it(
    shop: BrowserShop, page: Page, jaeger: JaegerServer, tmp_path: Path, screenshots: Path
) -> None:
    with traced_gateway(shop, jaeger, tmp_path) as url:
        with page.expect_request(lambda request: urlsplit(request.url).path == "/api/v1/categories") as asked:
            open_home(page, url)
        expect(product_cards(page).first).to_be_visible()
        sent = TRACEPARENT.fullmatch(asked.value.header_value("traceparent") or "")
        assert sent is not None, asked.value.headers
        trace_id, browser_span = sent.groups()
        # The gateway's span is the child of the browser's, and its call to svc-product its child.
        trace = jaeger.wait_for_trace(
            trace_id,
            until=lambda trace: continued_by_the_gateway(trace, browser_span),
            what="the gateway's span of the storefront's request, with its gRPC call beneath",
        )
        assert trace.find(service="gateway", kind=SPAN_KIND_SERVER)[0].attributes.get("pasar.request_id")

        failed: list[Response] = []
        page.on("response", lambda response: failed.append(response) if response.status >= 500 else None)
        shop.stop_service("product")
        open_home(page, url)
        alert = section(page, "products").get_by_role("alert")
        expect(alert).to_contain_text("Produk sedang tidak dapat dimuat")
        expect(alert).to_contain_text("Kode pelacakan:")
        shown = alert.locator("[data-trace-id]").get_attribute("data-trace-id") or ""
        expect(alert.locator("code")).to_have_text(shown)
        failed_traces = {
            match.group(1)
            for response in failed
            if (match := TRACEPARENT.fullmatch(response.request.header_value("traceparent") or ""))
        }
        assert shown in failed_traces, (shown, failed_traces)
        screenshot(page, screenshots, "catalog-unavailable-trace-id", "desktop")
        findings = check_accessibility(page)
        assert findings.clean, findings.report()
        # What support finds when pasting it into Jaeger: the gateway's span of that request.
        failed_request = jaeger.wait_for_trace(
            shown,
            until=lambda trace: bool(trace.find(service="gateway", kind=SPAN_KIND_SERVER)),
            what="the gateway's span of the failed request",
        )
        http = failed_request.find(service="gateway", kind=SPAN_KIND_SERVER)[0]
        assert int(http.attributes["http.status_code"]) == 503
