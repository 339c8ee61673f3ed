"""Catalog answers are rendered once per distinct answer bytes, and never served staler for it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import AppFactory
from fakes import PAYMENT_ID, FakeShop

from pasar_gateway import api
from pasar_gateway.catalog_cache import entity_tag
from pasar_gateway.rendered_responses import SAMPLE_STRIDE, RenderedResponses
from pasar_gateway.transcoding import response_document


@pytest.fixture
def renderings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the response messages the views render, in order."""
    rendered: list[str] = []

    def counted(binding: Any, response: Any) -> Any:
        rendered.append(binding.method.name)
        return response_document(binding, response)

    monkeypatch.setattr(api, "response_document", counted)  # as the views call it
    return rendered


def test_the_same_answer_is_rendered_once(
    make_app: AppFactory, shop: FakeShop, renderings: list[str]
) -> None:
    client = make_app(CATALOG_CACHE="false").test_client()
    answers = [client.get("/api/v1/products") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].data == answers[1].data == answers[2].data
    assert {answer.headers["ETag"] for answer in answers} == {entity_tag(answers[0].data)}
    assert len(shop.product.metadata("ListProducts")) == 3  # the service is asked every time
    assert renderings == ["ListProducts"]


def test_a_change_behind_the_gateway_shows_at_once(
    make_app: AppFactory, shop: FakeShop, renderings: list[str]
) -> None:
    """Not through the admin routes (a checkout changing stock, another gateway): no
    invalidation reaches this gateway, and with the cache off the next read shows it."""
    client = make_app(CATALOG_CACHE="false").test_client()
    before = client.get("/api/v1/products/pulsa-samudra")
    shop.catalog.products["pulsa-samudra"].packages[0].stock_available = 9
    after = client.get("/api/v1/products/pulsa-samudra")
    assert before.get_json()["packages"][0]["stockAvailable"] == 10
    assert after.get_json()["packages"][0]["stockAvailable"] == 9
    assert after.headers["ETag"] == entity_tag(after.data) != before.headers["ETag"]
    assert renderings == ["GetProduct", "GetProduct"]


def test_a_shoppers_own_answers_are_never_kept(
    make_app: AppFactory, shop: FakeShop, renderings: list[str]
) -> None:
    client = make_app(CATALOG_CACHE="false").test_client()
    for _ in range(2):
        assert client.get(f"/api/v1/payments/{PAYMENT_ID}").status_code == 200
    assert renderings == ["GetPayment", "GetPayment"]


def test_the_memo_is_bounded_in_bytes() -> None:
    memo = RenderedResponses(max_bytes=10_000)
    answers = [bytes([index]) * 1000 for index in range(20)]
    for answer in answers:
        memo.put("route", answer, b"{}" * 500)
        assert memo.bytes <= memo.max_bytes
    assert 0 < len(memo) < 20
    assert memo.get("route", answers[0]) is None  # the oldest went first
    assert memo.get("route", answers[-1]) is not None
    assert memo.get("other route", answers[-1]) is None
    memo.put("route", b"x" * 20_000, b"{}")  # larger than the bound: not kept
    assert memo.get("route", b"x" * 20_000) is None
    assert memo.bytes <= memo.max_bytes


def test_answers_alike_in_length_and_sample_are_told_apart() -> None:
    memo = RenderedResponses()
    first = bytearray(b"a" * (SAMPLE_STRIDE * 4))
    second = bytearray(first)
    second[1] = ord("b")  # outside the sample
    memo.put("route", bytes(first), b'"first"')
    assert memo.get("route", bytes(second)) is None
    memo.put("route", bytes(second), b'"second"')
    found = memo.get("route", bytes(second))
    assert found is not None
    assert found.body == b'"second"'
    assert memo.get("route", bytes(first)) is None  # replaced: the lookup compares every byte
