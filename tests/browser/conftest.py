"""Fixtures of the browser tests: the built storefront, the whole shop, headless Chromium.

The storefront is built for the session into a folder of its own. One shop runs
for the session (three Python services and the gateway from their console scripts, the Go
svc-fulfillment from its build, fresh SQLite databases, the demo catalog), and is stopped
by PID at the end; a test that stops a service gets it started again before the next
test. Chromium is Debian's (/usr/bin/chromium), driven by Playwright over CDP; Playwright's
own browsers are never downloaded. Screenshots go to var/artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_shop import BrowserShop
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)
from storefront_build import REPO, build_storefront

from pasar_testkit.failure_logs import FailureLogs

pytest_plugins = ["pasar_testkit.fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
#: The widths a test may be parametrized with (`width`), for `sized_page` and screenshot names.
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
SCREENSHOTS = REPO / "var" / "artifacts" / "screenshots"

#: How long a page may take to show what a test waits for.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def storefront_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The storefront built for this session alone, from the sources as they are now."""
    return build_storefront(tmp_path_factory.mktemp("storefront"))


@pytest.fixture(scope="session")
def shop(
    storefront_dist: Path, tmp_path_factory: pytest.TempPathFactory, session_failure_logs: FailureLogs
) -> Iterator[BrowserShop]:
    """The whole shop, started once for the session and stopped by PID at its end; a
    failing test shows its logs."""
    running = BrowserShop(tmp_path_factory.mktemp("shop"), storefront_dist)
    running.load_demo_catalog()
    with running.stack, session_failure_logs.showing("the shop", running.stack.logs):
        running.start()
        yield running


@pytest.fixture(autouse=True)
def _whole_shop_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Restarts what a test left stopped."""
    yield
    if "shop" not in request.fixturenames:
        return
    running: BrowserShop = request.getfixturevalue("shop")
    running.ensure_running()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests save their screenshots (each run overwrites them by name)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class PageProblems:
    """What went wrong inside the page: uncaught errors and console errors."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        # A failed request logs "Failed to load resource"; the fault tests cause those on purpose.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"page error: {error.message}")


def _open_page(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    try:
        yield page
    finally:
        context.close()
    assert problems.errors == [], "the page reported errors:\n" + "\n".join(problems.errors)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (no stored language, no cookies) at desktop width, 1280×800."""
    yield from _open_page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab at a phone's width, 390×844."""
    yield from _open_page(browser, PHONE)


@pytest.fixture
def sized_page(browser: Browser, width: str) -> Iterator[Page]:
    """A fresh browser tab at the width the test is parametrized with: "desktop" or "phone"."""
    yield from _open_page(browser, VIEWPORTS[width])
