"""``/api/v1/openapi.json`` and ``/api/v1/docs``: the API described, by the gateway itself.

``/api/v1/`` names both, so that someone who opens the API's root finds them rather than
a 404. The page is rendered on the server from the OpenAPI document (no script, no CDN), so it
works offline, under the strict Content-Security-Policy, and always matches the routes: the
introduction and the contracts' comments as HTML (markdown_text), a table of contents, for
each route its request and response example (examples.py), and the study's extra routes
(``additional_bindings``) marked as aliases of the canonical one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import flask

from pasar_gateway.api import is_admin
from pasar_gateway.bindings import HttpBinding
from pasar_gateway.examples import HttpExample, http_example, method_example
from pasar_gateway.markdown_text import render_markdown
from pasar_gateway.openapi import (
    SCHEMA_PREFIX,
    alias_sentence,
    lead_sentence,
    openapi_document,
    openapi_path,
)

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/api/v1/docs"
API_ROOT = "/api/v1/"


def schema_label(schema: dict[str, Any]) -> str:  # noqa: PLR0911 - one answer per kind of schema
    """A short type for a schema: ``string``, ``array of Product``, ``int64 (string)``."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(SCHEMA_PREFIX).rsplit(".", 1)[-1]
    kind = schema.get("type", "any")
    if isinstance(kind, list):  # int64: ["integer", "string"], either accepted on input
        kind = " or ".join(kind)
    if kind == "array":
        return f"array of {schema_label(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {schema_label(schema['additionalProperties'])}"
    if schema.get("format") == "int64":
        return "int64 (string)"
    if "enum" in schema and kind == "string":
        return "enum"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def schema_anchor(schema: dict[str, Any]) -> str:
    target = schema.get("$ref") or schema.get("items", {}).get("$ref") or ""
    return str(target).removeprefix(SCHEMA_PREFIX)


def schema_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """A message schema's fields, including those of its oneofs (generated as allOf/oneOf parts)."""
    fields = dict(schema.get("properties", {}))
    for part in [*schema.get("allOf", []), *schema.get("oneOf", [])]:
        fields.update(schema_fields(part))
    return fields


def body_fields(document: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A request body's fields, those of the message it names when it is one (``$ref``): the
    route lists them itself, so that a reader need not leave it to learn what to send."""
    referenced = document["components"]["schemas"].get(schema_anchor(body)) if "$ref" in body else None
    return schema_fields(referenced or body)


def constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
    ):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(repr(value) for value in schema["enum"]))
    return "; ".join(parts)


@dataclass(frozen=True)
class Route:
    """One route of the document, as the page shows it."""

    http_method: str
    path: str
    operation: dict[str, Any]
    binding: HttpBinding | None  # None for the gateway's own routes
    canonical: Route | None = None  # for the study's extra routes: the route they are an alias of
    example: HttpExample | None = None

    @property
    def anchor(self) -> str:
        return str(self.operation["operationId"])

    @property
    def label(self) -> str:
        return f"{self.http_method} {self.path}"

    @property
    def does(self) -> str:
        """What the route does, as a verb phrase ("lists the enabled payment channels ...")."""
        return lead_sentence(self.canonical.operation if self.canonical else self.operation)

    @property
    def alias_text(self) -> str:
        """For a study's route, the OpenAPI document's words, linking the canonical route."""
        if self.canonical is None:
            return ""
        return alias_sentence(self.label, self.does, self.canonical.label, f"#{self.canonical.anchor}")


def page_routes(document: dict[str, Any], bindings: Sequence[HttpBinding]) -> dict[str, list[Route]]:
    """The document's routes by tag: each with its binding, its example, and an alias's canonical route."""
    by_route = {(b.http_method, openapi_path(b.template.text)): b for b in bindings}
    found = [
        (method.upper(), path, operation, by_route.get((method.upper(), path)))
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    canonical = {
        binding.method.full_name: _route(method, path, operation, binding)
        for method, path, operation, binding in found
        if binding is not None and binding.position == 0
    }
    grouped: dict[str, list[Route]] = {}
    for method, path, operation, binding in found:
        if binding is None:
            route = _route(method, path, operation, None)
        elif binding.position == 0:
            route = canonical[binding.method.full_name]
        else:
            route = _route(method, path, operation, binding, canonical[binding.method.full_name])
        grouped.setdefault(operation["tags"][0], []).append(route)
    # In the contracts' order, each alias right after its canonical route; the gateway's own last.
    order = {
        binding.method.full_name: index for index, binding in enumerate(bindings) if binding.position == 0
    }
    for tag_routes in grouped.values():
        tag_routes.sort(
            key=lambda route: (
                (order[route.binding.method.full_name], route.binding.position)
                if route.binding is not None
                else (len(order), 0)
            )
        )
    return grouped


def _route(
    method: str,
    path: str,
    operation: dict[str, Any],
    binding: HttpBinding | None,
    canonical: Route | None = None,
) -> Route:
    example = method_example(binding.method) if binding is not None else None
    shown = None
    if binding is not None and example is not None:
        shown = http_example(binding, example, admin=is_admin(binding))
    return Route(method, path, operation, binding, canonical, shown)


def register_docs(app: flask.Flask, bindings: Sequence[HttpBinding]) -> None:
    document = openapi_document(bindings)
    body = json.dumps(document, ensure_ascii=False)
    app.jinja_env.globals.update(
        schema_label=schema_label,
        schema_anchor=schema_anchor,
        schema_fields=schema_fields,
        body_fields=body_fields,
        constraints=constraints,
        markdown=render_markdown,
    )
    routes = page_routes(document, bindings)

    def openapi_json() -> flask.Response:
        response = flask.Response(body, mimetype="application/json")
        response.headers["Cache-Control"] = "no-cache"
        return response

    rendered: list[str] = []  # the page depends on the contracts only: rendered once (some 60 ms)

    def docs_page() -> str:
        if not rendered:
            context = {"document": document, "routes": routes, "openapi_path": OPENAPI_PATH}
            rendered.append(flask.render_template("docs.html", **context))
        return rendered[0]

    index = json.dumps(
        {
            "name": document["info"]["title"],
            "version": document["info"]["version"],
            "docs": DOCS_PATH,
            "openapi": OPENAPI_PATH,
        },
        ensure_ascii=False,
    )

    def api_root() -> flask.Response:
        response = flask.Response(index, mimetype="application/json")
        response.headers["Cache-Control"] = "no-cache"
        return response

    for rule in (API_ROOT, API_ROOT.rstrip("/")):
        app.add_url_rule(rule, endpoint=f"docs.root{rule}", view_func=api_root, methods=["GET"])
    app.add_url_rule(OPENAPI_PATH, endpoint="docs.openapi", view_func=openapi_json, methods=["GET"])
    app.add_url_rule(DOCS_PATH, endpoint="docs.page", view_func=docs_page, methods=["GET"])
