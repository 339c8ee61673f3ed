"""Slow clients in a process of their own: ``python slow_client_driver.py HOST:PORT COUNT SECONDS``.

Opens COUNT connections to a gateway (half trickle their headers in, half announce a
60 KB body and trickle it), sends one byte on each every 0.1 s until the gateway answers
or closes, prints ``open`` once all are connected, and at the end one JSON line: per client,
its kind, how long after opening it was cut, and what it received. In a process apart
from the test's probes, so that the probes measure the gateway, not this loop's share of
the test's interpreter.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from dataclasses import dataclass, field

TRICKLE_INTERVAL = 0.1


@dataclass
class SlowClient:
    """One connection that sends its request a byte at a time and records what it got back."""

    kind: str
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
            self._read()
            return
        try:
            self.sock.send(self.rest[:1])
        except OSError:
            self._read()
            return
        self.rest = self.rest[1:]

    def _read(self) -> None:
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
    return b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n"


def slow_body_request() -> bytes:
    body = b'{"customerEmail": "' + b"a" * 60_000 + b'"}'
    head = (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    return head + body


def open_client(host: str, port: int, kind: str) -> SlowClient:
    request = slow_header_request() if kind == "headers" else slow_body_request()
    sent_at_once = 20 if kind == "headers" else request.index(b"\r\n\r\n") + 4 + 10
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(request[:sent_at_once])
    return SlowClient(kind, sock, request[sent_at_once:])


def main() -> None:
    address, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    host, _, port = address.rpartition(":")
    clients = [open_client(host, int(port), "headers" if i % 2 else "body") for i in range(count)]
    print("open", flush=True)
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up and any(client.cut_after is None for client in clients):
        for client in clients:
            client.step()
        time.sleep(TRICKLE_INTERVAL)
    report = [
        {"kind": c.kind, "cut_after": c.cut_after, "answer": bytes(c.answer).decode("latin-1")}
        for c in clients
    ]
    for client in clients:
        client.sock.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
