"""How the browser tests find the storefront's destination form and deliveries (issue 14).

By label and role where one fits (a destination field is labelled with the product's own
label, "Nomor HP", "Nomor Meter"), by the storefront's data- attributes otherwise:

- order page: ``[data-section="destination"]`` holds one ``[data-destination-field=NAME]``
  per field (input ``#destination-NAME``, its error ``[data-destination-error]``, and under
  the looked-up field a live region ``[role="status"]`` whose ``data-lookup`` is
  ``checking``, ``customer``, ``operator``, ``other-operator`` or ``unavailable``); Beli is
  disabled while the destination is not valid, and ``[data-buy-blocked]`` says why.
- payment page: ``[data-section="delivery"]`` holds one ``[data-line=PACKAGE_ID]`` per
  line, whose ``data-delivery-stage`` is ``awaitingPayment``, ``waiting``, ``delayed``,
  ``pending``, ``delivered``, ``failed``, ``refunded``, ``notDelivered`` or ``untracked``;
  inside, ``[data-destination=NAME]``, ``[data-delivery-title]``, ``[data-token]``,
  ``[data-kwh]``, ``[data-voucher-code]``, ``[data-serial-number]``, ``[data-failure]`` and
  ``[data-refund]``; ``[data-outcome="fulfilled"]`` / ``"refunded"`` in the payment part,
  ``[data-refunded-total]`` in Detail Transaksi.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

#: How long a paid order's page waits without a fulfillment before "Pengiriman tertunda"
#: (DELIVERY_DELAYED_AFTER_MS in storefront-vue/src/delivery.ts).
DELIVERY_DELAYED_AFTER_SECONDS = 15.0

#: An electricity token as the storefront shows it: five groups of four digits.
TOKEN_IN_GROUPS = re.compile(r"^[0-9]{4}(-[0-9]{4}){4}$")


def destination_field(page: Page, name: str) -> Locator:
    """One destination field's part of the order page: label, input, hint, error, look-up."""
    return page.locator(f'[data-destination-field="{name}"]')


def fill_destination(page: Page, label: str, value: str) -> None:
    """Types a destination value into the field labelled `label` ("Nomor HP")."""
    page.get_by_label(label, exact=True).fill(value)


def destination_error(page: Page, name: str) -> Locator:
    return destination_field(page, name).locator("[data-destination-error]")


def lookup_note(page: Page, name: str) -> Locator:
    """The look-up's live region under a field: the customer's name, the operator, or a note."""
    return destination_field(page, name).locator('[role="status"]')


def expect_lookup(page: Page, name: str, kind: str, timeout: float = 15_000) -> Locator:
    """Waits until the look-up under `name` shows `kind` (customer, operator, other-operator, unavailable)."""
    note = lookup_note(page, name)
    expect(note).to_have_attribute("data-lookup", kind, timeout=timeout)
    return note


def delivery(page: Page, package_id: str | None = None) -> Locator:
    """A line's delivery on the payment page (the first line's when no package is named)."""
    if package_id is None:
        return page.locator('[data-section="delivery"] [data-delivery-stage]').first
    return page.locator(f'[data-section="delivery"] [data-line="{package_id}"]')


def expect_delivery_stage(
    page: Page, stage: str, package_id: str | None = None, timeout: float = 30_000
) -> Locator:
    """Waits until a line's delivery reaches `stage` (the page refreshes itself)."""
    line = delivery(page, package_id)
    expect(line).to_have_attribute("data-delivery-stage", stage, timeout=timeout)
    return line


def delivered_tokens(page: Page, package_id: str | None = None) -> list[str]:
    return delivery(page, package_id).locator("[data-token]").all_inner_texts()


def delivered_voucher_codes(page: Page, package_id: str | None = None) -> list[str]:
    return delivery(page, package_id).locator("[data-voucher-code]").all_inner_texts()


def delivered_serial_numbers(page: Page, package_id: str | None = None) -> list[str]:
    return delivery(page, package_id).locator("[data-serial-number]").all_inner_texts()


def copy_button(page: Page, what: str, package_id: str | None = None) -> Locator:
    """The copy button of a delivered value, by what it copies ("Token listrik", "Kode voucher",
    "Nomor seri (SN)")."""
    return delivery(page, package_id).get_by_role("button", name=f"Salin {what}").first
