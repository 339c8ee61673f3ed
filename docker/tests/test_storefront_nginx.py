"""The storefront image's nginx configuration, run by a real nginx in front of a recording gateway.

What a shopper's browser relies on: the SPA's routes all open index.html, which is
revalidated on every visit, hashed assets are cached for a year, a missing asset is a 404
(never index.html with a year's caching), the API is passed to the gateway with the
request as it was plus the forwarding headers the gateway trusts, and the SPA's pages get
the same security headers the gateway gives HTML.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from deploy_tools import DeployTools
from storefront_server import StorefrontServer

from pasar_gateway.settings import DEFAULT_CONTENT_SECURITY_POLICY

INDEX = "<!doctype html><html><head><title>Pasar</title></head><body><div id=app></div></body></html>"
ASSET = "export const pasar = 'beli';\n" * 200  # big enough to be compressed
ASSET_PATH = "/assets/index-C0ffee42.js"
IMMUTABLE = "public, max-age=31536000, immutable"


class RecordingGateway(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON, and a header of its own."""

    def _answer(self) -> None:
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


def test_an_api_request_without_a_request_id_gets_one(storefront: StorefrontServer) -> None:
    seen = requests.get(storefront.url + "/api/v1/payment-channels", timeout=5).json()
    request_id = seen["headers"]["X-Request-Id"]
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0


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
