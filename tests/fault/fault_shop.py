"""The shop as the fault tests drive it: over the gateway's REST API, like shoppers, and
read back from the three services' own databases, like an auditor.

- :class:`FaultShop` seeds a small catalog through the gateway's admin routes
  (pasar_testkit.catalog) and places orders as the storefront does.
- :class:`ShopperLoad` is a bounded load of shoppers on threads: each places orders (and
  retries an order with the same Idempotency-Key when the shop answers 503/504 or the
  connection fails, as the storefront does), pays some, and records every answer with its
  time, so that a test can tell answers given while a component was down from the others.
- :func:`audit` reads the product, payment and order databases directly
  (pasar_testkit.databases) and the e-mails written to the mail folder, and lists every
  broken invariant.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from pasar_testkit.catalog import Category, Package, Product, seed_over_gateway
from pasar_testkit.databases import query
from pasar_testkit.stack import Stack
from pasar_testkit.waiting import wait_for

CHANNEL = "qris"  # 1.000 to 10.000.000 rupiah
CATEGORY = "pulsa"
# Package id -> (price, initial stock). One package is scarce, so that it sells out
# under the load and the "sold out" path meets the faults too.
PACKAGES: Mapping[str, tuple[int, int]] = {
    "pulsa-uji-10k": (11_500, 400),
    "pulsa-uji-25k": (25_500, 400),
    "paket-data-uji-5gb": (52_000, 400),
    "token-uji-langka": (101_000, 25),
}
# On top of the Stack's quick background work: a killed instance's checkout is taken over
# within seconds, a slow peer costs a second, and payment events reach the order service at once.
ORDER_ENV = {"PASAR_CHECKOUT_LEASE_SECONDS": "3", "PASAR_PEER_TIMEOUT_SECONDS": "1"}
PAYMENT_ENV = {"PASAR_PAYMENT_EVENT_POLL_SECONDS": "0.2"}
GATEWAY_ENV = {"PASAR_ORDER_RATE_LIMIT": "off", "PASAR_BREAKER_RESET_SECONDS": "0.5"}
# Every Python service runs two worker processes (PASAR_GRPC_PROCESSES): the faults meet
# background jobs that must run in one process at a time (pasar_kit.leases) and outboxes that
# every process works through, and a kill takes a service's supervisor and workers at once.
PROCESSES_PER_SERVICE = 2


def make_stack(base: Path, database_urls: Mapping[str, str], **component_env: Mapping[str, str]) -> Stack:
    """The three services (the Python ones with two processes each) and the gateway with the
    fault tests' settings (not started)."""
    per_component: dict[str, dict[str, str]] = {
        "order": dict(ORDER_ENV),
        "payment": dict(PAYMENT_ENV),
        "gateway": dict(GATEWAY_ENV),
    }
    for name, env in component_env.items():
        per_component.setdefault(name, {}).update(env)
    return Stack(base, database_urls, component_env=per_component, grpc_processes=PROCESSES_PER_SERVICE)


class FaultShop:
    """The gateway's REST API as the storefront and an administrator use it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.gateway_url
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def seed_catalog(self) -> None:
        """One product per package of PACKAGES, in one category."""
        products = [
            Product(
                f"produk-uji-{number}",
                f"Produk Uji {number}",
                CATEGORY,
                [Package(package_id, package_id, price, stock, 1)],
            )
            for number, (package_id, (price, stock)) in enumerate(PACKAGES.items())
        ]
        seed_over_gateway(self.url, [Category(CATEGORY, "Pulsa", 1)], products, session=self.session)

    def place_order(self, package_id: str, quantity: int = 1, **headers: str) -> requests.Response:
        return self.session.post(
            f"{self.url}/api/v1/orders",
            json={
                "customerEmail": "budi@example.co.id",
                "lines": [{"packageId": package_id, "quantity": quantity}],
                "paymentChannelCode": CHANNEL,
            },
            headers=headers,
            timeout=30,
        )


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange of the load: what was asked, when, and what came back."""

    what: str
    started: float
    ended: float
    status: int  # 0: the connection failed or timed out


@dataclass
class DownWindow:
    """A component was down (killed, stopped or slowed) from start until end."""

    component: str
    start: float
    end: float = float("inf")


@dataclass
class ShopperLoad:
    """Shoppers on threads placing (and paying some) orders until stopped or out of time."""

    url: str
    shoppers: int = 4
    pay_share: float = 0.5
    max_seconds: float = 120.0
    answers: list[Answer] = field(default_factory=list)
    placed: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._shop, args=(number,), name=f"shopper-{number}", daemon=True)
            for number in range(self.shoppers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def __enter__(self) -> ShopperLoad:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _exchange(self, session: requests.Session, what: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            response = session.request(method, self.url + path, timeout=15, **kwargs)
        except requests.RequestException:
            session.close()  # a connection the gateway's death broke is not reused
            self._record(Answer(what, started, time.monotonic(), 0))
            return None
        self._record(Answer(what, started, time.monotonic(), response.status_code))
        return response

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def _shop(self, number: int) -> None:
        chooser = random.Random(number)
        session = requests.Session()
        deadline = time.monotonic() + self.max_seconds
        packages = list(PACKAGES)
        while not self._stop.is_set() and time.monotonic() < deadline:
            key = uuid.uuid4().hex
            body = {
                "customerEmail": f"pembeli{number}@example.co.id",
                "lines": [{"packageId": chooser.choice(packages), "quantity": chooser.randint(1, 2)}],
                "paymentChannelCode": CHANNEL,
            }
            for attempt in range(4):  # the storefront retries an order with its key
                response = self._exchange(
                    session, "order", "POST", "/api/v1/orders", json=body, headers={"Idempotency-Key": key}
                )
                if response is not None and response.status_code not in (502, 503, 504):
                    break
                if self._stop.wait(0.3 * (attempt + 1)):
                    break
            if response is None or response.status_code != 200:
                continue
            created = response.json()
            with self._lock:
                self.placed.append(created)
            if chooser.random() < self.pay_share:
                self._exchange(
                    session, "pay", "POST", f"/api/v1/payments/{created['payment']['id']}:simulate"
                )
        session.close()

    def statuses(self) -> Counter[int]:
        return Counter(answer.status for answer in self.answers)


def unexpected_answers(
    answers: Sequence[Answer], windows: Sequence[DownWindow], grace: float
) -> list[Answer]:
    """Answers that no fault explains: any 5xx other than 503/504, or a 503/504 or a broken
    connection outside every window (widened by grace) of a component being down."""
    wrong = []
    for answer in answers:
        if answer.status == 500 or (answer.status >= 500 and answer.status not in (503, 504)):
            wrong.append(answer)
            continue
        if answer.status in (0, 503, 504):
            explained = any(
                answer.ended >= window.start
                and answer.started <= window.end + grace
                and (answer.status != 0 or window.component == "gateway")
                for window in windows
            )
            if not explained:
                wrong.append(answer)
    return wrong


# Reading the databases.


@dataclass
class Databases:
    """Read access to each service's own database."""

    urls: Mapping[str, str]

    def rows(self, service: str, sql: str) -> list[tuple[Any, ...]]:
        return query(self.urls[service], sql)

    def scalar(self, service: str, sql: str) -> Any:
        return self.rows(service, sql)[0][0]


def unsettled(databases: Databases) -> list[str]:
    """What the shop still has to do: checkouts half-done, reservation steps due, payments
    whose PAID event the order service has not handled yet."""
    waiting = [
        f"{count} orders {state}"
        for state, count in databases.rows(
            "order",
            "SELECT state, COUNT(*) FROM orders WHERE state IN ('CREATING', 'ABORTING') GROUP BY state",
        )
    ]
    now = datetime.now(UTC).replace(tzinfo=None)
    # A step still leased by an instance that was killed waits for its lease to expire (the
    # order service's outbox lease is two minutes), and an e-mail waits for the order's
    # earlier e-mails: both are "still queued", which the invariants allow. A reservation
    # step free and due is work the living instance must do now.
    due = [
        row
        for row in databases.rows(
            "order", "SELECT lease_until, next_attempt_time FROM reservation_tasks WHERE state = 'QUEUED'"
        )
        if (row[0] is None or _naive(row[0]) < now) and _naive(row[1]) < now - timedelta(seconds=2)
    ]
    if due:
        waiting.append(f"{len(due)} reservation steps due")
    paid = {row[0] for row in databases.rows("payment", "SELECT order_id FROM payment WHERE state = 'PAID'")}
    paid_orders = {row[0] for row in databases.rows("order", "SELECT id FROM orders WHERE state = 'PAID'")}
    if paid - paid_orders:
        waiting.append(f"{len(paid - paid_orders)} PAID payments whose order is not PAID")
    return waiting


def _naive(value: Any) -> datetime:
    """A naive UTC datetime from the database (SQLite gives text, MariaDB datetimes)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def wait_until_settled(databases: Databases, timeout: float) -> None:
    try:
        wait_for(lambda: not unsettled(databases), timeout, "the shop to settle", interval=0.2)
    except AssertionError:
        waiting = "; ".join(unsettled(databases))
        raise AssertionError(f"the shop did not settle within {timeout}s: {waiting}") from None


VISIBLE_ORDER_STATES = frozenset({"PENDING_PAYMENT", "PAID", "CANCELLED", "EXPIRED"})


@dataclass
class Audit:
    """What the databases hold after the faults, and every inconsistency found."""

    orders: Counter[str]
    payments: Counter[str]
    emails_sent: int
    emails_queued: int
    problems: list[str]


def _sums(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    return {str(key): int(value) for key, value in rows}


def audit(databases: Databases, initial_stock: Mapping[str, int], mail_dir: Path) -> Audit:
    """Checks every invariant of the issue; returns the figures and the problems found."""
    problems = audit_stock(databases, initial_stock)
    orders = {
        str(row[0]): (str(row[1]), row[2])
        for row in databases.rows("order", "SELECT id, state, payment_id FROM orders")
    }
    payments = {
        str(row[0]): (str(row[1]), str(row[2]))
        for row in databases.rows("payment", "SELECT id, order_id, state FROM payment")
    }
    problems += audit_payments(orders, payments)
    email_problems, sent, queued = audit_emails(databases, orders, mail_dir)
    return Audit(
        orders=Counter(state for state, _ in orders.values()),
        payments=Counter(state for _, state in payments.values()),
        emails_sent=sent,
        emails_queued=queued,
        problems=problems + email_problems,
    )


def audit_stock(databases: Databases, initial_stock: Mapping[str, int]) -> list[str]:
    """Stock never below zero; initial stock minus the units of live orders; held by the catalog."""
    problems = []
    stock = _sums(databases.rows("product", "SELECT id, stock_available FROM package"))
    live = _sums(
        databases.rows(
            "order",
            "SELECT l.package_id, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.state IN ('PENDING_PAYMENT', 'PAID') GROUP BY l.package_id",
        )
    )
    held = _sums(
        databases.rows(
            "product",
            "SELECT l.package_id, SUM(l.quantity) FROM reservation_line l "
            "JOIN reservation r ON r.order_id = l.order_id "
            "WHERE r.state IN ('RESERVED', 'COMMITTED') GROUP BY l.package_id",
        )
    )
    for package, initial in initial_stock.items():
        now, sold, kept = stock.get(package, 0), live.get(package, 0), held.get(package, 0)
        if now < 0:
            problems.append(f"package {package}: stock {now} below zero")
        if initial - now != sold:
            problems.append(f"package {package}: stock {now} != initial {initial} - paid and reserved {sold}")
        if kept != sold:
            problems.append(f"package {package}: the catalog holds {kept} units, live orders {sold}")
    return problems


def audit_payments(
    orders: Mapping[str, tuple[str, Any]], payments: Mapping[str, tuple[str, str]]
) -> list[str]:
    """Every order has exactly one payment; a PAID payment a PAID order; a PENDING one a pending order."""
    problems = []
    payments_by_order = Counter(order_id for order_id, _ in payments.values())
    for order_id, (state, payment_id) in orders.items():
        if state not in VISIBLE_ORDER_STATES:
            problems.append(f"order {order_id} left in state {state}")
        elif payments_by_order[order_id] != 1 or payment_id not in payments:
            problems.append(
                f"order {order_id} has {payments_by_order[order_id]} payments (its own: {payment_id})"
            )
        elif payments[payment_id][0] != order_id:
            problems.append(f"order {order_id}'s payment {payment_id} belongs to {payments[payment_id][0]}")
    for payment_id, (order_id, state) in payments.items():
        order_state = orders.get(order_id, ("missing", None))[0]
        if state == "PAID" and order_state != "PAID":
            problems.append(f"payment {payment_id} is PAID but its order {order_id} is {order_state}")
        if state == "PENDING" and order_state != "PENDING_PAYMENT":
            problems.append(f"payment {payment_id} is PENDING but its order {order_id} is {order_state}")
    return problems


def audit_emails(
    databases: Databases, orders: Mapping[str, tuple[str, Any]], mail_dir: Path
) -> tuple[list[str], int, int]:
    """Each order's e-mails exist once each, and each was written exactly once or is queued."""
    problems = []
    emails = databases.rows("order", "SELECT id, order_id, kind, state FROM emails")
    files = Counter(path.name for path in mail_dir.glob("email-*.eml")) if mail_dir.exists() else Counter()
    kinds = Counter((str(order_id), str(kind)) for _, order_id, kind, _ in emails)
    states = Counter(str(state) for *_, state in emails)
    for email_id, order_id, kind, state in emails:
        written = files[f"email-{int(email_id):08d}-{kind}.eml"]
        if state == "DONE" and written != 1:
            problems.append(
                f"e-mail {email_id} ({kind}) of order {order_id} is marked sent, written {written}"
            )
        elif state not in ("DONE", "QUEUED"):
            problems.append(f"e-mail {email_id} ({kind}) of order {order_id} is {state}")
    for order_id, (state, _) in orders.items():
        for kind in ["order_created"] + (["payment_received"] if state == "PAID" else []):
            if kinds[(order_id, kind)] != 1:
                problems.append(f"order {order_id} has {kinds[(order_id, kind)]} {kind} e-mails")
    known = {f"email-{int(email_id):08d}-{kind}.eml" for email_id, _, kind, _ in emails}
    problems += [f"e-mail file {stray} has no e-mail in the outbox" for stray in sorted(set(files) - known)]
    return problems, states["DONE"], states["QUEUED"]


def kill_component(stack: Stack, name: str) -> None:
    """SIGKILL the component and, for the gateway, its gunicorn workers: a crash, no clean-up."""
    process = stack[name].process
    assert process is not None, f"{name} is not running"
    workers = _children(process.pid)
    stack[name].kill()
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found
