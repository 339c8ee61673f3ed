"""The built storefront at /, with the SPA fallback and cache headers (a stand-in build in a temp folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import AppFactory
from flask.testing import FlaskClient

INDEX = "<!doctype html><html><head><script type=module src=/assets/index-3f2a1b.js></script></head></html>"


@pytest.fixture
def storefront(make_app: AppFactory, tmp_path: Path) -> FlaskClient:
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-3f2a1b.js").write_text("console.log('pasar')")
    (tmp_path / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return make_app(STATIC_DIR=str(tmp_path)).test_client()


def test_the_index_is_served_at_the_root_and_revalidated(storefront: FlaskClient) -> None:
    response = storefront.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == INDEX
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_deep_links_fall_back_to_the_index(storefront: FlaskClient) -> None:
    for path in ("/order/ord_123?token=abc", "/products/pulsa-nusantara", "/payment/pay_1"):
        response = storefront.get(path)
        assert response.status_code == 200
        assert response.get_data(as_text=True) == INDEX
        assert response.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_long(storefront: FlaskClient) -> None:
    response = storefront.get("/assets/index-3f2a1b.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert storefront.get("/favicon.svg").headers["Cache-Control"] == "no-cache"


def test_missing_assets_and_api_paths_are_404_not_the_index(storefront: FlaskClient) -> None:
    missing = storefront.get("/assets/index-000000.js")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "NOT_FOUND"
    api = storefront.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "NOT_FOUND"
    assert storefront.get("/api/v1/products").status_code == 200


def test_paths_outside_the_folder_are_not_served(storefront: FlaskClient) -> None:
    response = storefront.get("/../../etc/passwd")
    assert "root:" not in response.get_data(as_text=True)
    encoded = storefront.get("/%2e%2e/%2e%2e/etc/passwd")
    assert "root:" not in encoded.get_data(as_text=True)


def test_without_a_build_the_root_is_a_landing_page(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pasar_gateway.settings.repository_storefront", lambda: None)
    client = make_app().test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert "/api/v1/docs" in response.get_data(as_text=True)
    assert client.get("/order/x").status_code == 404
