"""The API page (/api/v1/docs) and the examples behind it.

The examples are data (pasar_gateway/examples/<method>.json): every public method has one,
each parses into the method's messages with unknown fields refused, and each route's HTTP
form transcodes back into the same request. The page renders the introduction as HTML with
raw HTML escaped, lists every route in its contents, shows each route's examples, and says
plainly which routes are the study's aliases; its headings are in order and its anchors
resolve. (test_stack_examples.py sends the examples to a real shop.)
"""

from __future__ import annotations

import html
import itertools
import json
import re
import urllib.parse
from html.parser import HTMLParser
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from pasar_gateway.api import is_admin
from pasar_gateway.bindings import HttpBinding, contract_bindings
from pasar_gateway.examples import (
    ExampleError,
    example_documents,
    http_example,
    method_example,
    parse_message,
)
from pasar_gateway.markdown_text import render_markdown
from pasar_gateway.openapi import openapi_path
from pasar_gateway.transcoding import RequestTranscoder

BINDINGS = contract_bindings()
CANONICAL = [binding for binding in BINDINGS if binding.position == 0]
ALIASES = [binding for binding in BINDINGS if binding.position > 0]


class PageOutline(HTMLParser):
    """What the tests read of the page: headings, ids, in-page links, landmarks and text."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "a" and str(attributes.get("href", "")).startswith("#"):
            self.links.append(str(attributes["href"])[1:])
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)

    @property
    def plain_text(self) -> str:
        return " ".join("".join(self.text).split())


@pytest.fixture
def page(client: FlaskClient) -> str:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def outline(page: str) -> PageOutline:
    parser = PageOutline()
    parser.feed(page)
    return parser


def test_every_public_method_has_an_example_the_contracts_accept() -> None:
    methods = {binding.method.full_name for binding in BINDINGS}
    assert set(example_documents()) == methods  # one per method, and none for a method that is gone
    for binding in CANONICAL:
        example = method_example(binding.method)
        assert example is not None
        assert binding.method.input_type == example.request.DESCRIPTOR
        assert binding.method.output_type == example.response.DESCRIPTOR
        assert example.response.ByteSize() > 0, f"{binding.method.full_name}: an empty response example"


def test_an_example_with_a_field_the_contracts_do_not_have_is_refused() -> None:
    create_order = next(b for b in CANONICAL if b.template.text == "/api/v1/orders")
    document = example_documents()[create_order.method.full_name]
    with pytest.raises(ExampleError, match="customerEmial"):
        parse_message(create_order.request_type, {**document["request"], "customerEmial": "x"}, "CreateOrder")
    with pytest.raises(ExampleError, match="languageCode"):
        parse_message(create_order.request_type, {**document["request"], "languageCode": 3}, "CreateOrder")


@pytest.mark.parametrize("binding", BINDINGS, ids=lambda binding: binding.operation_id)
def test_each_route_s_example_is_a_request_of_that_route(binding: HttpBinding, app: flask.Flask) -> None:
    """The HTTP form of the example reaches this route and transcodes back into the example's request."""
    example = method_example(binding.method)
    assert example is not None
    shown = http_example(binding, example)
    path, _, query = shown.target.partition("?")
    endpoint, arguments = app.url_map.bind("localhost").match(path, method=shown.http_method)
    assert endpoint == f"api.{binding.operation_id}"
    body = None if shown.body is None else json.dumps(shown.body).encode()
    rebuilt = RequestTranscoder(binding).request(
        arguments, MultiDict(urllib.parse.parse_qsl(query, keep_blank_values=True)), {}, body
    )
    assert rebuilt == example.request


def test_markdown_is_rendered_safely_with_headings_below_their_section() -> None:
    rendered = str(
        render_markdown(
            '# Title\n\n<script>alert(1)</script> <b onclick="x()">bold</b> [x](javascript:alert(1)) `code`'
            " ![pixel](https://tracker.example/p.png)",
            under_level=2,
        )
    )
    assert "<h3>Title</h3>" in rendered
    assert "<script" not in rendered
    assert "<b " not in rendered
    assert "&lt;script&gt;" in rendered  # shown as text
    assert 'href="javascript' not in rendered
    assert "<code>code</code>" in rendered
    assert "<img" not in rendered  # the page fetches nothing a comment points at


def test_the_introduction_is_html_not_markdown_text(page: str, outline: PageOutline) -> None:
    introduction = page.split('id="introduction"', 1)[1].split("</section>", 1)[0]
    assert "<pre" not in introduction
    assert "<code>google.api.http</code>" in introduction
    assert "<li>" in introduction
    assert "`" not in introduction
    assert "* JSON follows" not in outline.plain_text


def test_every_comment_on_the_page_is_rendered(page: str) -> None:
    """Routes', parameters', fields' and schemas' comments too: no Markdown left as text."""
    text = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", page.split("<main", 1)[1], flags=re.DOTALL)
    shown = html.unescape(re.sub(r"<[^>]+>", "", text))
    assert [line.strip() for line in shown.splitlines() if "`" in line] == []


def test_headings_are_in_order_and_anchors_resolve(outline: PageOutline) -> None:
    levels = [level for level, _ in outline.headings]
    assert levels.count(1) == 1
    assert levels[0] == 1
    for previous, level in itertools.pairwise(levels):
        assert level <= previous + 1, f"a heading skips a level: {outline.headings}"
    assert len(set(outline.ids)) == len(outline.ids)
    assert set(outline.links) <= set(outline.ids)


def test_the_page_has_a_language_landmarks_and_no_script(page: str, outline: PageOutline) -> None:
    assert ("html", {"lang": "en"}) in outline.tags
    names = [tag for tag, _ in outline.tags]
    assert names.count("main") == 1
    assert names.count("header") == 1
    assert names.count("nav") == 1
    assert "<script" not in page
    assert "<pre>Pasar" not in page


def test_the_contents_name_every_route(page: str) -> None:
    contents = page.split('id="contents"', 1)[1].split("</nav>", 1)[0]
    for binding in BINDINGS:
        label = html.escape(f"{binding.http_method} {openapi_path(binding.template.text)}")
        assert f"<code>{label}</code>" in contents
    assert contents.count("<li>") >= len(BINDINGS) + 3  # the introduction, each service, the schemas


def test_every_route_shows_its_request_and_response_examples(outline: PageOutline) -> None:
    text = outline.plain_text
    for binding in CANONICAL:
        example = method_example(binding.method)
        assert example is not None
        shown = http_example(binding, example, admin=is_admin(binding))
        assert " ".join(shown.request_text().split()) in text
        assert " ".join(shown.response_text().split()) in text
    create_order = next(b for b in CANONICAL if b.template.text == "/api/v1/orders")
    assert '"customerEmail": "budi@example.com"' in text
    assert "POST /api/v1/orders Content-Type: application/json" in text
    assert create_order.method.name in text


def route_section(page: str, binding: HttpBinding) -> str:
    """A canonical route's section (its anchor is the method's full name)."""
    return page.split(f'id="{binding.method.full_name}"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("binding", [b for b in CANONICAL if b.body], ids=lambda b: b.operation_id)
def test_each_route_lists_the_fields_of_its_request_body(page: str, binding: HttpBinding) -> None:
    """What to send is on the route itself, not only behind the link to its message."""
    if binding.body == "*":
        in_path = {variable.field_path[0] for variable in binding.template.variables}
        fields = [f for f in binding.request_type.fields if f.name not in in_path]
    else:
        body = binding.request_type.fields_by_name[binding.body].message_type
        assert body is not None
        fields = list(body.fields)
    section = route_section(page, binding)
    for field in fields:
        assert f"<tr><td><code>{field.json_name}</code></td>" in section, field.full_name


def test_a_limited_route_s_429_names_the_gateway_s_and_the_service_s_limits(client: FlaskClient) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    refused = document["paths"]["/api/v1/orders:lookup"]["post"]["responses"]["429"]
    assert "from this client address" in refused["description"]
    assert "a limit of the service's own" in refused["description"]  # svc-order's, per order number
    assert "Retry-After" in refused["headers"]


def test_a_route_without_an_id_is_not_said_to_answer_404_for_an_id(client: FlaskClient) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    not_found = document["paths"]["/api/v1/orders:lookup"]["post"]["responses"]["404"]["description"]
    assert "at that id" not in not_found
    assert "ErrorInfo reason" in not_found


def test_the_study_s_routes_are_marked_as_aliases(page: str, outline: PageOutline) -> None:
    text = outline.plain_text
    assert (
        "GET /api/v1/payments lists the enabled payment channels in display order: an alias of "
        "GET /api/v1/payment-channels, kept for the study's clients."
    ) in text
    for alias in ALIASES:
        canonical = next(b for b in CANONICAL if b.method == alias.method)
        alias_label = f"{alias.http_method} {openapi_path(alias.template.text)}"
        canonical_label = f"{canonical.http_method} {openapi_path(canonical.template.text)}"
        assert re.search(
            re.escape(alias_label) + r" [^:]+: an alias of " + re.escape(canonical_label) + ", kept", text
        )
    assert text.count(", kept for the study's clients.") == len(ALIASES)
    for alias in ALIASES:  # each links its canonical route
        heading = f"</span>{html.escape(openapi_path(alias.template.text))}</h3>"
        section = page.split(heading, 1)[1].split("</section>", 1)[0]
        assert f'an alias of <a href="#{alias.method.full_name}">' in section


def test_the_openapi_document_carries_the_examples_and_the_aliases(client: FlaskClient) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    create_order = document["paths"]["/api/v1/orders"]["post"]
    body = create_order["requestBody"]["content"]["application/json"]["example"]
    assert body["customerEmail"] == "budi@example.com"
    answer = create_order["responses"]["200"]["content"]["application/json"]["example"]
    assert answer["order"]["orderNumber"].startswith("PSR-")
    get_order = document["paths"]["/api/v1/orders/{id}"]["get"]
    examples = {parameter["name"]: parameter.get("example") for parameter in get_order["parameters"]}
    assert examples["id"].startswith("ord_")
    assert examples["token"]
    alias = document["paths"]["/api/v1/payments"]["get"]
    assert alias["x-alias-of"] == "GET /api/v1/payment-channels"
    assert alias["description"].startswith("`GET /api/v1/payments` lists the enabled payment channels")
    assert "x-alias-of" not in document["paths"]["/api/v1/payment-channels"]["get"]
