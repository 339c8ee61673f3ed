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
import functools
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr, parsedate_to_datetime
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


# Headers on one line (RFC 5322 allows 998 characters): the standard folding at 78 breaks a
# subject made of long order ids in ways some readers show with a stray leading space.
MAX_LINE_LENGTH = 998
MESSAGE_POLICY = email.policy.default.clone(max_line_length=MAX_LINE_LENGTH)
# The bytes of an e-mail end their lines so in the mail folder; an SMTP server is sent CRLF.
FILE_LINESEP = "\n"
SMTP_LINESEP = "\r\n"
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

    def compose(self, email: Email, order: Order, lines: list[OrderLine]) -> ComposedEmail:
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
        headers = (
            ("Subject", subject),
            ("From", self.sender),
            ("To", order.customer_email),
            ("Date", format_datetime(email.create_time.astimezone(UTC))),
            ("Message-ID", self.message_id(email)),
            ("X-Pasar-Order-Id", order.id),
            ("X-Pasar-Email-Kind", email.kind),
        )
        text = self.templates.get_template(f"{base}.txt").render(context)
        html = self.templates.get_template(f"{base}.html").render(context)
        return ComposedEmail(headers, language, text, html, new_boundary(text, html))


@dataclass(frozen=True)
class ComposedEmail:
    """An e-mail ready to send: a multipart/alternative message of a plain-text and an HTML
    part, in the order's language.

    message() is the standard library's EmailMessage of it. as_bytes() writes the bytes
    the standard library writes for that message, byte for byte, without making it:
    making and writing one took 0.7 ms of CPU, a tenth of what a checkout costs the
    order service. The e-mail has one shape, so its bytes are written directly: each
    header the standard way of folding leaves on one line as it is (_PLAIN_VALUE), a
    header repeated from e-mail to e-mail folded once by the standard library, and each
    part's body as the standard content manager encodes text that needs no transfer
    encoding. Whatever falls outside that shape (a header that must be encoded or folded,
    a line too long for 8bit) is written by the standard library.
    """

    # The headers before the content (Subject to X-Pasar-Email-Kind), in order.
    headers: tuple[tuple[str, str], ...]
    language: str
    text: str
    html: str
    # Between the parts: drawn for each e-mail as the standard library draws one.
    boundary: str

    def header(self, name: str) -> str:
        return next(value for header, value in self.headers if header == name)

    def message(self) -> EmailMessage:
        """The e-mail as the standard library makes it."""
        message = EmailMessage(policy=MESSAGE_POLICY)
        for name, value in self.headers:
            message[name] = value
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        message["Content-Language"] = self.language  # after the content, which replaces Content-* headers
        message.set_boundary(self.boundary)
        return message

    def as_bytes(self, linesep: str = FILE_LINESEP) -> bytes:
        """The e-mail's bytes, each line ended by linesep: the mail folder's (FILE_LINESEP),
        or SMTP's (SMTP_LINESEP), as smtplib's send_message flattens it."""
        written = self._written(linesep)
        if written is not None:
            return written
        return self.message().as_bytes(policy=MESSAGE_POLICY.clone(linesep=linesep))

    def envelope(self) -> tuple[str, list[str]]:
        """The SMTP envelope smtplib's send_message takes from the headers: the address of
        From, and those of To."""
        sender = str(_stored_header("From", self.header("From")))
        recipients = str(_stored_header("To", self.header("To")))
        return getaddresses([sender])[0][1], [address for _, address in getaddresses([recipients])]

    def _written(self, linesep: str) -> bytes | None:
        """The bytes written here, or None for an e-mail outside the shape they cover."""
        text, html = _text_body(self.text, linesep), _text_body(self.html, linesep)
        if text is None or html is None:
            return None
        lines = [_header_line(name, value, linesep) for name, value in self.headers]
        lines += [
            _repeated_line("MIME-Version", "1.0", linesep),
            _header_line("Content-Type", f'multipart/alternative; boundary="{self.boundary}"', linesep),
            _repeated_line("Content-Language", self.language, linesep),
        ]
        text_cte, text_body = text
        html_cte, html_body = html
        text_part = [
            _repeated_line("Content-Type", 'text/plain; charset="utf-8"', linesep),
            _repeated_line("Content-Transfer-Encoding", text_cte, linesep),
        ]
        html_part = [
            _repeated_line("Content-Type", 'text/html; charset="utf-8"', linesep),
            _repeated_line("Content-Transfer-Encoding", html_cte, linesep),
            _repeated_line("MIME-Version", "1.0", linesep),
        ]
        delimiter = f"--{self.boundary}"
        head = "".join([*lines, linesep, delimiter, linesep, *text_part, linesep])
        middle = "".join([linesep, delimiter, linesep, *html_part, linesep])
        end = f"{linesep}{delimiter}--{linesep}"
        return b"".join(
            [head.encode("ascii"), text_body, middle.encode("ascii"), html_body, end.encode("ascii")]
        )


# The standard library's boundary: 15 '=', a random number of as many digits as the
# largest, '=='; then '.0', '.1', ... until no line of the parts is it.
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))


def new_boundary(*bodies: str) -> str:
    """A boundary for a multipart of these bodies, drawn as the standard library draws one."""
    token = random.randrange(sys.maxsize)  # noqa: S311 - a boundary, not a secret
    boundary = "=" * 15 + f"{token:0{_BOUNDARY_DIGITS}d}" + "=="
    drawn, counter = boundary, 0
    while any(f"--{drawn}" in body and _is_a_line_of(f"--{drawn}", body) for body in bodies):
        drawn = f"{boundary}.{counter}"
        counter += 1
    return drawn


def _is_a_line_of(delimiter: str, body: str) -> bool:
    """Whether delimiter (with or without a closing '--') is a line of body, whatever ends
    its lines (the parts are written with the e-mail's)."""
    lines = _LINE_ENDS.sub("\n", body)
    return re.search(f"^{re.escape(delimiter)}(--)?$", lines, re.MULTILINE) is not None


_LINE_ENDS = re.compile(r"\r\n|\r")


# Headers whose values the standard folding leaves on one line as they are when they are
# plain (printable ASCII words one space apart, no encoded word) and fit on it: the
# unstructured ones, a Date as email.utils writes one, a To of one plain address and a
# Message-ID of plain dot-atoms. test_emails.py checks this against the standard library.
_WORDS = re.compile(r"[!-~]+(?: [!-~]+)*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_HOST = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_VALUE = {
    "subject": _WORDS,
    "x-pasar-order-id": _WORDS,
    "x-pasar-email-kind": _WORDS,
    "content-language": _WORDS,
    "date": _WORDS,
    "to": re.compile(rf"{_DOT_ATOM}@{_HOST}"),
    "message-id": re.compile(rf"<{_DOT_ATOM}@{_HOST}>"),
    "content-type": re.compile(r'multipart/alternative; boundary="[A-Za-z0-9=._-]+"'),
}


def _header_line(name: str, value: str, linesep: str) -> str:
    """A header as the standard policy folds it for writing."""
    if _stays_as_it_is(name, value):
        return f"{name}: {value}{linesep}"
    if name.lower() in _REPEATED:
        return _repeated_line(name, value, linesep)
    return _folded(name, _stored_header(name, value), linesep)


def _stays_as_it_is(name: str, value: str) -> bool:
    plain = _PLAIN_VALUE.get(name.lower())
    if plain is None or not plain.fullmatch(value) or "=?" in value:
        return False
    if len(name) + 2 + len(value) > MAX_LINE_LENGTH:
        return False
    if name.lower() == "date":  # the standard header writes the date it reads again
        try:
            return format_datetime(parsedate_to_datetime(value)) == value
        except ValueError:
            return False
    return True


# The headers whose values recur from e-mail to e-mail: folded once each by the standard
# library (at most 64 kept).
_REPEATED = frozenset({"from", "mime-version", "content-type", "content-transfer-encoding"})


@functools.lru_cache(maxsize=64)
def _repeated_line(name: str, value: str, linesep: str) -> str:
    return _folded(name, _stored_header(name, value), linesep)


def _stored_header(name: str, value: str) -> Any:
    """The header object an EmailMessage stores for name: value (it refuses line breaks)."""
    return MESSAGE_POLICY.header_store_parse(name, value)[1]


def _folded(name: str, header: Any, linesep: str) -> str:
    policy = MESSAGE_POLICY.clone(linesep=linesep)
    return policy.fold_binary(name, header).decode("ascii")


def _text_body(text: str, linesep: str) -> tuple[str, bytes] | None:
    """A text part's transfer encoding and body as the standard content manager makes them
    (set_content: the lines ended alike, 7bit for ASCII, 8bit for UTF-8 while no line is
    longer than the policy's limit), or None where it would choose quoted-printable or
    base64."""
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) > MAX_LINE_LENGTH:
        return None
    end = linesep.encode("ascii")
    return ("7bit" if text.isascii() else "8bit"), end.join(lines) + end
