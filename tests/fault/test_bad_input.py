"""Bad input at volume: generated and hostile requests against the real shop, through the gateway.

1. Schemathesis reads the gateway's own ``/api/v1/openapi.json`` from the running gateway
   and sends every operation generated requests, valid and invalid
   (``PASAR_FAULT_FUZZ_EXAMPLES`` an operation in each mode, 40 by default: a longer run
   than the gateway's own suite): no answer may be a 5xx, and every answer must match the document. No admin
   token is given, so the admin operations must refuse (401) and store nothing.
2. Hand-written hostile requests, each sent many times by concurrent clients: huge bodies,
   URLs and headers, deeply nested JSON, invalid UTF-8, SQL and header (CRLF) injection in
   e-mail addresses, ids, idempotency keys and searches. Each must get a 4xx in the one
   error shape; a search must treat SQL and LIKE wildcards as plain text.
3. Nothing was stored: no order, payment or e-mail exists, and the catalog is the one seeded.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from fault_shop import CHANNEL, PACKAGES, Databases, FaultShop, make_stack
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import STACK_COMPONENTS, Stack, sqlite_database_urls

EXAMPLES = int(os.environ.get("PASAR_FAULT_FUZZ_EXAMPLES", "40"))
REPEATS = 12  # each hostile request, sent by concurrent clients
PACKAGE = next(iter(PACKAGES))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
_SEEN: Counter[int] = Counter()
_SEEN_LOCK = threading.Lock()


@dataclass
class BadInputShop:
    stack: Stack
    databases: Databases
    catalog_fingerprint: str


def catalog_fingerprint(databases: Databases) -> str:
    rows = databases.rows(
        "product", "SELECT id, product_id, display_name, price, stock_available FROM package"
    )
    rows += databases.rows("product", "SELECT id, display_name, description, state FROM product")
    rows += databases.rows("product", "SELECT id, display_name FROM category")
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


@pytest.fixture(scope="module")
def bad_input_shop(
    tmp_path_factory: pytest.TempPathFactory, session_failure_logs: FailureLogs
) -> Iterator[BadInputShop]:
    base = tmp_path_factory.mktemp("bad-input")
    urls = sqlite_database_urls(base / "databases")
    with make_stack(base / "shop", urls) as stack, session_failure_logs.showing("the shop", stack.logs):
        stack.start(*STACK_COMPONENTS)  # the whole shop: every route of the OpenAPI document answers
        FaultShop(stack).seed_catalog()
        databases = Databases(urls)
        yield BadInputShop(stack, databases, catalog_fingerprint(databases))


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_generated_requests_get_no_server_error(bad_input_shop: BadInputShop, mode: GenerationMode) -> None:
    """Valid (positive) and invalid (negative) requests for every operation of the document the
    running gateway serves; hypothesis shrinks a failure to its smallest request."""
    url = bad_input_shop.stack.gateway_url
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    operations = sum(1 for _ in schema.get_all_operations())

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES * operations,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(base_url=url, checks=CHECKS, timeout=30)
        with _SEEN_LOCK:
            _SEEN[response.status_code] += 1

    call()


def order_body(email: str = "budi@example.co.id", package: str = PACKAGE, **extra: Any) -> dict[str, Any]:
    return {
        "customerEmail": email,
        "lines": [{"packageId": package, "quantity": 1}],
        "paymentChannelCode": CHANNEL,
        **extra,
    }


@dataclass(frozen=True)
class Hostile:
    """One hostile request and the statuses that are a right answer to it."""

    name: str
    send: Callable[[str], int]
    allowed: frozenset[int]


def post_json(path: str, document: Any, **headers: str) -> Callable[[str], int]:
    return lambda url: requests.post(url + path, json=document, headers=headers, timeout=30).status_code


def post_raw(path: str, body: bytes, content_type: str = "application/json") -> Callable[[str], int]:
    return lambda url: (
        requests.post(url + path, data=body, headers={"Content-Type": content_type}, timeout=30).status_code
    )


def get(path: str, **headers: str) -> Callable[[str], int]:
    return lambda url: requests.get(url + path, headers=headers, timeout=30).status_code


def raw_http(request: bytes) -> Callable[[str], int]:
    """Sends bytes as they are (requests refuses CR/LF in headers); returns the status."""

    def send(url: str) -> int:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(request.replace(b"HOST", f"{host}:{port}".encode()))
            head = connection.recv(65536).split(b"\r\n", 1)[0]
        return int(head.split()[1])

    return send


BAD = frozenset({400})
SEARCH_TEXT = frozenset({200})
HOSTILE = [
    Hostile(
        "huge body (8 MB)",
        post_raw("/api/v1/orders", b'{"customerEmail":"' + b"a" * 8_000_000 + b'"}'),
        frozenset({413}),
    ),
    Hostile("huge URL (64 KB)", get("/api/v1/products/" + "a" * 65536), frozenset({400, 404, 414})),
    Hostile(
        "huge header (64 KB)", get("/api/v1/products", **{"X-Filler": "a" * 65536}), frozenset({400, 431})
    ),
    Hostile("deep JSON array", post_raw("/api/v1/orders", b"[" * 30_000 + b"]" * 30_000), BAD),
    Hostile("deep JSON object", post_raw("/api/v1/orders", b'{"lines":' * 5_000 + b"1" + b"}" * 5_000), BAD),
    Hostile("invalid UTF-8", post_raw("/api/v1/orders", b'{"customerEmail":"\xff\xfe@example.com"}'), BAD),
    Hostile("NUL in JSON", post_raw("/api/v1/orders", b'{"customerEmail":"a\\u0000@example.com"}'), BAD),
    Hostile(
        "not JSON", post_raw("/api/v1/orders", b"customerEmail=a@b.c", "text/plain"), frozenset({400, 415})
    ),
    Hostile("JSON of the wrong shape", post_json("/api/v1/orders", ["budi@example.co.id"]), BAD),
    Hostile("SQL in e-mail", post_json("/api/v1/orders", order_body("x' OR '1'='1@example.com")), BAD),
    Hostile(
        "SQL after e-mail", post_json("/api/v1/orders", order_body("a@b.co'; DROP TABLE orders;--")), BAD
    ),
    Hostile(
        "CRLF header injection in e-mail",
        post_json("/api/v1/orders", order_body("budi@example.co.id\r\nBcc: korban@example.com")),
        BAD,
    ),
    Hostile(
        "LF header injection in e-mail",
        post_json("/api/v1/orders", order_body("budi@example.co.id\nSubject: menang")),
        BAD,
    ),
    Hostile("SQL in package id", post_json("/api/v1/orders", order_body(package="x' OR 1=1--")), BAD),
    Hostile(
        "SQL in idempotency key",
        post_json("/api/v1/orders", order_body(), **{"Idempotency-Key": "k'; DROP TABLE orders;--"}),
        BAD,
    ),
    Hostile("unknown field", post_json("/api/v1/orders", order_body(totalAmount="1")), BAD),
    Hostile(
        "negative quantity",
        post_json("/api/v1/orders", {**order_body(), "lines": [{"packageId": PACKAGE, "quantity": -5}]}),
        BAD,
    ),
    Hostile(
        "huge quantity",
        post_json("/api/v1/orders", {**order_body(), "lines": [{"packageId": PACKAGE, "quantity": 2**40}]}),
        BAD,
    ),
    Hostile("SQL in product id", get("/api/v1/products/x'%20OR%20'1'='1"), frozenset({400, 404})),
    Hostile("SQL in order id", get("/api/v1/orders/ord_1'%20OR%201=1--?token=x"), frozenset({400, 404})),
    Hostile("SQL in search", get("/api/v1/products?query=%27%20OR%201%3D1%20--"), SEARCH_TEXT),
    Hostile(
        "CRLF in request header",
        raw_http(
            b"GET /api/v1/products HTTP/1.1\r\nHost: HOST\r\nX-Request-Id: a\rSet-Cookie: x=1\r\n"
            b"Connection: close\r\n\r\n"
        ),
        frozenset({200, 400}),
    ),
    Hostile(
        "CRLF in path",
        raw_http(
            b"GET /api/v1/products/a%0d%0aSet-Cookie:x HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n"
        ),
        frozenset({400, 404}),
    ),
]


def test_hostile_requests_get_a_clear_refusal_at_volume(
    bad_input_shop: BadInputShop, figures: Callable[[str], None]
) -> None:
    url = bad_input_shop.stack.gateway_url
    jobs = [hostile for hostile in HOSTILE for _ in range(REPEATS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(zip(jobs, pool.map(lambda hostile: hostile.send(url), jobs), strict=True))
    wrong = sorted({(hostile.name, status) for hostile, status in answers if status not in hostile.allowed})
    statuses = Counter(status for _, status in answers)
    figures(
        f"hostile input: {len(answers)} requests ({len(HOSTILE)} kinds × {REPEATS}, 8 clients): "
        f"{dict(sorted(statuses.items()))}; generated requests (schemathesis, {EXAMPLES} an operation): "
        f"{dict(sorted(_SEEN.items()))}"
    )
    assert not wrong, wrong
    # A search is plain text: SQL and LIKE wildcards match nothing in this catalog.
    for query in ("' OR 1=1 --", "%", "_", "\\"):
        found = requests.get(f"{url}/api/v1/products", params={"query": query}, timeout=30).json()
        assert found["products"] == [], (query, found)
    # The error shape, even for the refusals gunicorn makes itself.
    refusal = requests.get(f"{url}/api/v1/products/" + "a" * 65536, timeout=30)
    assert refusal.json()["error"]["code"], refusal.text


def test_nothing_was_stored(
    bad_input_shop: BadInputShop, figures: Callable[[str], None], tally: Callable[..., None]
) -> None:
    databases = bad_input_shop.databases
    stored = {
        "orders": databases.scalar("order", "SELECT COUNT(*) FROM orders"),
        "e-mails": databases.scalar("order", "SELECT COUNT(*) FROM emails"),
        "payments": databases.scalar("payment", "SELECT COUNT(*) FROM payment"),
        "reservations": databases.scalar("product", "SELECT COUNT(*) FROM reservation"),
    }
    mail_dir: Path = bad_input_shop.stack.mail_dir
    files = list(mail_dir.glob("*")) if mail_dir.exists() else []
    figures(f"after the bad input: stored {stored}, mail files {len(files)}, catalog unchanged")
    tally({"inconsistencies found": sum(stored.values()) + len(files)})
    assert stored == dict.fromkeys(stored, 0)
    assert files == []
    assert catalog_fingerprint(databases) == bad_input_shop.catalog_fingerprint
