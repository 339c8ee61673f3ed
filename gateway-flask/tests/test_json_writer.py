"""The compiled JSON writer answers exactly what json_format answers, for every message type.

Random messages (seeded, so a failure reproduces) of every message type in the contracts,
and of a test-only type that holds what the contracts do not use yet (floats, doubles,
bytes, maps, oneofs, recursion, every well-known type), are written both ways and compared.
"""

from __future__ import annotations

import json
import math
import random
import string
from collections.abc import Iterator
from typing import Any, cast

import pytest
from google.protobuf import (
    any_pb2,
    descriptor,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    json_format,
    message,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)

from pasar.common.v1 import money_pb2
from pasar_gateway.bindings import service_modules
from pasar_gateway.json_writer import message_json

FieldDescriptor = descriptor.FieldDescriptor
SAMPLES_PER_TYPE = 40


def contract_message_types() -> list[descriptor.Descriptor]:
    found: dict[str, descriptor.Descriptor] = {}

    def visit(message_type: descriptor.Descriptor) -> None:
        if message_type.full_name in found or message_type.GetOptions().map_entry:
            return
        found[message_type.full_name] = message_type
        for nested in message_type.nested_types:
            visit(nested)
        for field in message_type.fields:
            if field.message_type is not None and field.message_type.full_name.startswith("pasar."):
                visit(field.message_type)

    for module in service_modules():
        for message_type in module.DESCRIPTOR.message_types_by_name.values():
            visit(message_type)
    return sorted(found.values(), key=lambda found_type: found_type.full_name)


def kitchen_sink_type() -> descriptor.Descriptor:
    """A proto3 message type with every kind of field the writer must handle."""
    pool = descriptor_pool.Default()
    for dependency in (
        duration_pb2,
        empty_pb2,
        field_mask_pb2,
        timestamp_pb2,
        wrappers_pb2,
        any_pb2,
        struct_pb2,
    ):
        assert pool.FindFileByName(dependency.DESCRIPTOR.name)  # loaded by the import
    name = "pasar.testing.v1.KitchenSink"
    try:
        return pool.FindMessageTypeByName(name)
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto(
        name="pasar/testing/v1/kitchen_sink.proto",
        package="pasar.testing.v1",
        syntax="proto3",
        dependency=[
            "google/protobuf/timestamp.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/field_mask.proto",
            "google/protobuf/struct.proto",
            "google/protobuf/wrappers.proto",
            "google/protobuf/any.proto",
            "google/protobuf/empty.proto",
        ],
    )
    proto.enum_type.add(
        name="Color", value=[{"name": "COLOR_UNSPECIFIED", "number": 0}, {"name": "RED", "number": 1}]
    )
    # A float field sends its whole message to json_format (which rounds floats its own way).
    floats = proto.message_type.add(name="Floats")
    floats.field.add(
        name="a_float", number=1, type=FieldDescriptor.TYPE_FLOAT, label=FieldDescriptor.LABEL_OPTIONAL
    )
    floats.field.add(
        name="a_double", number=2, type=FieldDescriptor.TYPE_DOUBLE, label=FieldDescriptor.LABEL_OPTIONAL
    )
    sink = proto.message_type.add(name="KitchenSink")
    types = FieldDescriptor
    scalars = [
        ("a_double", types.TYPE_DOUBLE),
        ("an_int64", types.TYPE_INT64),
        ("a_uint64", types.TYPE_UINT64),
        ("a_sint32", types.TYPE_SINT32),
        ("a_fixed64", types.TYPE_FIXED64),
        ("a_uint32", types.TYPE_UINT32),
        ("a_bool", types.TYPE_BOOL),
        ("a_string", types.TYPE_STRING),
        ("some_bytes", types.TYPE_BYTES),
    ]
    number = 0
    for field_name, field_type in scalars:
        number += 1
        sink.field.add(name=field_name, number=number, type=field_type, label=types.LABEL_OPTIONAL)
        number += 1
        sink.field.add(name=f"many_{field_name}", number=number, type=field_type, label=types.LABEL_REPEATED)
    messages = [
        ("when", ".google.protobuf.Timestamp"),
        ("how_long", ".google.protobuf.Duration"),
        ("mask", ".google.protobuf.FieldMask"),
        ("free_form", ".google.protobuf.Struct"),
        ("any_value", ".google.protobuf.Value"),
        ("wrapped", ".google.protobuf.Int64Value"),
        ("packed", ".google.protobuf.Any"),
        ("nothing", ".google.protobuf.Empty"),
        ("child", ".pasar.testing.v1.KitchenSink"),
        ("floats", ".pasar.testing.v1.Floats"),
    ]
    for field_name, type_name in messages:
        number += 1
        sink.field.add(
            name=field_name,
            number=number,
            type=types.TYPE_MESSAGE,
            type_name=type_name,
            label=types.LABEL_OPTIONAL,
        )
    number += 1
    sink.field.add(
        name="children",
        number=number,
        type=types.TYPE_MESSAGE,
        type_name=".pasar.testing.v1.KitchenSink",
        label=types.LABEL_REPEATED,
    )
    number += 1
    sink.field.add(
        name="color",
        number=number,
        type=types.TYPE_ENUM,
        type_name=".pasar.testing.v1.Color",
        label=types.LABEL_OPTIONAL,
    )
    number += 1
    sink.field.add(
        name="colors",
        number=number,
        type=types.TYPE_ENUM,
        type_name=".pasar.testing.v1.Color",
        label=types.LABEL_REPEATED,
    )
    # A real oneof.
    sink.oneof_decl.add(name="choice")
    for field_name, field_type in (("chosen_text", types.TYPE_STRING), ("chosen_number", types.TYPE_INT64)):
        number += 1
        sink.field.add(
            name=field_name, number=number, type=field_type, label=types.LABEL_OPTIONAL, oneof_index=0
        )
    # proto3 optional: a synthetic oneof, declared after the real ones.
    sink.oneof_decl.add(name="_maybe")
    number += 1
    sink.field.add(
        name="maybe",
        number=number,
        type=types.TYPE_INT32,
        label=types.LABEL_OPTIONAL,
        oneof_index=1,
        proto3_optional=True,
    )
    for key_type, value_type, field_name, value_type_name in (
        (types.TYPE_STRING, types.TYPE_MESSAGE, "by_name", ".pasar.testing.v1.KitchenSink"),
        (types.TYPE_BOOL, types.TYPE_INT64, "by_flag", ""),
        (types.TYPE_INT32, types.TYPE_STRING, "by_number", ""),
        (types.TYPE_UINT64, types.TYPE_ENUM, "color_by_id", ".pasar.testing.v1.Color"),
    ):
        entry_name = "".join(part.title() for part in field_name.split("_")) + "Entry"
        entry = sink.nested_type.add(name=entry_name)
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=key_type, label=types.LABEL_OPTIONAL)
        value = entry.field.add(name="value", number=2, type=value_type, label=types.LABEL_OPTIONAL)
        if value_type_name:
            value.type_name = value_type_name
        number += 1
        sink.field.add(
            name=field_name,
            number=number,
            type=types.TYPE_MESSAGE,
            type_name=f".pasar.testing.v1.KitchenSink.{entry_name}",
            label=types.LABEL_REPEATED,
        )
    pool.Add(proto)
    return pool.FindMessageTypeByName(name)


class RandomFiller:
    """Sets a random selection of a message's fields to random, sometimes extreme, values."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def text(self) -> str:
        alphabet = string.ascii_letters + string.digits + " \"\\/<>&'\n\tçé漢字🙂\u2028"
        return "".join(self.random.choice(alphabet) for _ in range(self.random.randint(0, 12)))

    def scalar(self, field: FieldDescriptor) -> Any:
        chance = self.random.random
        types = FieldDescriptor
        if field.enum_type is not None:
            numbers = [value.number for value in field.enum_type.values]
            return self.random.choice([*numbers, 99]) if chance() < 0.9 else numbers[0]
        limits = {
            types.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
            types.CPPTYPE_UINT32: (0, 2**32 - 1),
            types.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
            types.CPPTYPE_UINT64: (0, 2**64 - 1),
        }
        if field.cpp_type in limits:
            low, high = limits[field.cpp_type]
            return self.random.choice([0, 1, -1 if low else 2, low, high, self.random.randint(low, high)])
        if field.cpp_type == types.CPPTYPE_BOOL:
            return chance() < 0.5
        if field.cpp_type in (types.CPPTYPE_DOUBLE, types.CPPTYPE_FLOAT):
            return self.random.choice(
                [
                    0.0,
                    -0.0,
                    1.5,
                    0.1,
                    1e300 if field.cpp_type == types.CPPTYPE_DOUBLE else 3.4e38,
                    math.inf,
                    -math.inf,
                    math.nan,
                ]
            )
        if field.type == types.TYPE_BYTES:
            return bytes(self.random.randrange(256) for _ in range(self.random.randint(0, 9)))
        return self.text()

    def fill(self, target: message.Message, depth: int = 0) -> message.Message:
        message_type = cast(descriptor.Descriptor, target.DESCRIPTOR)
        for field in message_type.fields:
            if self.random.random() < 0.3:
                continue  # left unset: its default must be written as json_format writes it
            self._fill_field(target, field, depth)
        return target

    def _fill_field(self, target: message.Message, field: FieldDescriptor, depth: int) -> None:
        container: Any = getattr(target, field.name)
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
            for _ in range(self.random.randint(0, 3)):
                key = self.scalar(key_field)
                if value_field.message_type is not None:
                    if depth < 2:
                        self.fill(container[key], depth + 1)
                else:
                    container[key] = self.scalar(value_field)
            return
        if field.is_repeated:
            for _ in range(self.random.randint(0, 3)):
                if field.message_type is not None:
                    if depth < 2:
                        self._fill_message(container.add(), depth + 1)
                else:
                    container.append(self.scalar(field))
            return
        if field.message_type is not None:
            if depth < 2:
                self._fill_message(getattr(target, field.name), depth + 1)
            return
        setattr(target, field.name, self.scalar(field))

    def _fill_message(self, target: message.Message, depth: int) -> None:
        full_name = target.DESCRIPTOR.full_name
        if full_name == "google.protobuf.Timestamp":
            target.FromSeconds(self.random.randint(0, 4_102_444_800))  # type: ignore[attr-defined]
            target.nanos = self.random.choice([0, 1_000_000, 123_456_000, 999_999_999])  # type: ignore[attr-defined]
        elif full_name == "google.protobuf.Duration":
            target.seconds = self.random.randint(-10_000, 10_000)  # type: ignore[attr-defined]
        elif full_name == "google.protobuf.FieldMask":
            target.paths.extend(self.random.sample(["display_name", "price.amount", "stock_available"], 2))  # type: ignore[attr-defined]
        elif full_name == "google.protobuf.Struct":
            target.update({"a": 1.5, "b": [True, None, "x"], "c": {"d": "e"}})  # type: ignore[attr-defined]
        elif full_name == "google.protobuf.Value":
            target.string_value = self.text()  # type: ignore[attr-defined]
        elif full_name == "google.protobuf.Any":
            target.Pack(money_pb2.Money(currency_code="IDR", amount=self.random.randint(0, 10**12)))  # type: ignore[attr-defined]
        else:
            self.fill(target, depth)


def samples(message_type: descriptor.Descriptor) -> Iterator[message.Message]:
    message_class = message_factory.GetMessageClass(message_type)
    yield message_class()  # every field unset
    for seed in range(SAMPLES_PER_TYPE):
        yield RandomFiller(hash((message_type.full_name, seed)) & 0xFFFF_FFFF).fill(message_class())


def expected(value: message.Message) -> Any:
    return json_format.MessageToDict(value, always_print_fields_with_no_presence=True)


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON documents (NaN equals NaN once both are written as "NaN")."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


@pytest.mark.parametrize("message_type", contract_message_types(), ids=lambda found: found.full_name)
def test_every_contract_message_is_written_as_json_format_writes_it(
    message_type: descriptor.Descriptor,
) -> None:
    for sample in samples(message_type):
        assert same_json(message_json(sample), expected(sample)), sample


def test_every_kind_of_field_is_written_as_json_format_writes_it() -> None:
    for sample in samples(kitchen_sink_type()):
        assert same_json(message_json(sample), expected(sample)), sample


def test_keys_come_in_declaration_order_whatever_the_values() -> None:
    empty = money_pb2.Money()
    full = money_pb2.Money(currency_code="IDR", amount=5)
    assert list(message_json(empty)) == list(message_json(full)) == ["currencyCode", "amount"]
    # json_format puts a field that holds its default last:
    assert list(expected(money_pb2.Money(amount=5))) == ["amount", "currencyCode"]


def test_well_known_types_at_the_top_are_written_by_json_format() -> None:
    packed = any_pb2.Any()
    packed.Pack(money_pb2.Money(currency_code="IDR", amount=1))
    struct = struct_pb2.Struct()
    struct.update({"x": [1, "y"]})
    for value in (packed, struct):
        assert message_json(value) == expected(value)


def test_the_contracts_and_the_test_type_take_the_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only well-known types and float-holding types may reach json_format."""
    real = json_format.MessageToDict
    allowed = ("google.protobuf.", "pasar.testing.v1.Floats")

    def guarded(value: message.Message, **options: Any) -> Any:
        assert value.DESCRIPTOR.full_name.startswith(allowed), value.DESCRIPTOR.full_name
        return real(value, **options)

    monkeypatch.setattr(json_format, "MessageToDict", guarded)
    for message_type in [*contract_message_types(), kitchen_sink_type()]:
        for sample in samples(message_type):
            message_json(sample)
