"""The OpenAPI document the gateway serves: the contracts' generated one, with the gateway's overlay.

The paths, parameters and schemas are generated from the contracts at build time
(protoc-gen-connect-openapi reads their ``google.api.http`` routes, comments and protovalidate
rules; see contracts/buf.gen.openapi.yaml) into ``pasar.openapi.json``, which the
``pasar_contracts`` distribution ships. Nothing here describes a message or a route.

The overlay adds only what is the gateway's own: the one error shape and the statuses it
answers, the headers it reads (``Idempotency-Key``, ``X-Order-Token``) and writes
(``X-Request-Id``, ``ETag`` with 304 on catalog reads), the administrator's bearer token,
its own routes (``/healthz``, ``/readyz``), and the exact contracts release as the version.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import grpc

import pasar_contracts
from pasar_gateway.api import is_admin, is_catalog_read
from pasar_gateway.bindings import HttpBinding
from pasar_gateway.errors import (
    DEPENDENCY_UNAVAILABLE,
    RATE_LIMITED,
    RETRY_AFTER_METADATA,
    UNPROCESSABLE_REASONS,
)
from pasar_gateway.examples import http_example, method_example
from pasar_gateway.rate_limits import UNLIMITED, bucket_of, bucket_scope
from pasar_gateway.transcoding import HEADER_FIELDS

GENERATED_DOCUMENT = "pasar.openapi.json"
SCHEMA_PREFIX = "#/components/schemas/"
ERROR_SCHEMA = "Error"
GATEWAY_TAG = "Gateway"
DURATION = "google.protobuf.Duration"
# The generator gives Duration JSON Schema's `format: duration`, which is ISO 8601 ("PT15M");
# proto3 JSON writes seconds with an `s` ("900s"), so validators refuse every real answer.
DURATION_SCHEMA = {
    "type": "string",
    "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
    "description": "A duration in seconds with an `s` suffix, such as `900s` (proto3 JSON).",
}


@cache
def generated_document() -> dict[str, Any]:
    """The document generated from the contracts, as the pasar_contracts distribution ships it."""
    text = resources.files(pasar_contracts).joinpath(GENERATED_DOCUMENT).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def openapi_path(template_text: str) -> str:
    """The served path of a route template: each variable by its parameter name, without its pattern."""
    return re.sub(
        r"\{([^}=]+)(=[^}]*)?\}", lambda match: "{" + parameter_name(match.group(1)) + "}", template_text
    )


def parameter_name(field_path: str) -> str:
    """A path variable's parameter name: ``product.id`` → ``productId``, ``product_id`` → ``productId``.

    The generator keeps the annotation's field path (``{product.id}``), which OpenAPI allows
    but tools that fill a path by Python's str.format (schemathesis) or name a function
    argument after it cannot use; v1.0.0's document named them in lowerCamel, as here.
    """
    words = re.split(r"[._]", field_path)
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def openapi_document(bindings: Sequence[HttpBinding]) -> dict[str, Any]:
    """The served document for bindings (built once per set of bindings)."""
    return _cached_document(tuple(bindings))


@cache
def _cached_document(bindings: tuple[HttpBinding, ...]) -> dict[str, Any]:
    document = copy.deepcopy(generated_document())
    document["paths"] = {
        openapi_path(path): _renamed_path_parameters(item) for path, item in document["paths"].items()
    }
    info = document["info"]
    info["version"] = pasar_contracts.__version__
    info["description"] = f"{info.get('description', '').rstrip()}\n\n{GATEWAY_DESCRIPTION}"
    for binding in bindings:
        _overlay_operation(document, binding)
    canonical = {binding.method.full_name: binding for binding in bindings if binding.position == 0}
    for binding in bindings:
        if binding.position > 0:
            _mark_alias(document, binding, canonical[binding.method.full_name])
    document["paths"].update(copy.deepcopy(GATEWAY_PATHS))
    document.setdefault("tags", []).append(
        {"name": GATEWAY_TAG, "description": "The gateway's own routes, which call no service."}
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = ERROR_BODY_SCHEMA
    schemas[READINESS_SCHEMA_NAME] = READINESS_SCHEMA
    schemas[DURATION] = DURATION_SCHEMA
    components["responses"] = {"Error": _error_response("The error shape every failure has.")}
    components["headers"] = {
        "X-Request-Id": {
            "description": "The request's id, as the services' logs show it; send one to choose it.",
            "schema": {"type": "string"},
        }
    }
    components["securitySchemes"] = {
        "adminToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The catalog administrator's token (PASAR_ADMIN_TOKEN).",
        }
    }
    return document


def _renamed_path_parameters(path_item: dict[str, Any]) -> dict[str, Any]:
    for operation in path_item.values():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                parameter["name"] = parameter_name(parameter["name"])
    return path_item


def _overlay_operation(document: dict[str, Any], binding: HttpBinding) -> None:
    path = openapi_path(binding.template.text)
    try:
        operation: dict[str, Any] = document["paths"][path][binding.http_method.lower()]
    except KeyError:
        raise LookupError(
            f"the generated OpenAPI document has no {binding.http_method} {path} "
            f"({binding.rpc_name}): regenerate it with `scripts/contracts generate`"
        ) from None
    operation["x-grpc-method"] = f"/{binding.service.full_name}/{binding.method.name}"
    _own_field_comments(document, operation, binding)
    operation.setdefault("parameters", []).extend(_header_parameters(document, binding))
    _add_example(operation, binding)
    if is_admin(binding):
        operation["security"] = [{"adminToken": []}]
    responses = operation["responses"]
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if is_catalog_read(binding):
        headers["ETag"] = {
            "description": "A strong validator of the response; send it back in If-None-Match.",
            "schema": {"type": "string"},
        }
        responses["304"] = {
            "description": "Not modified: the If-None-Match ETag is still current.",
            "headers": headers,
        }
    responses["200"]["headers"] = headers
    for status, text in sorted(_error_statuses(binding).items()):
        responses[status] = _error_response(text)
    responses["429"]["headers"]["Retry-After"] = {
        "description": "Whole seconds to wait before the same call can succeed.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
    responses["default"] = {"$ref": "#/components/responses/Error"}


def _own_field_comments(document: dict[str, Any], operation: dict[str, Any], binding: HttpBinding) -> None:
    """A query parameter of a well-known type (update_mask: google.protobuf.FieldMask) is described
    by its field's comment in the contract (which paths it takes, what empty means), not by the
    generator's copy of the type's pages-long comment."""
    request = document["components"]["schemas"].get(binding.request_type.full_name, {})
    for parameter in operation.get("parameters", []):
        field = request.get("properties", {}).get(parameter["name"], {})
        well_known = str(field.get("$ref", "")).startswith(SCHEMA_PREFIX + "google.protobuf.")
        if parameter["in"] == "query" and well_known and field.get("description"):
            parameter["description"] = field["description"]


def _add_example(operation: dict[str, Any], binding: HttpBinding) -> None:
    """The method's example (examples.py), on the parameters, the body and the 200 answer."""
    example = method_example(binding.method)
    if example is None:
        return
    shown = http_example(binding, example)
    values = {("path", parameter_name(name)): value for name, value in shown.path_values}
    values.update((("query", name), value) for name, value in dict(shown.query).items())
    for parameter in operation.get("parameters", []):
        value = values.get((parameter["in"], parameter["name"]))
        if value is not None:
            parameter["example"] = value
    if shown.body is not None and "requestBody" in operation:
        operation["requestBody"]["content"]["application/json"]["example"] = shown.body
    answer = operation["responses"]["200"].get("content", {}).get("application/json")
    if answer is not None:
        answer["example"] = shown.response


def lead_sentence(operation: dict[str, Any]) -> str:
    """What a route does, in its contract comment's first sentence as a verb phrase:
    "lists the enabled payment channels in display order"."""
    summary = str(operation.get("summary") or "")
    text = summary if " " in summary.strip() else str(operation.get("description") or summary)
    sentence = re.split(r"(?<=[a-z0-9)])\.(?:\s|$)", " ".join(text.split()), maxsplit=1)[0].rstrip(".")
    if len(sentence) > 1 and not sentence[1].isupper():
        sentence = sentence[0].lower() + sentence[1:]
    return sentence


def alias_sentence(label: str, does: str, canonical_label: str, canonical_link: str = "") -> str:
    """The plain words (Markdown) for a study's extra route: what it does, and which route it is
    an alias of, linked when canonical_link is given (the API page's anchor)."""
    canonical = f"[`{canonical_label}`]({canonical_link})" if canonical_link else f"`{canonical_label}`"
    return (
        f"`{label}` {does}: an alias of {canonical}, kept for the study's clients. "
        "It takes the same parameters and answers exactly as that route does."
    )


def _mark_alias(document: dict[str, Any], binding: HttpBinding, canonical: HttpBinding) -> None:
    """An additional binding's operation says plainly which route it is an alias of."""
    label = f"{binding.http_method} {openapi_path(binding.template.text)}"
    canonical_path = openapi_path(canonical.template.text)
    canonical_label = f"{canonical.http_method} {canonical_path}"
    canonical_operation = document["paths"][canonical_path][canonical.http_method.lower()]
    operation = document["paths"][openapi_path(binding.template.text)][binding.http_method.lower()]
    operation["x-alias-of"] = canonical_label
    operation["description"] = alias_sentence(label, lead_sentence(canonical_operation), canonical_label)


def _header_parameters(document: dict[str, Any], binding: HttpBinding) -> list[dict[str, Any]]:
    """The headers that set a request field (HEADER_FIELDS), typed as the generated field is."""
    found = []
    request = binding.request_type
    for header in HEADER_FIELDS:
        if header.message != request.full_name:
            continue
        field = request.fields_by_name[header.field]
        generated = document["components"]["schemas"][request.full_name]["properties"][field.json_name]
        schema = {key: value for key, value in generated.items() if key not in ("title", "description")}
        found.append(
            {
                "name": header.header,
                "in": "header",
                "required": False,
                "description": f"Sets `{field.json_name}` when the request leaves it empty.",
                "schema": schema,
            }
        )
    return found


def _error_statuses(binding: HttpBinding) -> dict[str, str]:
    statuses = {
        "400": "The request is malformed or breaks the contract's rules; the details name each field.",
        "404": (
            "Nothing found for what the request names (an id, or an order's number and contact): "
            "the ErrorInfo reason says what, the route's description when."
        ),
        "409": (
            "The request conflicts with the current state of the resource "
            "(FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED)."
        ),
        "429": "Too many requests: RESOURCE_EXHAUSTED (a service's own limit).",
        "503": (
            "The service behind this route, or one it needs, is unavailable: ErrorInfo reason "
            f"{DEPENDENCY_UNAVAILABLE}, its `service` metadata naming it. Retry later."
        ),
        "504": "The service behind this route did not answer in time.",
    }
    if binding.body:
        statuses["413"] = "The request body is larger than the gateway accepts."
        statuses["415"] = "The request body is not JSON."
        statuses["422"] = (
            "FAILED_PRECONDITION with one of the reasons "
            + ", ".join(sorted(UNPROCESSABLE_REASONS))
            + ": the request names something it cannot use as given."
        )
    bucket = bucket_of(binding.method)
    if bucket != UNLIMITED:
        # The gateway's refusal; the service may still refuse for a limit of its own (LookupOrder's
        # failed look-ups of one number), in the same shape.
        statuses["429"] = (
            f"Too many calls of the {bucket_scope(bucket)} kind from this client address, or a "
            f"limit of the service's own (its description says which): ErrorInfo reason "
            f"{RATE_LIMITED}, its `{RETRY_AFTER_METADATA}` metadata the whole seconds to wait, the "
            "same number as the Retry-After header."
        )
    if is_admin(binding):
        statuses["401"] = "No administrator's token."
        statuses["403"] = "A token that is not the administrator's."
    return statuses


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
        "content": {"application/json": {"schema": {"$ref": SCHEMA_PREFIX + ERROR_SCHEMA}}},
    }


ERROR_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one shape of every error the gateway answers.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "description": (
                        "The gRPC status code's name, such as NOT_FOUND; branch on it "
                        "(and on ErrorInfo reasons), never on the message."
                    ),
                    "enum": [code.name for code in grpc.StatusCode if code != grpc.StatusCode.OK],
                },
                "message": {"type": "string", "description": "A sentence for people."},
                "details": {
                    "type": "array",
                    "description": (
                        "The status details in proto3 JSON, each with its @type: google.rpc.ErrorInfo "
                        "(reason, domain, metadata) or google.rpc.BadRequest (fieldViolations)."
                    ),
                    "items": {
                        "type": "object",
                        "required": ["@type"],
                        "properties": {"@type": {"type": "string"}},
                        "additionalProperties": True,
                    },
                },
            },
        }
    },
}

READINESS_SCHEMA_NAME = "Readiness"
GATEWAY_PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "Gateway_Healthz",
            "tags": [GATEWAY_TAG],
            "summary": "Whether the gateway process answers.",
            "description": "Whether the gateway process answers; it asks no service.",
            "responses": {
                "200": {
                    "description": "The gateway answers.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"const": "ok"}},
                            }
                        }
                    },
                }
            },
        }
    },
    "/readyz": {
        "get": {
            "operationId": "Gateway_Readyz",
            "tags": [GATEWAY_TAG],
            "summary": "Whether every service behind the gateway is serving.",
            "description": (
                "Whether every service behind the gateway is serving, each asked through its "
                "grpc.health.v1 service; 503 when one is not."
            ),
            "responses": {
                status: {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": SCHEMA_PREFIX + READINESS_SCHEMA_NAME}}
                    },
                }
                for status, description in (("200", "Every service is serving."), ("503", "One is not."))
            },
        }
    },
}

READINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "services"],
    "properties": {
        "status": {"enum": ["ready", "not ready"]},
        "services": {
            "type": "object",
            "description": "Each backend by name (product, payment, order).",
            "additionalProperties": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}

GATEWAY_DESCRIPTION = """\
What the gateway adds to every route:

* Every error has the shape `{"error": {"code", "message", "details"}}`; the `code` is a
  gRPC status code name, and the HTTP status is mapped from it.
* Every response carries an `X-Request-Id` header; send one to choose it.
* Catalog reads carry an `ETag`; send it back in `If-None-Match` for a 304.
* Order creation is idempotent on the `Idempotency-Key` header (or `requestId`): a retry
  returns the same order. `X-Order-Token` may carry an order's access token.
* The routes of ProductAdminService need `Authorization: Bearer <admin token>`.
* Placing orders and looking them up are limited per client address (the contracts'
  `rate_limit_bucket`): a refused call is a 429 with reason `RATE_LIMITED` and a
  `Retry-After` header.
"""
