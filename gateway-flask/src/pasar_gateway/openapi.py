"""The OpenAPI 3.1 document of the API, generated from the same descriptors as the routes.

Paths and operations come from the HTTP bindings; schemas from the request and response
messages, with the contracts' comments (from ``pasar_contracts.file_descriptor_set()``,
which keeps the source info) as descriptions and the contracts' validation rules
(protovalidate) as constraints. Types follow the proto3 JSON mapping: int64 as a string,
enums by name, Timestamp as an RFC 3339 string. Every error is the one error shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from buf.validate import validate_pb2
from google.protobuf import descriptor, descriptor_pb2

import pasar_contracts
from pasar_gateway.api import is_admin, is_catalog_read
from pasar_gateway.bindings import HttpBinding, resolve_field_path
from pasar_gateway.errors import UNPROCESSABLE_REASONS
from pasar_gateway.transcoding import _STRING_MESSAGES, HEADER_FIELDS

FieldDescriptor = descriptor.FieldDescriptor
OPENAPI_VERSION = "3.1.0"
SCHEMA_PREFIX = "#/components/schemas/"
ERROR_SCHEMA = "Error"
QUERY_DEPTH = 3

# The 32-bit integer types: their range, and the name of their protovalidate rules.
_INT32 = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1, "int32"),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1, "sint32"),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1, "sfixed32"),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1, "uint32"),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1, "fixed32"),
}
_INT64 = {
    FieldDescriptor.TYPE_INT64: "^-?[0-9]+$",
    FieldDescriptor.TYPE_SINT64: "^-?[0-9]+$",
    FieldDescriptor.TYPE_SFIXED64: "^-?[0-9]+$",
    FieldDescriptor.TYPE_UINT64: "^[0-9]+$",
    FieldDescriptor.TYPE_FIXED64: "^[0-9]+$",
}
_SIMPLE: Mapping[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN: Mapping[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "description": "A duration in seconds with an `s` suffix, such as `86400s`.",
    },
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated field names in lowerCamel case, such as `displayName,description`.",
    },
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte"},
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32"},
    "google.protobuf.UInt32Value": {"type": "integer", "minimum": 0},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    "google.protobuf.UInt64Value": {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"},
    "google.protobuf.FloatValue": {"type": "number"},
    "google.protobuf.DoubleValue": {"type": "number"},
}


@cache
def contract_comments() -> Mapping[str, str]:
    """The leading comment of every message, field, enum, value, service and method, by full name."""
    comments: dict[str, str] = {}
    for file in pasar_contracts.file_descriptor_set().file:
        names = dict(_named_paths(file))
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            if name is not None and location.leading_comments:
                comments[name] = _tidy(location.leading_comments)
    return comments


def _named_paths(file: descriptor_pb2.FileDescriptorProto) -> Iterator[tuple[tuple[int, ...], str]]:
    prefix = f"{file.package}." if file.package else ""
    for index, message in enumerate(file.message_type):
        yield from _message_paths(message, (4, index), prefix)
    for index, enum in enumerate(file.enum_type):
        yield from _enum_paths(enum, (5, index), prefix)
    for index, service in enumerate(file.service):
        yield (6, index), f"{prefix}{service.name}"
        for method_index, method in enumerate(service.method):
            yield (6, index, 2, method_index), f"{prefix}{service.name}.{method.name}"


def _message_paths(
    message: descriptor_pb2.DescriptorProto, path: tuple[int, ...], prefix: str
) -> Iterator[tuple[tuple[int, ...], str]]:
    name = f"{prefix}{message.name}"
    yield path, name
    for index, field in enumerate(message.field):
        yield (*path, 2, index), f"{name}.{field.name}"
    for index, nested in enumerate(message.nested_type):
        yield from _message_paths(nested, (*path, 3, index), f"{name}.")
    for index, enum in enumerate(message.enum_type):
        yield from _enum_paths(enum, (*path, 4, index), f"{name}.")
    for index, oneof in enumerate(message.oneof_decl):
        yield (*path, 8, index), f"{name}.{oneof.name}"


def _enum_paths(
    enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], prefix: str
) -> Iterator[tuple[tuple[int, ...], str]]:
    name = f"{prefix}{enum.name}"
    yield path, name
    for index, value in enumerate(enum.value):
        yield (*path, 2, index), f"{name}.{value.name}"


def _tidy(comment: str) -> str:
    """A comment as Markdown: lines joined into paragraphs."""
    paragraphs = [
        " ".join(line.strip() for line in block.splitlines()) for block in comment.strip().split("\n\n")
    ]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


class SchemaBuilder:
    """Builds component schemas for messages on demand, following references."""

    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, Any] = {}

    def reference(self, message: descriptor.Descriptor) -> dict[str, Any]:
        if message.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[message.full_name])
        if message.full_name not in self.schemas:
            self.schemas[message.full_name] = {}  # placeholder: recursive messages refer to themselves
            self.schemas[message.full_name] = self.message_schema(message)
        return {"$ref": SCHEMA_PREFIX + message.full_name}

    def message_schema(
        self, message: descriptor.Descriptor, *, without: Sequence[str] = ()
    ) -> dict[str, Any]:
        properties = {}
        required = []
        for field in message.fields:
            if field.name in without:
                continue
            properties[field.json_name] = self.field_schema(field)
            if _rules(field).required and field.message_type is not None:
                required.append(field.json_name)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        description = self.comments.get(message.full_name, "")
        oneofs = [oneof for oneof in message.oneofs if not _synthetic(oneof)]
        for oneof in oneofs:
            names = ", ".join(f"`{field.json_name}`" for field in oneof.fields)
            description += f"\n\nAt most one of {names} is set."
        if description:
            schema["description"] = description.strip()
        return schema

    def field_schema(self, field: FieldDescriptor) -> dict[str, Any]:
        rules = _rules(field)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            schema: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.value_schema(value, None),
            }
        elif field.is_repeated:
            items_rules = rules.repeated.items if rules.HasField("repeated") else None
            schema = {"type": "array", "items": self.value_schema(field, items_rules)}
            if rules.HasField("repeated"):
                if rules.repeated.HasField("min_items"):
                    schema["minItems"] = rules.repeated.min_items
                if rules.repeated.HasField("max_items"):
                    schema["maxItems"] = rules.repeated.max_items
                if rules.repeated.unique:
                    schema["uniqueItems"] = True
        else:
            schema = self.value_schema(field, rules)
        description = self.comments.get(field.full_name, "")
        if description:
            schema["description"] = description
        return schema

    def value_schema(self, field: FieldDescriptor, rules: validate_pb2.FieldRules | None) -> dict[str, Any]:
        kind = field.type
        if field.message_type is not None:
            return self.reference(field.message_type)
        if field.enum_type is not None:
            return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
        if kind in _SIMPLE:
            return dict(_SIMPLE[kind])
        return _scalar_schema(kind, rules)


def _scalar_schema(kind: int, rules: validate_pb2.FieldRules | None) -> dict[str, Any]:
    if kind == FieldDescriptor.TYPE_STRING:
        return _string_schema(rules)
    if kind in _INT32:
        low, high, rule_name = _INT32[kind]
        schema: dict[str, Any] = {"type": "integer", "format": "int32", "minimum": low, "maximum": high}
        return _number_bounds(schema, rules, rule_name)
    if kind in _INT64:
        return {"type": "string", "format": "int64", "pattern": _INT64[kind]}
    return {"type": "number", "format": "float" if kind == FieldDescriptor.TYPE_FLOAT else "double"}


def _rules(field: FieldDescriptor) -> validate_pb2.FieldRules:
    rules: validate_pb2.FieldRules = field.GetOptions().Extensions[validate_pb2.field]
    return rules


def _synthetic(oneof: descriptor.OneofDescriptor) -> bool:
    return (
        bool(getattr(oneof, "has_presence", False)) and len(oneof.fields) == 1 and oneof.name.startswith("_")
    )


def _string_schema(rules: validate_pb2.FieldRules | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if rules is None or not rules.HasField("string"):
        return schema
    string = rules.string
    if string.HasField("min_len"):
        schema["minLength"] = string.min_len
    if string.HasField("max_len"):
        schema["maxLength"] = string.max_len
    if string.HasField("pattern"):
        schema["pattern"] = string.pattern
    if string.email:
        schema["format"] = "email"
    if string.__getattribute__("in"):
        schema["enum"] = list(string.__getattribute__("in"))
    return schema


def _number_bounds(
    schema: dict[str, Any], rules: validate_pb2.FieldRules | None, kind: str
) -> dict[str, Any]:
    if rules is None or not rules.HasField(kind):  # type: ignore[arg-type]
        return schema
    bounds = getattr(rules, kind)
    if bounds.HasField("gte"):
        schema["minimum"] = bounds.gte
    elif bounds.HasField("gt"):
        schema["minimum"] = bounds.gt + 1
    if bounds.HasField("lte"):
        schema["maximum"] = bounds.lte
    elif bounds.HasField("lt"):
        schema["maximum"] = bounds.lt - 1
    return schema


def parameter_name(field_path: str) -> str:
    """A path variable's parameter name: ``product.id`` → ``productId`` (tools take no dots)."""
    parts = field_path.split(".")
    camel = [re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), part) for part in parts]
    return camel[0] + "".join(part[:1].upper() + part[1:] for part in camel[1:])


def openapi_path(template_text: str) -> str:
    """The OpenAPI path of a template: variables by parameter name, without their patterns."""
    return re.sub(
        r"\{([^}=]+)(=[^}]*)?\}", lambda match: "{" + parameter_name(match.group(1)) + "}", template_text
    )


class DocumentBuilder:
    def __init__(self, bindings: Sequence[HttpBinding]) -> None:
        self.bindings = bindings
        self.comments = contract_comments()
        self.schemas = SchemaBuilder(self.comments)

    def build(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for binding in self.bindings:
            path = paths.setdefault(openapi_path(binding.template.text), {})
            path[binding.http_method.lower()] = self.operation(binding)
        services = sorted({binding.service.full_name: binding.service for binding in self.bindings}.items())
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "Pasar API",
                "version": pasar_contracts.__version__,
                "summary": "The shop's REST/JSON API, transcoded from its gRPC contracts.",
                "description": INFO_DESCRIPTION,
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "servers": [{"url": "/"}],
            "tags": [
                {"name": service.name, "description": self.comments.get(name, "")}
                for name, service in services
            ],
            "paths": paths,
            "components": {
                "schemas": {**dict(sorted(self.schemas.schemas.items())), ERROR_SCHEMA: ERROR_BODY_SCHEMA},
                "responses": {"Error": _error_response("The error shape every failure has.")},
                "headers": {
                    "X-Request-Id": {
                        "description": "The request's id, as the services' logs show it.",
                        "schema": {"type": "string"},
                    }
                },
                "securitySchemes": {
                    "adminToken": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "The catalog administrator's token (PASAR_ADMIN_TOKEN).",
                    }
                },
            },
        }

    def operation(self, binding: HttpBinding) -> dict[str, Any]:
        comment = self.comments.get(binding.method.full_name, "")
        description = comment
        if binding.position:
            canonical = self._canonical(binding)
            description = (
                f"The original study's route, kept as it was; it answers exactly as "
                f"`{canonical.http_method} {canonical.template.text}`.\n\n{comment}"
            )
        operation: dict[str, Any] = {
            "operationId": binding.operation_id,
            "tags": [binding.service.name],
            "summary": first_sentence(comment) or binding.method.name,
            "description": description,
            "parameters": self.parameters(binding),
            "responses": self.responses(binding),
            "x-grpc-method": f"/{binding.service.full_name}/{binding.method.name}",
        }
        if binding.body:
            operation["requestBody"] = self.request_body(binding)
        if is_admin(binding):
            operation["security"] = [{"adminToken": []}]
        return operation

    def _canonical(self, binding: HttpBinding) -> HttpBinding:
        for other in self.bindings:
            if other.method is binding.method and other.position == 0:
                return other
        return binding

    def parameters(self, binding: HttpBinding) -> list[dict[str, Any]]:
        parameters = []
        request = binding.request_type
        bound = {variable.name for variable in binding.template.variables}
        for variable in binding.template.variables:
            field = resolve_field_path(request, variable.field_path)[-1]
            schema = self.schemas.field_schema(field)
            description = schema.pop("description", "")
            parameters.append(
                {
                    "name": parameter_name(variable.name),
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": schema,
                }
            )
        if binding.body != "*":
            if binding.body:
                bound.add(binding.body)
            parameters.extend(self._query_parameters(request, "", bound, 0))
        for header in HEADER_FIELDS:
            if header.message == request.full_name:
                field = request.fields_by_name[header.field]
                schema = self.schemas.field_schema(field)
                schema.pop("description", None)
                parameters.append(
                    {
                        "name": header.header,
                        "in": "header",
                        "required": False,
                        "description": f"Sets `{field.json_name}` when the request leaves it empty.",
                        "schema": schema,
                    }
                )
        return parameters

    def _query_parameters(
        self, message: descriptor.Descriptor, prefix: str, bound: set[str], depth: int
    ) -> list[dict[str, Any]]:
        found = []
        for field in message.fields:
            proto_path = f"{prefix}{field.name}"
            if proto_path in bound or any(name.startswith(f"{proto_path}.") for name in bound):
                if field.message_type is not None and proto_path not in bound and depth < QUERY_DEPTH:
                    found.extend(
                        self._query_parameters(field.message_type, f"{proto_path}.", bound, depth + 1)
                    )
                continue
            name = _json_path(prefix, field)
            if field.message_type is not None and field.message_type.full_name not in _STRING_MESSAGES:
                if field.message_type.GetOptions().map_entry or field.is_repeated or depth >= QUERY_DEPTH:
                    continue
                found.extend(self._query_parameters(field.message_type, f"{proto_path}.", bound, depth + 1))
                continue
            schema = self.schemas.field_schema(field)
            description = schema.pop("description", "")
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
            if description:
                parameter["description"] = description
            if field.is_repeated:
                parameter["style"] = "form"
                parameter["explode"] = True
            found.append(parameter)
        return found

    def request_body(self, binding: HttpBinding) -> dict[str, Any]:
        request = binding.request_type
        if binding.body == "*":
            top_level = [v.field_path[0] for v in binding.template.variables if len(v.field_path) == 1]
            schema = self.schemas.message_schema(request, without=top_level)
            required = False
        else:
            field = request.fields_by_name[binding.body]
            schema = self.schemas.field_schema(field)
            required = True
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    def responses(self, binding: HttpBinding) -> dict[str, Any]:
        field = binding.response_field
        if field is None:
            schema = self.schemas.reference(binding.method.output_type)
            description = self.comments.get(binding.method.output_type.full_name, "") or "The response."
        else:
            schema = self.schemas.field_schema(field)
            description = schema.pop("description", "") or "The response."
        headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
        if is_catalog_read(binding):
            headers["ETag"] = {
                "description": "A strong validator of the response; send it back in If-None-Match.",
                "schema": {"type": "string"},
            }
        responses: dict[str, Any] = {
            "200": {
                "description": description,
                "headers": headers,
                "content": {"application/json": {"schema": schema}},
            }
        }
        if is_catalog_read(binding):
            responses["304"] = {
                "description": "Not modified: the If-None-Match ETag is still current.",
                "headers": headers,
            }
        statuses = {
            "400": "The request is malformed or breaks the contract's rules; the details name each field.",
            "404": "Nothing found at that id.",
            "409": (
                "The request conflicts with the current state of the resource "
                "(FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED)."
            ),
            "429": "Too many requests.",
            "503": "The service behind this route is unavailable; the message names it. Retry later.",
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
        if is_admin(binding):
            statuses["401"] = "No administrator's token."
            statuses["403"] = "A token that is not the administrator's."
        for status, text in sorted(statuses.items()):
            responses[status] = _error_response(text)
        responses["default"] = {"$ref": "#/components/responses/Error"}
        return responses


def _json_path(prefix: str, field: FieldDescriptor) -> str:
    """A query parameter's name: lowerCamel parts joined by dots (``product.displayName``)."""
    parts = [part for part in prefix.split(".") if part]
    camel = [re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), part) for part in parts]
    return ".".join([*camel, field.json_name])


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
                    "enum": [
                        "CANCELLED",
                        "UNKNOWN",
                        "INVALID_ARGUMENT",
                        "DEADLINE_EXCEEDED",
                        "NOT_FOUND",
                        "ALREADY_EXISTS",
                        "PERMISSION_DENIED",
                        "RESOURCE_EXHAUSTED",
                        "FAILED_PRECONDITION",
                        "ABORTED",
                        "OUT_OF_RANGE",
                        "UNIMPLEMENTED",
                        "INTERNAL",
                        "UNAVAILABLE",
                        "DATA_LOSS",
                        "UNAUTHENTICATED",
                    ],
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

INFO_DESCRIPTION = """\
Pasar's public API. Every route is declared in the gRPC contracts with a `google.api.http`
annotation; the gateway transcodes the JSON to the service's RPC and back.

* JSON follows the proto3 JSON mapping: lowerCamel field names (proto names are accepted
  on input too), 64-bit integers as strings, enums by name, fields with default values
  always present in responses.
* Query parameters set the request fields that the path and body do not; nested fields
  take dotted names and repeated fields are given once per value.
* Every error has the shape `{"error": {"code", "message", "details"}}`; the `code` is a
  gRPC status code name, and the HTTP status is mapped from it.
* Every response carries an `X-Request-Id` header; send one to choose it.
* Order creation is idempotent on the `Idempotency-Key` header (or `requestId`): a retry
  returns the same order.
* The routes of ProductAdminService need `Authorization: Bearer <admin token>`.
"""


@cache
def _cached_document(bindings: tuple[HttpBinding, ...]) -> dict[str, Any]:
    return DocumentBuilder(bindings).build()


def openapi_document(bindings: Sequence[HttpBinding]) -> dict[str, Any]:
    """The document for bindings (built once per set of bindings)."""
    return _cached_document(tuple(bindings))
