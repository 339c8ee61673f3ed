"""The storefront image's nginx configuration, run by a real nginx in front of a recording gateway.

What a shopper's browser relies on: the SPA's routes all open index.html, which is
revalidated on every visit, hashed assets are cached for a year, a missing asset is a 404
(never index.html with a year's caching), the API is passed to the gateway with the
request as it was plus the forwarding headers the gateway trusts, and the SPA's pages get
the same security headers the gateway gives HTML.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from deploy_tools import DeployTools
from storefront_server import StorefrontServer

from pasar_gateway.app import create_app, gateway_of
from pasar_gateway.settings import DEFAULT_CONTENT_SECURITY_POLICY

INDEX = "<!doctype html><html><head><title>Pasar</title></head><body><div id=app></div></body></html>"
ASSET = "export const pasar = 'beli';\n" * 200  # big enough to be compressed
ASSET_PATH = "/assets/index-C0ffee42.js"
IMMUTABLE = "public, max-age=31536000, immutable"


class RecordingGateway(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON, and a header of its own."""

    paths_seen: list[str] = []  # noqa: RUF012 - every request's path, in the order they came

    def _answer(self) -> None:
        self.paths_seen.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        seen = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body,
        }
        payload = json.dumps(seen).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Gateway", "recording")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer  # noqa: N815 - the names http.server looks for
    do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A storefront build as Vite lays it out: index.html, hashed assets, the services' images."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "index.html").write_text(INDEX)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / "assets").mkdir()
    (dist / "assets" / ASSET_PATH.rsplit("/", 1)[1]).write_text(ASSET)
    (dist / "images" / "products").mkdir(parents=True)
    (dist / "images" / "products" / "pulsa.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def storefront(
    tools: DeployTools, static_dir: Path, gateway: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StorefrontServer]:
    server = StorefrontServer(tools, tmp_path_factory.mktemp("nginx"), static_dir, gateway)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_nginx_accepts_the_configuration(
    tools: DeployTools, static_dir: Path, gateway: str, tmp_path: Path
) -> None:
    result = StorefrontServer(tools, tmp_path, static_dir, gateway).check()
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("path", ["/", "/index.html", "/order/ord_8Kx2?token=abc", "/products/pulsa-10k"])
def test_every_page_of_the_spa_opens_index_html_revalidated_on_each_visit(
    storefront: StorefrontServer, path: str
) -> None:
    response = requests.get(storefront.url + path, timeout=5)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["ETag"]


def test_index_html_is_revalidated_with_its_etag(storefront: StorefrontServer) -> None:
    first = requests.get(storefront.url + "/", timeout=5)
    again = requests.get(storefront.url + "/", headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    assert again.status_code == 304


def test_pages_carry_the_gateways_security_headers(storefront: StorefrontServer) -> None:
    headers = requests.get(storefront.url + "/order/ord_1", timeout=5).headers
    assert headers["Content-Security-Policy"] == DEFAULT_CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "nginx/" not in headers.get("Server", "")


def test_hashed_assets_are_kept_for_a_year_and_compressed(storefront: StorefrontServer) -> None:
    response = requests.get(
        storefront.url + ASSET_PATH, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=5
    )
    raw = response.raw.read()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw).decode() == ASSET


@pytest.mark.parametrize("path", ["/assets/index-Gone0000.js", "/images/products/missing.svg"])
def test_a_missing_asset_or_image_is_a_404_never_index_html(storefront: StorefrontServer, path: str) -> None:
    response = requests.get(storefront.url + path, timeout=5)
    assert response.status_code == 404
    assert response.text != INDEX
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_images_are_served_and_revalidated(storefront: StorefrontServer) -> None:
    response = requests.get(storefront.url + "/images/products/pulsa.svg", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_api_goes_to_the_gateway_as_it_came_with_the_forwarding_headers(
    storefront: StorefrontServer,
) -> None:
    response = requests.get(
        storefront.url + "/api/v1/products?page_size=2&page_token=x%2Fy",
        headers={"X-Request-Id": "req-from-the-shopper", "X-Forwarded-For": "203.0.113.9"},
        timeout=5,
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "GET"
    assert seen["path"] == "/api/v1/products?page_size=2&page_token=x%2Fy"
    headers = seen["headers"]
    # nginx appends the address it saw; the gateway trusts only that last one (PASAR_PROXY_COUNT=1).
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Host"] == f"127.0.0.1:{storefront.port}"
    assert headers["Host"] == f"127.0.0.1:{storefront.port}"
    assert headers["X-Request-Id"] == "req-from-the-shopper"
    # The gateway's own headers pass untouched; nginx adds none of the page headers.
    assert response.headers["X-Gateway"] == "recording"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response.headers


def test_an_api_request_without_a_request_id_gets_a_fresh_one_the_gateway_keeps(
    storefront: StorefrontServer,
) -> None:
    ids = [
        requests.get(storefront.url + "/api/v1/payment-channels", timeout=5).json()["headers"]["X-Request-Id"]
        for _ in range(5)
    ]
    for request_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert len(set(ids)) == len(ids), "one id per request"
    # The gateway takes nginx's id as its own (rather than minting another), so that the
    # shopper's answer, nginx's log and the gateway's log all name the same id.
    app = create_app({"ENV": "development", "ORDER_RATE_LIMIT": "off"})
    try:
        answer = app.test_client().get("/healthz", headers={"X-Request-Id": ids[0]})
    finally:
        gateway_of(app).close()
    assert answer.headers["X-Request-Id"] == ids[0]


def test_an_order_is_posted_through_to_the_gateway(storefront: StorefrontServer) -> None:
    order = {"packageId": "pulsa-10k", "email": "budi@example.id"}
    response = requests.post(storefront.url + "/api/v1/orders", json=order, timeout=5)
    assert response.status_code == 201
    seen = response.json()
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == order


def test_nginx_answers_its_own_health_check(storefront: StorefrontServer) -> None:
    response = requests.get(storefront.url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.text == "ok\n"


SHORT_TIMEOUT = 2  # seconds: the slow-client test's nginx waits this long instead of 10 s


@pytest.fixture
def impatient_storefront(
    tools: DeployTools, static_dir: Path, gateway: str, tmp_path: Path
) -> Iterator[StorefrontServer]:
    """The storefront's nginx with its client timeouts shortened, nothing else changed."""
    server = StorefrontServer(tools, tmp_path, static_dir, gateway)
    config = tmp_path / "conf.d" / "default.conf"
    text = config.read_text()
    for directive in ("client_header_timeout 10s;", "client_body_timeout 10s;"):
        assert text.count(directive) == 1, directive
        text = text.replace(directive, directive.replace("10s", f"{SHORT_TIMEOUT}s"))
    config.write_text(text)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_slow_clients_wait_in_nginx_and_are_dropped_never_reaching_the_gateway(
    impatient_storefront: StorefrontServer,
) -> None:
    """40 slow clients: headers trickled in, or a body announced and stalled; the API still answers."""
    port = impatient_storefront.port
    trickling = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    for index, sock in enumerate(trickling):
        sock.sendall(f"GET /api/v1/products?slow=header-{index} HTTP/1.1\r\nHost: shop\r\n".encode())
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    for index, sock in enumerate(stalled):
        sock.sendall(
            f"POST /api/v1/orders?slow=body-{index} HTTP/1.1\r\nHost: shop\r\n"
            f"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{{".encode()
        )
    open_since = time.monotonic()
    latencies = []
    cut_after: dict[socket.socket, float] = {}
    try:
        while len(cut_after) < 40 and time.monotonic() - open_since < SHORT_TIMEOUT + 8:
            for sock in trickling:
                if sock not in cut_after:
                    with contextlib.suppress(OSError):
                        sock.send(b"X")  # one more byte of a header line that never ends
            started = time.perf_counter()
            response = requests.get(impatient_storefront.url + "/api/v1/products?probe=1", timeout=5)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
            readable, _, _ = select.select(
                [s for s in trickling + stalled if s not in cut_after], [], [], 0.1
            )
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    cut_after[sock] = time.monotonic() - open_since
    finally:
        for sock in trickling + stalled:
            sock.close()
    assert max(latencies) < 0.1, sorted(latencies)[-5:]
    assert len(cut_after) == 40, "some slow clients were never dropped"
    assert all(SHORT_TIMEOUT - 0.5 <= seconds <= SHORT_TIMEOUT + 3 for seconds in cut_after.values())
    assert not [path for path in RecordingGateway.paths_seen if "slow=" in path]  # none reached it
