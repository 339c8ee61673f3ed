"""The order's e-mails, composed from jinja2 templates in the order's language.

Each e-mail has a plain-text and an HTML part (``templates/<language>/<kind>.txt`` and
``.html``) and a subject (``<kind>.subject``). They are composed when they are sent, not
when they are queued, because their link carries the order's access token, which is
never stored: it is derived again from the order id. Headers that identify the e-mail
(Message-ID, Date) come from the outbox row, so that a resent e-mail is recognisably the
same message.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlencode

import jinja2

from pasar.fulfillment.v1 import fulfillment_pb2
from pasar_kit.money import format_rupiah
from pasar_order.access import access_token
from pasar_order.models import (
    Email,
    FulfillmentState,
    Order,
    OrderLine,
    line_destination,
    stored_fulfillment,
    stored_payment,
    stored_refund,
)

LANGUAGES = ("id", "en")


class ReusedHeaderClasses(HeaderRegistry):
    """The standard header registry, making each header's class once, and each header
    that every e-mail repeats once.

    The standard one makes a new class (``type(...)``) for every header it parses or
    counts, about 30 per e-mail: a third of composing one. Its classes hold no state, so
    one per registered class does the same; bounded by the registry's few classes.

    Then each header is parsed into a tree when it is set, and folded from it when the
    e-mail becomes bytes: half of composing one, and most of writing it. A header is a
    string with its parse tree that nothing changes once made (the standard policy hands
    it on as it is), so the headers whose values recur from e-mail to e-mail (the sender,
    the kind, the parts' MIME headers: REPEATING) are made once and given again, and each
    folds once for each way of folding (the mail folder's, an SMTP server's line ends).
    At most MAX_KEPT are kept.
    """

    REPEATING = frozenset(
        {
            "from",
            "x-pasar-email-kind",
            "content-language",
            "mime-version",
            "content-type",
            "content-transfer-encoding",
        }
    )
    MAX_KEPT = 64

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type] = {}
        self._kept: dict[tuple[str, str], Any] = {}

    def __getitem__(self, name: str) -> type:
        chosen = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(chosen)
        if made is None:
            made = self._made.setdefault(
                chosen, type("_" + chosen.__name__, (_FoldedOnce, chosen, self.base_class), {})
            )
        return made

    def __call__(self, name: str, value: Any) -> Any:
        # A multipart's Content-Type names its boundary, drawn for each e-mail.
        if name.lower() not in self.REPEATING or not isinstance(value, str) or "boundary=" in value:
            return super().__call__(name, value)
        key = (name, value)
        header = self._kept.get(key)
        if header is None:
            header = super().__call__(name, value)
            if len(self._kept) < self.MAX_KEPT:
                self._kept[key] = header
        return header


class _FoldedOnce:
    """A header that keeps how it folds (it never changes) for each way of folding: what the
    standard folding reads of a policy (line length and ends, whether UTF-8 may be sent)."""

    _folded: dict[tuple[int | None, str, bool], str] | None = None

    def fold(self, *, policy: email.policy.Policy) -> str:
        way = (policy.max_line_length, policy.linesep, bool(getattr(policy, "utf8", False)))
        if self._folded is None:
            self._folded = {}
        folded = self._folded.get(way)
        if folded is None:
            parent: Any = super()  # the standard header classes, untyped
            folded = self._folded[way] = parent.fold(policy=policy)
        return folded


# Headers on one line (RFC 5322 allows 998 characters): the standard folding at 78 breaks a
# subject made of long order ids in ways some readers show with a stray leading space.
MESSAGE_POLICY = email.policy.default.clone(max_line_length=998, header_factory=ReusedHeaderClasses())
# Indonesia's western time zone (Jakarta): UTC+7, without daylight saving time.
WIB = timezone(timedelta(hours=7), "WIB")
_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def local_time(value: datetime, language: str) -> str:
    """A moment in Jakarta time labelled WIB, the way the storefront writes it (date, time,
    WIB) with the month in full: ``27 November 2025, 14.05 WIB`` / ``27 November 2025, 14:05 WIB``."""
    local = value.astimezone(WIB)
    month = _MONTHS[language][local.month - 1]
    clock = f"{local:%H.%M}" if language == "id" else f"{local:%H:%M}"
    return f"{local.day} {month} {local.year}, {clock} WIB"


def _environment() -> jinja2.Environment:
    """The templates, each loaded and compiled once per process: they are package files,
    unchanged while it runs, so jinja2's auto_reload (a stat of every template and each
    one it includes, 15 per e-mail, at every render) is off: 0.2 ms less per e-mail."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pasar_order", "templates"),
        auto_reload=False,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["format_rupiah"] = format_rupiah
    return environment


@dataclass(frozen=True)
class EmailLine:
    product: str
    package: str
    quantity: int
    unit_price: int
    total: int
    # Where it went (field name -> value), what was delivered (one per unit), and what of
    # its price went back: for the "delivered" and "refunded" e-mails.
    destination: tuple[tuple[str, str], ...] = ()
    deliveries: tuple[fulfillment_pb2.Delivery, ...] = ()
    delivered: bool = False
    refunded: int = 0

    @classmethod
    def of(cls, line: OrderLine, language: str) -> EmailLine:
        """The line in the e-mail's language: English names when it is English and the
        catalog had them at checkout, the Indonesian ones otherwise."""
        fulfillment = stored_fulfillment(line)
        refund = stored_refund(line.refund_snapshot)
        delivered = line.fulfillment_state == FulfillmentState.SUCCEEDED
        english = language == "en"
        return cls(
            product=(english and line.product_display_name_en) or line.product_display_name,
            package=(english and line.package_display_name_en) or line.package_display_name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.line_total,
            destination=tuple(sorted(line_destination(line).items())),
            deliveries=tuple(fulfillment.deliveries) if fulfillment is not None and delivered else (),
            delivered=delivered,
            refunded=refund.amount.amount if refund is not None else 0,
        )


class Composer:
    """Turns an outbox row into the e-mail message to send."""

    def __init__(self, *, sender: str, storefront_url: str, token_secret: str) -> None:
        self.sender = sender
        self.storefront_url = storefront_url.rstrip("/")
        self.token_secret = token_secret
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "pasar.test"
        self.templates = _environment()

    def order_link(self, order_id: str) -> str:
        """The storefront's page of the order, with the token that opens it."""
        token = access_token(self.token_secret, order_id)
        return f"{self.storefront_url}/orders/{order_id}?token={token}"

    def lookup_link(self, order_number: str) -> str:
        """The storefront's "Cek pesanan" page with the number filled in: the order is found
        by its number and the e-mail address (no token in this link)."""
        return f"{self.storefront_url}/orders?{urlencode({'number': order_number})}"

    def message_id(self, email: Email) -> str:
        return f"<{email.kind.replace('_', '-')}.{email.id}.{email.order_id}@{self.domain}>"

    def compose(self, email: Email, order: Order, lines: list[OrderLine]) -> EmailMessage:
        language = order.language_code if order.language_code in LANGUAGES else "id"
        payment = stored_payment(order)
        instructions = payment.WhichOneof("instructions") if payment else None
        fee_refund = stored_refund(order.fee_refund_snapshot)
        context: dict[str, Any] = {
            "order": order,
            # The number people read out; the id for an order that has none.
            "number": order.order_number or order.id,
            "lines": [EmailLine.of(line, language) for line in lines],
            "fee": order.fee or 0,
            "total": order.total if order.total is not None else order.subtotal,
            # How to pay, as the payment was created: its kind ("virtual_account", ...)
            # and that kind's instructions.
            "instructions": instructions,
            "details": getattr(payment, instructions) if payment and instructions else None,
            # Every time in Jakarta time, labelled WIB; the deadline is the order's expire_time.
            "expire_time": local_time(order.expire_time, language) if order.expire_time else "",
            "paid_time": local_time(order.paid_time, language) if order.paid_time else "",
            "complete_time": local_time(order.complete_time, language) if order.complete_time else "",
            "refunded_total": order.refunded_total or 0,
            "fee_refunded": fee_refund.amount.amount if fee_refund is not None else 0,
            "link": self.order_link(order.id),
            # "Cek pesanan" finds an order by its number: only for an order that has one.
            "lookup_link": self.lookup_link(order.order_number) if order.order_number else "",
            "shop_link": f"{self.storefront_url}/",
        }
        base = f"{language}/{email.kind}"
        subject = self.templates.get_template(f"{base}.subject").render(context).strip()
        message = EmailMessage(policy=MESSAGE_POLICY)
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = order.customer_email
        message["Date"] = format_datetime(email.create_time.astimezone(UTC))
        message["Message-ID"] = self.message_id(email)
        message["X-Pasar-Order-Id"] = order.id
        message["X-Pasar-Email-Kind"] = email.kind
        message.set_content(self.templates.get_template(f"{base}.txt").render(context))
        message.add_alternative(self.templates.get_template(f"{base}.html").render(context), subtype="html")
        message["Content-Language"] = language  # after the content, which replaces Content-* headers
        return message
