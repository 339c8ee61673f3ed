"""Slow clients against a real ``pasar-gateway``: they cost a socket, never a thread.

Before the buffering worker, a client trickling its request in held a gunicorn thread for
as long as it liked: on a one-thread gateway ``/healthz`` timed out throughout.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_main import gateway_process

from pasar_testkit.processes import ComponentProcess

READ_SECONDS = 2.0
SLOW_CLIENTS = 40
HEALTHZ_BOUND = 0.1  # the bound: /healthz answers in under 100 ms throughout
DRIVER = Path(__file__).with_name("slow_client_driver.py")


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
    driver = subprocess.Popen(
        [sys.executable, str(DRIVER), address, str(SLOW_CLIENTS), str(READ_SECONDS + 6)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout is not None
        assert driver.stdout.readline().strip() == "open"
        latencies = []
        while driver.poll() is None:
            latencies.append(healthz_seconds(address))
            time.sleep(0.05)
        report = json.loads(driver.stdout.read())
    finally:
        if driver.poll() is None:
            driver.kill()
        driver.wait()

    assert len(latencies) >= 20
    assert max(latencies) < HEALTHZ_BOUND, sorted(latencies)[-5:]
    assert {client["kind"] for client in report} == {"headers", "body"}
    for client in report:
        assert client["cut_after"] is not None, "a slow client was never cut"
        # Cut after the deadline (the event loop checks it once a second at the least).
        assert READ_SECONDS - 0.5 <= client["cut_after"] <= READ_SECONDS + 2.5
        head, _, body = client["answer"].partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 408 "), client["answer"][:200]
        assert "content-type: application/json" in head.lower()
        error = json.loads(body)["error"]
        assert error["code"] == "DEADLINE_EXCEEDED"
        assert f"{client['kind']} did not arrive within 2 s" in error["message"]
