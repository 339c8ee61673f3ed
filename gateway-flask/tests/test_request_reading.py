"""How a real ``pasar-gateway`` reads requests off the wire: raw sockets, real framing.

Each worker reads a request whole before a thread sees it (buffering_worker): chunked
bodies, pipelined and kept-alive requests and ``Expect: 100-continue`` must all still work,
and what is too large is refused in the one error shape before any backend is called.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeShop, running_shop
from test_main import gateway_process

from pasar_testkit.processes import ComponentProcess

MAX_BODY = 64 * 1024
ORDER = {
    "customerEmail": "budi@example.com",
    "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    "paymentChannelCode": "bca_va",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeShop, ComponentProcess]]:
    for shop in running_shop():
        gateway = gateway_process(
            shop, Path(tmp_path_factory.mktemp("gateway")), PASAR_ORDER_RATE_LIMIT="off"
        )
        gateway.start()
        try:
            yield shop, gateway
        finally:
            gateway.stop()


def exchange(gateway: ComponentProcess, data: bytes) -> bytes:
    """Sends data on one connection and reads until the gateway closes it."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(data)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
        return bytes(received)


def responses(raw: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each response in raw, interim 1xx ones included."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        found.append((status, rest[:length]))
        raw = rest[length:]
    return found


def chunked(body: bytes, size: int = 8192) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def post_order_head(extra: bytes = b"") -> bytes:
    return (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\n" + extra
    )


def test_a_chunked_body_over_the_limit_is_413_and_no_order_is_made(
    served: tuple[FakeShop, ComponentProcess],
) -> None:
    shop, gateway = served
    orders_before = len(shop.order.metadata("CreateOrder"))
    valid = json.dumps(ORDER).encode()
    body = valid + b" " * (MAX_BODY - len(valid)) + b"x" * (95_000 - MAX_BODY)  # 95 KB, valid JSON first
    raw = exchange(gateway, post_order_head(b"Transfer-Encoding: chunked\r\n\r\n") + chunked(body))
    ((status, answer),) = responses(raw)
    assert status == 413
    error = json.loads(answer)["error"]
    assert error["code"] == "RESOURCE_EXHAUSTED"
    assert str(MAX_BODY) in error["message"]
    assert len(shop.order.metadata("CreateOrder")) == orders_before


def test_a_chunked_body_within_the_limit_makes_an_order(served: tuple[FakeShop, ComponentProcess]) -> None:
    shop, gateway = served
    orders_before = len(shop.order.metadata("CreateOrder"))
    body = json.dumps(ORDER).encode()
    raw = exchange(gateway, post_order_head(b"Transfer-Encoding: chunked\r\n\r\n") + chunked(body, size=7))
    ((status, answer),) = responses(raw)
    assert status == 200, answer
    assert json.loads(answer)["order"]["customerEmail"] == "budi@example.com"
    assert len(shop.order.metadata("CreateOrder")) == orders_before + 1


def test_a_content_length_over_the_limit_is_413_before_the_body(
    served: tuple[FakeShop, ComponentProcess],
) -> None:
    _, gateway = served
    raw = exchange(gateway, post_order_head(b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1)))
    ((status, answer),) = responses(raw)
    assert status == 413
    assert json.loads(answer)["error"]["code"] == "RESOURCE_EXHAUSTED"


def test_headers_over_the_limit_are_431(served: tuple[FakeShop, ComponentProcess]) -> None:
    _, gateway = served
    huge = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70))
    raw = exchange(gateway, b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n" + huge + b"\r\n")
    ((status, answer),) = responses(raw)
    assert status == 431
    assert json.loads(answer)["error"]["code"] == "RESOURCE_EXHAUSTED"


def test_pipelined_requests_on_one_connection_are_all_answered(
    served: tuple[FakeShop, ComponentProcess],
) -> None:
    _, gateway = served
    get = b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n\r\n"
    body = json.dumps(ORDER).encode()
    post = post_order_head(b"Content-Length: %d\r\n\r\n" % len(body)).replace(b"Connection: close\r\n", b"")
    last = b"GET /api/v1/products HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"
    raw = exchange(gateway, get + post + body + get + last)
    assert [status for status, _ in responses(raw)] == [200, 200, 200, 200]


def test_expect_100_continue_is_answered_before_the_body(served: tuple[FakeShop, ComponentProcess]) -> None:
    _, gateway = served
    body = json.dumps(ORDER).encode()
    head = post_order_head(b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        interim = sock.recv(65536)  # the body is sent only once the gateway asks for it
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        received = bytearray(interim)
        while chunk := sock.recv(65536):
            received += chunk
    final = [status for status, _ in responses(bytes(received)) if status != 100]
    assert final == [200]


def test_a_pipelined_request_over_the_limit_is_refused_after_the_one_before_it(
    served: tuple[FakeShop, ComponentProcess],
) -> None:
    _, gateway = served
    get = b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n\r\n"
    raw = exchange(gateway, get + post_order_head(b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1)))
    assert [status for status, _ in responses(raw)] == [200, 413]


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\nBad Header: 1\r\n\r\n",  # a space in a name
        b"G@T /healthz HTTP/1.1\r\nHost: shop.example\r\n\r\n",  # not a method
        b"GET /healthz HTTP/9.9\r\nHost: shop.example\r\n\r\n",  # not a version
    ],
)
def test_what_gunicorns_parser_refuses_is_400_in_the_error_shape(
    served: tuple[FakeShop, ComponentProcess], request_head: bytes
) -> None:
    """The worker's handle_error answers for gunicorn, whose own page is HTML."""
    _, gateway = served
    raw = exchange(gateway, request_head)
    head = raw.partition(b"\r\n\r\n")[0].lower()
    ((status, answer),) = responses(raw)
    assert status == 400
    assert b"content-type: application/json" in head
    assert b"x-request-id: " in head
    error = json.loads(answer)["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Bad Request: ")
