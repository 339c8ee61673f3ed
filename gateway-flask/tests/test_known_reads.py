"""A catalog read whose URL Flask has served is answered before Flask, exactly as Flask answers it."""

from __future__ import annotations

import logging
import time

import flask
import grpc
import pytest
from conftest import AppFactory
from fakes import ADMIN_TOKEN, FakeShop
from werkzeug.test import TestResponse

from pasar_gateway.app import gateway_of
from pasar_kit.logs import request_id_var

PRODUCT = "/api/v1/products/pulsa-nusantara"
STUDY_PRODUCT = "/api/v1/product/pulsa-nusantara"


def flask_requests(app: flask.Flask) -> list[str]:
    """The paths of the requests Flask itself handles from now on."""
    seen: list[str] = []

    def handled() -> None:
        seen.append(flask.request.path)

    app.before_request(handled)
    return seen


def headers_but_the_request_id(response: TestResponse) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers if name != "X-Request-Id"]


def test_a_hit_answers_what_flask_answers_without_flask(make_app: AppFactory, shop: FakeShop) -> None:
    app = make_app(CATALOG_CACHE_TTL_SECONDS="60")
    client = app.test_client()
    handled = flask_requests(app)
    through_flask = client.get(PRODUCT)  # a miss: Flask asks the service and learns the URL
    study = client.get(STUDY_PRODUCT)  # another URL of the same request: Flask, from the cache
    hits = [client.get(PRODUCT), client.get(STUDY_PRODUCT)]
    assert handled == [PRODUCT, STUDY_PRODUCT]
    assert len(shop.product.metadata("GetProduct")) == 1
    for answer in [study, *hits]:
        assert answer.status_code == 200
        assert answer.data == through_flask.data
        assert headers_but_the_request_id(answer) == headers_but_the_request_id(through_flask)
        assert answer.headers["X-Request-Id"] not in (through_flask.headers["X-Request-Id"], "")
    assert "Vary" in through_flask.headers  # the CORS allow-list is set: one copy per Origin


def test_a_hit_keeps_the_request_id_metrics_and_access_log(
    make_app: AppFactory, shop: FakeShop, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(CATALOG_CACHE_TTL_SECONDS="60")
    client = app.test_client()
    handled = flask_requests(app)
    client.get(PRODUCT)
    ids: list[str] = []  # each line's request id, as pasar_kit.logs reads it from the context

    def note_the_request_id(_record: logging.LogRecord) -> bool:
        ids.append(request_id_var.get())
        return True

    caplog.handler.addFilter(note_the_request_id)
    with caplog.at_level(logging.INFO, logger="pasar.gateway"):
        hit = client.get(PRODUCT, headers={"X-Request-Id": "shopper-42"})
        fresh = client.get(PRODUCT, headers={"X-Request-Id": "not sane!"})
    assert handled == [PRODUCT]
    assert hit.headers["X-Request-Id"] == "shopper-42"
    assert len(fresh.headers["X-Request-Id"]) == 32
    lines = [record for record in caplog.records if record.getMessage() == "http"]
    assert [(line.method, line.path, line.route, line.status) for line in lines] == [  # type: ignore[attr-defined]
        ("GET", PRODUCT, "/api/v1/products/{id}", 200)
    ] * 2
    assert ids == ["shopper-42", fresh.headers["X-Request-Id"]]
    text = gateway_of(app).metrics.exposition().decode()
    counted = 'pasar_gateway_http_requests_total{method="GET",route="/api/v1/products/{id}",status="200"}'
    assert f"{counted} 3.0" in text
    assert 'pasar_gateway_catalog_cache_total{result="hit"} 2.0' in text
    assert 'pasar_gateway_catalog_cache_total{result="miss"} 1.0' in text


def test_conditional_cross_origin_and_head_requests_go_through_flask(
    make_app: AppFactory, shop: FakeShop
) -> None:
    app = make_app(CATALOG_CACHE_TTL_SECONDS="60")
    client = app.test_client()
    handled = flask_requests(app)
    etag = client.get("/api/v1/categories").headers["ETag"]
    assert client.get("/api/v1/categories", headers={"If-None-Match": etag}).status_code == 304
    cross_origin = client.get("/api/v1/categories", headers={"Origin": "https://shop.example"})
    assert cross_origin.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    head = client.head("/api/v1/categories")
    assert (head.status_code, head.data) == (200, b"")
    assert handled == ["/api/v1/categories"] * 4
    assert len(shop.product.metadata("ListCategories")) == 1


def test_no_hit_outlives_an_admin_write_or_the_ttl(make_app: AppFactory, shop: FakeShop) -> None:
    app = make_app(CATALOG_CACHE_TTL_SECONDS="60")
    client = app.test_client()
    assert client.get(PRODUCT).get_json()["displayName"] == "Pulsa Nusantara"
    changed = client.patch(
        "/api/v1/admin/products/pulsa-nusantara?updateMask=displayName",
        json={"displayName": "Pulsa Nusantara Baru"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert changed.status_code == 200
    assert client.get(PRODUCT).get_json()["displayName"] == "Pulsa Nusantara Baru"
    assert len(shop.product.metadata("GetProduct")) == 2

    short_lived = make_app(CATALOG_CACHE_TTL_SECONDS="1").test_client()
    assert short_lived.get(PRODUCT).status_code == 200
    assert short_lived.get(PRODUCT).status_code == 200  # a hit, answered before Flask
    assert len(shop.product.metadata("GetProduct")) == 3
    time.sleep(1.2)
    assert short_lived.get(PRODUCT).status_code == 200  # the entry expired: asked again
    assert len(shop.product.metadata("GetProduct")) == 4


def test_the_urls_it_knows_are_bounded(make_app: AppFactory, shop: FakeShop) -> None:
    app = make_app(CATALOG_CACHE_TTL_SECONDS="60", CATALOG_CACHE_ENTRIES="2")
    client = app.test_client()
    for page_size in range(1, 6):
        assert client.get(f"/api/v1/products?pageSize={page_size}").status_code == 200
    hits = app.wsgi_app
    assert len(hits) == 2  # type: ignore[arg-type]


def test_with_the_cache_off_a_known_url_still_asks_the_service_every_time(
    make_app: AppFactory, shop: FakeShop
) -> None:
    app = make_app(CATALOG_CACHE="false")
    client = app.test_client()
    handled = flask_requests(app)
    answers = [client.get(PRODUCT) for _ in range(3)]
    assert handled == [PRODUCT]
    assert len(shop.product.metadata("GetProduct")) == 3
    assert [answer.status_code for answer in answers] == [200] * 3
    first = headers_but_the_request_id(answers[0])
    assert all(headers_but_the_request_id(answer) == first for answer in answers)
    requested = [metadata["x-request-id"] for metadata in shop.product.metadata("GetProduct")]
    assert requested == [answer.headers["X-Request-Id"] for answer in answers]  # sent on to the service


@pytest.mark.parametrize(
    "failure", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL]
)
def test_a_known_url_whose_read_fails_answers_what_flask_answers(
    make_app: AppFactory, shop: FakeShop, failure: grpc.StatusCode
) -> None:
    app = make_app(CATALOG_CACHE="false", BREAKER_FAILURES="100")
    client = app.test_client()
    handled = flask_requests(app)
    assert client.get(PRODUCT).status_code == 200  # Flask learns the URL
    shop.behaviour("product").fail_with = failure
    through_flask = client.get(STUDY_PRODUCT)  # not known yet: Flask answers the failure
    known = client.get(PRODUCT)
    assert handled == [PRODUCT, STUDY_PRODUCT]
    assert known.status_code == through_flask.status_code >= 400
    assert known.get_json() == through_flask.get_json()
    assert headers_but_the_request_id(known) == headers_but_the_request_id(through_flask)


def test_an_unexpected_exception_of_a_known_read_is_a_logged_500(
    make_app: AppFactory, shop: FakeShop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(CATALOG_CACHE="false")
    client = app.test_client()
    assert client.get(PRODUCT).status_code == 200
    backend = gateway_of(app).backends["product"]

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(backend, "call_serialized", broken)
    answer = client.get(PRODUCT)
    assert answer.status_code == 500
    assert answer.get_json()["error"] == {"code": "INTERNAL", "message": "internal error", "details": []}
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "secret internals" in caplog.text
