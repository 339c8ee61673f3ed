"""``/api/v1/openapi.json`` and ``/api/v1/docs``: the API described, by the gateway itself.

``/api/v1/`` names both, so that someone who opens the API's root finds them rather than
a 404. The page is rendered on the server from the OpenAPI document (no script, no CDN), so it
works offline, under the strict Content-Security-Policy, and always matches the routes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import flask

from pasar_gateway.bindings import HttpBinding
from pasar_gateway.openapi import SCHEMA_PREFIX, openapi_document

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


def register_docs(app: flask.Flask, bindings: Sequence[HttpBinding]) -> None:
    document = openapi_document(bindings)
    body = json.dumps(document, ensure_ascii=False)
    app.jinja_env.globals.update(
        schema_label=schema_label,
        schema_anchor=schema_anchor,
        schema_fields=schema_fields,
        constraints=constraints,
    )

    def openapi_json() -> flask.Response:
        response = flask.Response(body, mimetype="application/json")
        response.headers["Cache-Control"] = "no-cache"
        return response

    def docs_page() -> str:
        operations: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                operations.setdefault(operation["tags"][0], []).append((method.upper(), path, operation))
        return flask.render_template(
            "docs.html", document=document, operations=operations, openapi_path=OPENAPI_PATH
        )

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
