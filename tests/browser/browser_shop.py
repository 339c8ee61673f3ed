"""The whole shop as the browser tests use it: the three Python services, the Go
fulfillment service (its sandbox biller delivers) and the gateway serving the built
storefront, on fresh SQLite databases with the demo catalog, and the e-mails the order
service writes as .eml files.
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
from email.message import EmailMessage
from http import HTTPStatus
from pathlib import Path
from typing import Any

from pasar_kit.readiness import http_ok
from pasar_testkit.mail import mail_files, parse_mail
from pasar_testkit.stack import STACK_COMPONENTS, Stack, sqlite_database_urls
from pasar_testkit.waiting import wait_for

#: How long the gateway keeps catalog reads (products, channels) in its cache, in tests.
#: Short, so that a stopped service shows in the storefront within a second.
CATALOG_CACHE_SECONDS = 0.5

# How long the gateway's workers may take to reconnect to a restarted service, and how many
# new connections in a row must find every service ready through the gateway (/readyz
# checks each service over the channels of the worker that answers it).
RECONNECT_SECONDS = 15.0
WORKER_PROBES = 8

#: How long placing an order may be answered 503 while a restarted service comes back.
PLACE_ORDER_RETRY_SECONDS = 15.0
#: The phone credit place_order buys when no destination is given.
PHONE_CREDIT_PACKAGE = "pulsa-nusantara-20k"

GATEWAY_ENV = {
    "PASAR_CATALOG_CACHE_TTL_SECONDS": str(CATALOG_CACHE_SECONDS),
    # The fault tests press Beli again and again while a service comes back; the order
    # rate limit (30 a minute per address) is not what they test.
    "PASAR_ORDER_RATE_LIMIT": "1000/minute",
    # Every lookup test comes from 127.0.0.1; the gateway's per-address limit (10 a minute)
    # is the gateway's tests' concern, the per-number limit of svc-order stays as it is.
    "PASAR_ORDER_LOOKUP_RATE_LIMIT": "1000/minute",
}


def unique_email(prefix: str) -> str:
    """A new customer e-mail address per order, so that one test's e-mails never match another's."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.co.id"


def parse_timestamp(text: str) -> datetime:
    """A proto3 JSON Timestamp ("2026-12-05T07:30:00.123456789Z") as the storefront's Date
    holds it: to the millisecond, rounded half up (protobuf-es's timestampMs)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text)
    assert match is not None, f"not a proto3 JSON timestamp: {text!r}"
    nanos = int((match.group(2) or "0").ljust(9, "0"))
    whole = datetime.fromisoformat(f"{match.group(1)}+00:00")
    return whole + timedelta(milliseconds=math.floor(nanos / 1_000_000 + 0.5))


@dataclass(frozen=True)
class PlacedOrder:
    """An order placed through the REST API: CreateOrder's order (proto3 JSON) and access token."""

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

    @property
    def path(self) -> str:
        """The order's page on the storefront, as the e-mail link opens it."""
        return f"/orders/{self.id}?{urllib.parse.urlencode({'token': self.token})}"


@dataclass(frozen=True)
class Email:
    """An e-mail the order service wrote, with the order link its text carries."""

    path: Path
    message: EmailMessage

    @property
    def kind(self) -> str:
        return str(self.message["X-Pasar-Email-Kind"])

    @property
    def order_id(self) -> str:
        return str(self.message["X-Pasar-Order-Id"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, f"{self.path.name} has no text part"
        return str(part.get_content())

    def order_links(self) -> list[str]:
        return re.findall(r"https?://[^\s\"<>]+/orders/ord_[0-9a-f]{32}\?token=[A-Za-z0-9_\-]+", self.text())


class BrowserShop:
    """The running shop: where it answers, its mail folder, and stopping or starting a part."""

    def __init__(self, base: Path, static_dir: Path) -> None:
        self.database_urls = sqlite_database_urls(base / "databases")
        self.stack = Stack(
            base,
            self.database_urls,
            component_env={"gateway": {**GATEWAY_ENV, "PASAR_STATIC_DIR": str(static_dir)}},
        )

    @property
    def url(self) -> str:
        return self.stack.gateway_url

    @property
    def mail_dir(self) -> Path:
        return self.stack.mail_dir

    def load_demo_catalog(self) -> None:
        """`pasar-product load-demo` against the product database, before the service starts."""
        self.stack.load_demo_catalog()

    def start(self) -> None:
        self.stack.start(*STACK_COMPONENTS)

    def stop(self) -> None:
        self.stack.stop()

    def stop_service(self, name: str) -> None:
        """Stops one service (SIGTERM, by PID) and waits out the gateway's catalog cache."""
        self.stack[name].stop()
        time.sleep(CATALOG_CACHE_SECONDS + 0.2)

    def start_service(self, name: str) -> None:
        """Starts one service again on its port; returns once it reports SERVING."""
        self.stack.start(name)

    def ensure_running(self) -> None:
        """Restarts whatever a test left stopped, and waits until the gateway reaches every
        service again, so that the next test finds the whole shop.

        A service that was stopped during the test (the fault tests stop and start them)
        reports SERVING before every gateway worker has reconnected: each worker's channel
        retries on its own backoff (up to 2 s), and meanwhile that worker answers 503. The
        shop is whole once several new connections in a row, spread over the workers by
        the kernel, find every service ready through the gateway.
        """
        for name in STACK_COMPONENTS:
            if not self.stack[name].running:
                self.stack.start(name)
        wait_for(
            self._every_worker_reaches_every_service,
            RECONNECT_SECONDS,
            "the gateway to reach every service",
            interval=0.1,
        )

    def _every_worker_reaches_every_service(self) -> bool:
        return all(http_ok(f"{self.url}/readyz") for _ in range(WORKER_PROBES))

    def api(
        self, path: str, body: dict[str, object] | None = None, *, idempotency_key: str = ""
    ) -> dict[str, Any]:
        """One call of the gateway's REST API (POST when there is a body, with the given
        Idempotency-Key or a new one); its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = (
            {}
            if body is None
            else {"Content-Type": "application/json", "Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        )
        request = urllib.request.Request(f"{self.url}/api/v1{path}", data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=15) as response:
            answer: dict[str, Any] = json.load(response)
        return answer

    def channel(self, kind: str, *, requires_phone_number: bool = False) -> dict[str, object]:
        """The first enabled payment channel of a kind ("PAYMENT_CHANNEL_KIND_QRIS"), as listed;
        with requires_phone_number, one that pushes the payment to the payer's phone."""
        listed = self.api("/payment-channels")["paymentChannels"]
        assert isinstance(listed, list)
        return next(
            found
            for found in listed
            if found["kind"] == kind
            and found.get("enabled", False)
            and found.get("requiresPhoneNumber", False) == requires_phone_number
        )

    def place_order(
        self,
        channel_code: str,
        *,
        email: str | None = None,
        package_id: str = PHONE_CREDIT_PACKAGE,
        destination: dict[str, str] | None = None,
        payer_phone_number: str = "",
    ) -> PlacedOrder:
        """Places an order of one package through the REST API, as Beli does (the storefront
        is not what is tested then): a phone credit to 081234567890 unless another
        destination is given ({} for a package without one), by a new e-mail address unless
        one is given.

        One Idempotency-Key for every attempt, as Beli does: a service that was just started
        again (a test before stopped one) can answer 503 until the order service has
        reconnected to it, and the retry must not place a second order."""
        body: dict[str, object] = {
            "customerEmail": email or unique_email("beli"),
            "lines": [
                {
                    "packageId": package_id,
                    "quantity": 1,
                    "destination": {"phone_number": "081234567890"} if destination is None else destination,
                }
            ],
            "paymentChannelCode": channel_code,
            "languageCode": "id",
        }
        if payer_phone_number:
            body["payerPhoneNumber"] = payer_phone_number
        key = uuid.uuid4().hex
        deadline = time.monotonic() + PLACE_ORDER_RETRY_SECONDS
        while True:
            try:
                answer = self.api("/orders", body, idempotency_key=key)
                break
            except urllib.error.HTTPError as error:
                if error.code != HTTPStatus.SERVICE_UNAVAILABLE or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        return PlacedOrder(order=answer["order"], token=str(answer["accessToken"]))

    def order_state(self, order_id: str, token: str) -> str:
        """The order's state as the gateway's REST API gives it ("ORDER_STATE_FULFILLED")."""
        query = urllib.parse.urlencode({"token": token})
        with urllib.request.urlopen(f"{self.url}/api/v1/orders/{order_id}?{query}", timeout=10) as response:
            order = json.load(response)
        return str(order["state"])

    def all_emails(self) -> list[Email]:
        """Every e-mail written so far, oldest first."""
        return [Email(path, parse_mail(path.read_bytes())) for path in mail_files(self.mail_dir)]

    def emails(self, order_id: str) -> list[Email]:
        return [mail for mail in self.all_emails() if mail.order_id == order_id]

    def wait_for_email(self, order_id: str, kind: str, timeout: float = 20.0) -> Email:
        def find() -> Email | None:
            return next((mail for mail in self.emails(order_id) if mail.kind == kind), None)

        return wait_for(find, timeout, f"the {kind} e-mail of {order_id} in {self.mail_dir}", interval=0.1)
