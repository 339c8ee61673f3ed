"""Responses as proto3 JSON, from writers compiled once per message type.

``json_format.MessageToDict`` walks each message's descriptor on every call, in Python,
and on a page of twenty products with their packages that walk was the gateway's largest
cost. :func:`message_json` gives the same document (same values, same key order: set
fields by number, then the defaults of fields without presence) from a writer built once
per message type: a table from field to converter, so a call only reads the set fields and
converts their values.

The fast path covers what the contracts use: integers (64-bit ones as strings), booleans,
strings, bytes (base64), doubles, open enums (by name, unknown numbers as numbers),
nested messages, repeated and map fields, and ``Timestamp``, ``Duration`` and
``FieldMask``. Any other well-known type is written by ``json_format`` itself, and so is
a message type with a ``float`` or closed-enum field (``json_format`` rounds floats to
their shortest form and rejects unknown closed-enum values): the writer never guesses.
The tests compare it with ``json_format`` on every message type of the contracts.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from functools import cache
from typing import Any

from google.protobuf import descriptor, json_format, message

FieldDescriptor = descriptor.FieldDescriptor
Converter = Callable[[Any], Any]
Copy = None  # a value JSON writes as it is (strings, 32-bit integers)
Writer = Callable[[message.Message], dict[str, Any]]

# Well-known types whose JSON form is their own ToJsonString().
_STRING_FORMS = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)


def message_json(value: message.Message) -> dict[str, Any]:
    """The proto3 JSON object of value, fields with default values included."""
    return writer_for(value.DESCRIPTOR)(value)


def _json_format(value: message.Message) -> Any:
    return json_format.MessageToDict(value, always_print_fields_with_no_presence=True)


@cache
def writer_for(message_type: descriptor.Descriptor) -> Writer:
    """The writer of one message type (built on first use, then reused)."""
    if message_type.full_name.startswith("google.protobuf.") or not _fast_path_covers(message_type):
        return _json_format
    # (JSON name, attribute, converter or None to copy, written only when set) per field,
    # in declaration order.
    fields = [
        (field.json_name, field.name, _field_converter(field), field.has_presence)
        for field in message_type.fields
    ]

    def write(value: message.Message) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name, attribute, convert, has_presence in fields:
            if has_presence and not value.HasField(attribute):
                continue
            field_value = getattr(value, attribute)
            document[name] = field_value if convert is None else convert(field_value)
        return document

    return write


def _fast_path_covers(message_type: descriptor.Descriptor) -> bool:
    """False when a field needs json_format's own handling (floats, closed enums, extensions)."""
    if message_type.extension_ranges:
        return False
    for field in message_type.fields:
        if field.cpp_type == FieldDescriptor.CPPTYPE_FLOAT:
            return False
        if field.enum_type is not None and field.enum_type.is_closed:
            return False
    return True


def _map_entry(field: FieldDescriptor) -> descriptor.Descriptor | None:
    """The entry type of a map field; None for any other field."""
    entry = field.message_type
    return entry if entry is not None and entry.GetOptions().map_entry else None


def _field_converter(field: FieldDescriptor) -> Converter | None:
    entry = _map_entry(field)
    if entry is not None:
        bool_keys = entry.fields_by_name["key"].cpp_type == FieldDescriptor.CPPTYPE_BOOL
        value_of = _value_converter(entry.fields_by_name["value"]) or _same
        if bool_keys:
            return lambda entries: {("true" if key else "false"): value_of(entries[key]) for key in entries}
        return lambda entries: {str(key): value_of(entries[key]) for key in entries}
    element_of = _value_converter(field)
    if not field.is_repeated:
        return element_of
    if element_of is None:
        return list
    convert = element_of
    return lambda values: [convert(item) for item in values]


def _value_converter(field: FieldDescriptor) -> Converter | None:
    """How one value of field (one element, for a repeated field) is written."""
    message_type, enum_type = field.message_type, field.enum_type
    if message_type is not None:
        if message_type.full_name in _STRING_FORMS:
            return _json_string
        return _NestedWriter(message_type)
    if enum_type is not None:
        return _enum_converter(enum_type)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _base64
    return _SCALARS[field.cpp_type]


def _enum_converter(enum_type: descriptor.EnumDescriptor) -> Converter:
    """By name; a number this build does not know stays a number (proto3 enums are open)."""
    if enum_type.full_name == "google.protobuf.NullValue":
        return lambda value: None
    names = {number: value.name for number, value in enum_type.values_by_number.items()}
    return lambda value: names.get(value, value)


class _NestedWriter:
    """Writes a nested message; finds its writer on first use (a type may contain itself)."""

    __slots__ = ("message_type", "write")

    def __init__(self, message_type: descriptor.Descriptor) -> None:
        self.message_type = message_type
        self.write: Writer | None = None

    def __call__(self, value: message.Message) -> dict[str, Any]:
        if self.write is None:
            self.write = writer_for(self.message_type)
        return self.write(value)


def _same(value: Any) -> Any:
    return value


def _json_string(value: Any) -> str:
    text: str = value.ToJsonString()
    return text


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _double(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# Scalars by C++ type: 64-bit integers are strings in proto3 JSON (JavaScript's numbers
# cannot hold them); floats never get here (see _fast_path_covers).
_SCALARS: dict[int, Converter | None] = {
    FieldDescriptor.CPPTYPE_INT32: Copy,
    FieldDescriptor.CPPTYPE_UINT32: Copy,
    FieldDescriptor.CPPTYPE_STRING: Copy,
    FieldDescriptor.CPPTYPE_INT64: str,
    FieldDescriptor.CPPTYPE_UINT64: str,
    FieldDescriptor.CPPTYPE_BOOL: bool,
    FieldDescriptor.CPPTYPE_DOUBLE: _double,
}
