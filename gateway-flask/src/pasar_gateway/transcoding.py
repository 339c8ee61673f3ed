"""HTTP request → protobuf request, and protobuf response → proto3 JSON, for one binding.

The request message is built the way ``google/api/http.proto`` describes: the body (the
whole message for ``body: "*"``, or one field), then the path variables, then, unless the
body is the whole message, the query parameters for the remaining fields. Query names may
be proto field names or their lowerCamel JSON names, with dots for nested fields
(``product.displayName``); a repeated field is given once per value. A few headers set a
field when the request has left it empty (``Idempotency-Key`` → CreateOrderRequest's
``request_id``). Input is strict: unknown fields, wrong types, invalid JSON or UTF-8 are a
400 naming the field, never a 500.

Responses are proto3 JSON (lowerCamel names, int64 as strings, enums by name), fields with
default values included so that clients always see the same shape (written by
:mod:`pasar_gateway.json_writer`); ``response_body`` selects one field of the response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn, cast

import orjson
from google.protobuf import descriptor, json_format, message, message_factory
from werkzeug.datastructures import Headers, MultiDict

from pasar_gateway.bindings import HttpBinding, resolve_field_path
from pasar_gateway.errors import ApiError, invalid_argument
from pasar_gateway.json_writer import message_json

FieldDescriptor = descriptor.FieldDescriptor

# Well-known types whose JSON form is a string, so they can be given as a query parameter.
_STRING_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
        "google.protobuf.Int32Value",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.FloatValue",
        "google.protobuf.DoubleValue",
        "google.protobuf.BoolValue",
    }
)
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class HeaderField:
    """A header that sets a request field when the body and query left it empty."""

    header: str
    message: str
    field: str


HEADER_FIELDS: tuple[HeaderField, ...] = (
    HeaderField("Idempotency-Key", "pasar.order.v1.CreateOrderRequest", "request_id"),
    HeaderField("X-Order-Token", "pasar.order.v1.GetOrderRequest", "token"),
    HeaderField("X-Order-Token", "pasar.order.v1.CancelOrderRequest", "token"),
)


@cache
def fields_by_query_name(message_type: descriptor.Descriptor) -> Mapping[str, FieldDescriptor]:
    """A message's fields by proto name and by lowerCamel JSON name."""
    names: dict[str, FieldDescriptor] = {}
    for field in message_type.fields:
        names[field.name] = field
        names[field.json_name] = field
    return names


class RequestTranscoder:
    """Builds one binding's request message from the parts of an HTTP request."""

    def __init__(self, binding: HttpBinding) -> None:
        self.binding = binding
        self.request_class: type[message.Message] = message_factory.GetMessageClass(binding.request_type)
        self.root_name = binding.request_type.name
        self.path_fields = [
            (f"v{index}", variable.name, resolve_field_path(binding.request_type, variable.field_path))
            for index, variable in enumerate(binding.template.variables)
        ]
        bound = {name for _, name, _ in self.path_fields}
        if binding.body not in ("", "*"):
            bound.add(binding.body)
        self.bound_paths = frozenset(bound)
        self.header_fields = [
            (header.header, binding.request_type.fields_by_name[header.field])
            for header in HEADER_FIELDS
            if header.message == binding.request_type.full_name
        ]

    @property
    def rule_arguments(self) -> dict[str, str]:
        """The werkzeug argument names of the path variables, by field path."""
        return {name: argument for argument, name, _ in self.path_fields}

    def request(
        self,
        path_arguments: Mapping[str, str],
        query: MultiDict[str, str],
        headers: Headers | Mapping[str, str],
        body: bytes | None,
    ) -> message.Message:
        request = self.request_class()
        if self.binding.body:
            self._set_body(request, parse_json_body(body or b""))
        for argument, name, fields in self.path_fields:
            self._set_leaf(request, fields, [path_arguments[argument]], f'path parameter "{name}"', name)
        if self.binding.body != "*":
            self._set_query(request, query)
        elif query:
            name = next(iter(query.keys()))
            raise invalid_argument(
                f'unknown query parameter "{name}": this route takes its fields in the body', name
            )
        for header, field in self.header_fields:
            self._set_from_header(request, field, header, headers.get(header))
        return request

    def _set_body(self, request: message.Message, body: Any) -> None:
        if self.binding.body == "*":
            if not isinstance(body, dict):
                raise invalid_argument(f"the request body must be a JSON object ({self.root_name})", "body")
            document = body
        else:
            field = self.request_class.DESCRIPTOR.fields_by_name[self.binding.body]
            if field.message_type is not None and not field.is_repeated and not isinstance(body, dict):
                raise invalid_argument(
                    f"the request body must be a JSON object ({field.message_type.name})", "body"
                )
            document = {field.name: body}
        _parse_into(document, request, self.root_name)

    def _set_query(self, request: message.Message, query: MultiDict[str, str]) -> None:
        for name in query:
            values = query.getlist(name)
            fields = self._query_fields(name)
            canonical = ".".join(field.name for field in fields)
            if len(values) > 1 and not fields[-1].is_repeated:
                raise invalid_argument(f'query parameter "{name}" is given more than once', canonical)
            self._set_leaf(request, fields, values, f'query parameter "{name}"', canonical)

    def _query_fields(self, name: str) -> list[FieldDescriptor]:
        fields: list[FieldDescriptor] = []
        current: descriptor.Descriptor | None = self.binding.request_type
        for part in name.split("."):
            field = fields_by_query_name(current).get(part) if current is not None else None
            if field is None or (fields and fields[-1].is_repeated):
                raise invalid_argument(f'unknown query parameter "{name}"', name)
            fields.append(field)
            current = field.message_type if field.message_type is not None else None
        canonical = ".".join(field.name for field in fields)
        for bound in self.bound_paths:
            if canonical == bound or canonical.startswith(f"{bound}.") or bound.startswith(f"{canonical}."):
                raise invalid_argument(
                    f'query parameter "{name}" names a field the path or body already sets', canonical
                )
        leaf = fields[-1]
        if leaf.message_type is not None and leaf.message_type.full_name not in _STRING_MESSAGES:
            if leaf.message_type.GetOptions().map_entry:
                raise invalid_argument(
                    f'query parameter "{name}" names a map, which a query cannot set', name
                )
            raise invalid_argument(
                f'query parameter "{name}" names a message; give its fields, such as "{name}.<field>"', name
            )
        return fields

    def _set_leaf(
        self,
        request: message.Message,
        fields: Sequence[FieldDescriptor],
        raw_values: Sequence[str],
        what: str,
        field_name: str,
    ) -> None:
        parent = request
        for field in fields[:-1]:
            parent = getattr(parent, field.name)
        leaf = fields[-1]
        if len(raw_values) == 1 and leaf.type == FieldDescriptor.TYPE_STRING and not leaf.is_repeated:
            raw = raw_values[0]
            if raw.isascii():  # what json_format would set, without its parsing (an id: ~15 µs)
                setattr(parent, leaf.name, raw)
                return
        values = [_json_value(leaf, raw, what, field_name) for raw in raw_values]
        document = {leaf.name: values if leaf.is_repeated else values[0]}
        try:
            json_format.ParseDict(document, parent)
        except _PARSE_FAILURES:
            shown = ", ".join(json.dumps(raw, ensure_ascii=False) for raw in raw_values)
            raise invalid_argument(
                f"{what} is not valid: expected {expected_value(leaf)}, not {shown}", field_name
            ) from None

    def _set_from_header(
        self, request: message.Message, field: FieldDescriptor, header: str, value: str | None
    ) -> None:
        if value is None:
            return
        current = getattr(request, field.name)
        if current and current != value:
            raise invalid_argument(
                f"the {header} header and the {field.json_name} field disagree; give one of them", field.name
            )
        setattr(request, field.name, value)


def _json_value(field: FieldDescriptor, raw: str, what: str, field_name: str) -> Any:
    """The JSON value json_format expects for field, from the text of a path or query parameter."""
    if field.type == FieldDescriptor.TYPE_BOOL or (
        field.message_type is not None and field.message_type.full_name == "google.protobuf.BoolValue"
    ):
        if raw.lower() not in _BOOLEAN_TEXT:
            raise invalid_argument(f"{what} must be true or false, not {raw!r}", field_name)
        return _BOOLEAN_TEXT[raw.lower()]
    if field.type == FieldDescriptor.TYPE_ENUM and re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    if field.message_type is not None and field.message_type.full_name == "google.protobuf.FieldMask":
        # Accept proto names (update_mask=display_name) as well as JSON names (displayName).
        return ",".join(_lower_camel(path.strip()) for path in raw.split(",") if path.strip())
    return raw


def _lower_camel(path: str) -> str:
    return ".".join(
        re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), part) for part in path.split(".")
    )


def parse_json_body(raw: bytes) -> Any:
    """The body's JSON value; an empty body is an empty object. 400 for anything not strict JSON."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_argument("the request body is not valid UTF-8", "body") from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except RecursionError:
        raise invalid_argument("the request body is nested too deeply", "body") from None
    except ApiError:
        raise
    except ValueError as error:
        raise invalid_argument(f"the request body is not valid JSON: {error}", "body") from None


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise invalid_argument(f'the request body names the field "{key}" more than once', key)
        document[key] = value
    return document


def _reject_constant(name: str) -> NoReturn:
    raise invalid_argument(f"the request body is not valid JSON: {name} is not a JSON value", "body")


_PARSE_FAILURES = (json_format.ParseError, TypeError, ValueError, AttributeError, RecursionError)


def _parse_into(document: dict[str, Any], request: message.Message, root_name: str) -> None:
    """Parses document into request; a 400 naming the first field json_format would refuse.

    json_format's errors say which field failed only in their message text, which is not an
    API; so on failure the document is walked against the message's descriptor here, each
    value tried on its own, to find the field and say what it should hold.
    """
    try:
        json_format.ParseDict(document, request)
    except _PARSE_FAILURES:
        found = find_invalid_field(document, message_descriptor(request))
        if found is None:  # refused as a whole, though each field parses on its own
            raise invalid_argument(f"the request body is not a valid {root_name}", "body") from None
        field, description = found
        raise invalid_argument(description, field) from None


def message_descriptor(value: message.Message) -> descriptor.Descriptor:
    return cast(descriptor.Descriptor, value.DESCRIPTOR)  # the upb and Python descriptor types are one


def find_invalid_field(
    document: Mapping[str, Any], message_type: descriptor.Descriptor
) -> tuple[str, str] | None:
    """The first field of document that does not fit message_type (``lines[0].quantity``,
    named as the client wrote it) and why, or None when every field fits."""
    return _message_problem(document, message_type, "")


def _message_problem(
    document: Mapping[str, Any], message_type: descriptor.Descriptor, path: str
) -> tuple[str, str] | None:
    names = fields_by_query_name(message_type)
    oneof_members: dict[str, str] = {}
    for key, value in document.items():
        where = f"{path}.{key}" if path else key
        field = names.get(key)
        if field is None:
            return where, f'unknown field "{where}"'
        oneof = field.containing_oneof
        if oneof is not None and value is not None:
            if oneof.name in oneof_members:
                other = oneof_members[oneof.name]
                return where, f'"{where}" and "{other}" are alternatives ({oneof.name}); give one of them'
            oneof_members[oneof.name] = where
        problem = _field_problem(field, value, where)
        if problem is not None:
            return problem
    return None


def _field_problem(field: FieldDescriptor, value: Any, where: str) -> tuple[str, str] | None:
    if value is None:
        return None  # proto3 JSON: null leaves a field at its default
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _items_problem(field.message_type.fields_by_name["value"], value, where, is_map=True)
    if field.is_repeated:
        return _items_problem(field, value, where, is_map=False)
    return _value_problem(field, value, where)


def _items_problem(field: FieldDescriptor, value: Any, where: str, *, is_map: bool) -> tuple[str, str] | None:
    """The first item of a map (a JSON object) or a repeated field (a JSON array) that does not fit."""
    items: Iterable[tuple[Any, Any]]
    if is_map and isinstance(value, dict):
        items = value.items()
    elif not is_map and isinstance(value, list):
        items = enumerate(value)
    else:
        return _invalid(where, "a JSON object" if is_map else "a JSON array", value)
    for key, item in items:
        problem = _value_problem(field, item, f"{where}[{json.dumps(key)}]")
        if problem is not None:
            return problem
    return None


def _value_problem(field: FieldDescriptor, value: Any, where: str) -> tuple[str, str] | None:
    """Whether one value (not a list) fits field; messages are walked, the rest tried alone."""
    message_type = field.message_type
    if message_type is not None and not _has_own_json_form(message_type):
        if not isinstance(value, dict):
            return _invalid(where, f"a JSON object ({message_type.name})", value)
        return _message_problem(value, message_type, where)
    holder = message_factory.GetMessageClass(cast(descriptor.Descriptor, field.containing_type))()
    try:
        json_format.ParseDict({field.name: [value] if field.is_repeated else value}, holder)
    except _PARSE_FAILURES:
        return _invalid(where, expected_value(field), value)
    return None


def _has_own_json_form(message_type: descriptor.Descriptor) -> bool:
    """Well-known types (Timestamp, wrappers, Struct...) are not written as objects of their fields."""
    return message_type.full_name.startswith("google.protobuf.") and message_type.full_name != (
        "google.protobuf.Empty"
    )


def _invalid(where: str, expected: str, value: Any) -> tuple[str, str]:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return where, f'invalid value for field "{where}": expected {expected}, not {shown}'


_EXPECTED_BY_TYPE = {
    FieldDescriptor.TYPE_INT32: "a 32-bit integer",
    FieldDescriptor.TYPE_SINT32: "a 32-bit integer",
    FieldDescriptor.TYPE_SFIXED32: "a 32-bit integer",
    FieldDescriptor.TYPE_UINT32: "an unsigned 32-bit integer",
    FieldDescriptor.TYPE_FIXED32: "an unsigned 32-bit integer",
    FieldDescriptor.TYPE_INT64: "a 64-bit integer (a number or a string of digits)",
    FieldDescriptor.TYPE_SINT64: "a 64-bit integer (a number or a string of digits)",
    FieldDescriptor.TYPE_SFIXED64: "a 64-bit integer (a number or a string of digits)",
    FieldDescriptor.TYPE_UINT64: "an unsigned 64-bit integer (a number or a string of digits)",
    FieldDescriptor.TYPE_FIXED64: "an unsigned 64-bit integer (a number or a string of digits)",
    FieldDescriptor.TYPE_FLOAT: "a number",
    FieldDescriptor.TYPE_DOUBLE: "a number",
    FieldDescriptor.TYPE_BOOL: "true or false",
    FieldDescriptor.TYPE_STRING: "a string",
    FieldDescriptor.TYPE_BYTES: "base64 text",
}
_EXPECTED_BY_MESSAGE = {
    "google.protobuf.Timestamp": 'an RFC 3339 time such as "2026-01-31T12:00:00Z"',
    "google.protobuf.Duration": 'a duration in seconds such as "1.5s"',
    "google.protobuf.FieldMask": 'field names separated by commas, such as "displayName,priceIdr"',
}


def expected_value(field: FieldDescriptor) -> str:
    """What a JSON value for field must be, in words."""
    message_type = field.message_type
    if message_type is not None:
        if message_type.full_name in _EXPECTED_BY_MESSAGE:
            return _EXPECTED_BY_MESSAGE[message_type.full_name]
        wrapped = message_type.fields_by_name.get("value")
        if message_type.full_name.endswith("Value") and wrapped is not None and wrapped.message_type is None:
            return expected_value(wrapped)  # a wrapper: the wrapped type's form
        return f"the JSON form of {message_type.full_name}"
    if field.enum_type is not None:
        names = [value.name for value in field.enum_type.values]
        return "one of " + ", ".join(names)
    return _EXPECTED_BY_TYPE.get(field.type, "a value of the field's type")


def response_document(binding: HttpBinding, response: message.Message) -> Any:
    """The JSON value of a response: the whole message, or its response_body field."""
    field = binding.response_field
    if field is None:
        return message_json(response)
    value = getattr(response, field.name)
    if field.message_type is not None and not field.is_repeated:
        return message_json(value)
    return message_json(response).get(field.json_name)


# orjson hands these to `default` (which refuses them, so the standard library writes them):
# subclasses of str, int, dict and list, dataclasses and datetimes, which json.dumps writes
# differently or refuses.
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)
# Where orjson's floats differ from repr's: NaN and infinities as null (a value, not text in
# a string), and magnitudes from 1e-5 down to 1e-9 as 0.00001... or 1e-7 (repr writes 1e-05
# and 1e-07). The patterns are searched only when a plain substring search finds a hint.
_NULL_VALUE = re.compile(rb"(?:\A|[:,\[])null(?:\Z|[,\]}])")
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"[0-9]e-[1-9](?![0-9])")


def dumps(document: Any) -> bytes:
    """The compact UTF-8 JSON of document: byte for byte what
    ``json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()`` writes,
    through orjson, several times faster (the gateway's and the bench monolith's encoder).

    Whatever orjson would write differently goes to the standard library instead: keys that
    are not strings and integers beyond 64 bits (orjson refuses them), subclasses of the
    JSON types, and floats orjson writes in another form (seen in its output; text that
    merely looks like one costs the slower path, never a different answer). Three things
    json.dumps refuses orjson writes, with no option to refuse them: UUIDs, Enum members
    that are not str or int, and orjson.Fragment; the documents given here (proto3 JSON,
    error shapes) never hold them.
    """
    try:
        encoded = orjson.dumps(document, default=_refuse, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _standard_dumps(document)
    if _may_differ(encoded):
        return _standard_dumps(document)
    return encoded


def _may_differ(encoded: bytes) -> bool:
    """Whether orjson's output may hold a float that json.dumps writes otherwise."""
    return (
        (b"null" in encoded and _NULL_VALUE.search(encoded) is not None)
        or b"0.0000" in encoded
        or (b"e-" in encoded and _SHORT_NEGATIVE_EXPONENT.search(encoded) is not None)
    )


def _refuse(value: Any) -> NoReturn:
    raise TypeError(type(value).__name__)


def _standard_dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
