"""Slow clients against a real ``pasar-gateway``: they cost a socket, never a thread.

Before the buffering worker, a client trickling its request in held a gunicorn thread for
as long as it liked: on a one-thread gateway ``/healthz`` timed out throughout.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_main import gateway_process

from pasar_kit.testing.processes import ComponentProcess

READ_SECONDS = 2.0
SLOW_CLIENTS = 40
TRICKLE_INTERVAL = 0.1
HEALTHZ_BOUND = 0.1  # the bound: /healthz answers in under 100 ms throughout


@pytest.fixture
def one_thread_gateway(tmp_path: Path) -> Iterator[ComponentProcess]:
    """The harshest case: one worker with one thread, short deadlines, no backend."""
    gateway = gateway_process(
        None,
        tmp_path,
        PASAR_GATEWAY_WORKERS="1",
        PASAR_GATEWAY_THREADS="1",
        PASAR_GATEWAY_HEADER_READ_SECONDS=str(READ_SECONDS),
        PASAR_GATEWAY_BODY_READ_SECONDS=str(READ_SECONDS),
    )
    gateway.start()
    yield gateway
    gateway.stop()


@dataclass
class SlowClient:
    """One connection that sends its request a byte at a time and records what it got back."""

    sock: socket.socket
    rest: bytes
    answer: bytearray = field(default_factory=bytearray)
    opened: float = field(default_factory=time.monotonic)
    cut_after: float | None = None

    def step(self) -> None:
        """Sends one more byte, unless the gateway has answered (then reads to the end)."""
        if self.cut_after is not None:
            return
        readable, _, _ = select.select([self.sock], [], [], 0)
        if readable or not self.rest:
            self._read_to_end()
            return
        try:
            self.sock.send(self.rest[:1])
        except OSError:
            self._read_to_end()
            return
        self.rest = self.rest[1:]

    def _read_to_end(self) -> None:
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        self.answer += data
        if not data:
            self.cut_after = time.monotonic() - self.opened


def slow_header_request() -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n" + b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n"


def slow_body_request() -> bytes:
    body = b'{"customerEmail": "' + b"a" * 60_000 + b'"}'
    head = (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def open_slow_client(address: str, request: bytes, sent_at_once: int) -> SlowClient:
    host, _, port = address.rpartition(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(request[:sent_at_once])
    return SlowClient(sock, request[sent_at_once:])


def healthz_seconds(address: str) -> float:
    """A new connection, one GET /healthz, its answer read: the time it all took."""
    host, _, port = address.rpartition(":")
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
    finally:
        connection.close()
    return time.perf_counter() - started


def test_forty_slow_clients_hold_no_thread_and_are_cut_with_408(one_thread_gateway: ComponentProcess) -> None:
    address = one_thread_gateway.address
    healthz_seconds(address)  # the worker has made its application
    headers_part = slow_header_request()
    clients = [open_slow_client(address, headers_part, sent_at_once=20) for _ in range(SLOW_CLIENTS // 2)] + [
        open_slow_client(address, request, sent_at_once=request.index(b"\r\n\r\n") + 4 + 10)
        for request in [slow_body_request()] * (SLOW_CLIENTS // 2)
    ]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set() and any(client.cut_after is None for client in clients):
            for client in clients:
                client.step()
            stop.wait(TRICKLE_INTERVAL)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    latencies = []
    try:
        deadline = time.monotonic() + READ_SECONDS + 5
        while trickler.is_alive() and time.monotonic() < deadline:
            latencies.append(healthz_seconds(address))
            time.sleep(0.05)
    finally:
        stop.set()
        trickler.join(timeout=5)
        for client in clients:
            client.sock.close()

    assert len(latencies) >= 20
    assert max(latencies) < HEALTHZ_BOUND, sorted(latencies)[-5:]
    for client in clients:
        assert client.cut_after is not None, "a slow client was never cut"
        # Cut after the deadline (the event loop checks it once a second at the least).
        assert READ_SECONDS - 0.5 <= client.cut_after <= READ_SECONDS + 2.5
        head, _, body = bytes(client.answer).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), bytes(client.answer)[:200]
        assert b"content-type: application/json" in head.lower()
        error = json.loads(body)["error"]
        assert error["code"] == "DEADLINE_EXCEEDED"
        assert "did not arrive within 2 s" in error["message"]
    messages = {json.loads(bytes(c.answer).partition(b"\r\n\r\n")[2])["error"]["message"] for c in clients}
    assert any("headers" in message for message in messages)
    assert any("body" in message for message in messages)
