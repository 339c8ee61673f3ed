"""The gateway's JSON encoder (orjson) writes, byte for byte, what json.dumps wrote before it.

Compared on every route's example, on random messages of every contract message type (and
of the test-only type holding floats, doubles, NaN, maps and well-known types), and on the
values where orjson differs from the standard library: floats, NaN and infinities, integers
beyond 64 bits, keys that are not strings, subclasses of the JSON types.
"""

from __future__ import annotations

import collections
import datetime
import enum
import json
import math
import random
import struct
from typing import Any

import pytest
from google.protobuf import descriptor
from test_json_writer import contract_message_types, kitchen_sink_type, samples

from pasar_gateway.bindings import contract_bindings
from pasar_gateway.examples import method_example
from pasar_gateway.json_writer import message_json
from pasar_gateway.transcoding import dumps, response_document


def standard(document: Any) -> bytes:
    """What the gateway wrote before orjson."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def test_every_route_example_is_written_as_before() -> None:
    compared = 0
    for binding in contract_bindings():
        example = method_example(binding.method)
        if example is None:
            continue
        document = response_document(binding, example.response)
        assert dumps(document) == standard(document), binding.operation_id
        compared += 1
    assert compared > 10


@pytest.mark.parametrize(
    "message_type", [*contract_message_types(), kitchen_sink_type()], ids=lambda found: found.full_name
)
def test_every_message_type_is_written_as_before(message_type: descriptor.Descriptor) -> None:
    for sample in samples(message_type):
        document = message_json(sample)
        assert dumps(document) == standard(document), sample


def random_doubles(count: int) -> list[float]:
    source = random.Random(17)
    values = [struct.unpack("<d", source.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(count)]
    return [value for value in values if not math.isnan(value)]  # NaN: the test above has it


@pytest.mark.parametrize(
    "value",
    [
        1e-5,  # orjson alone: 0.00001
        -3.936145966292681e-08,  # orjson alone: -3.936145966292681e-8
        1e16,
        0.1,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        float("nan"),  # orjson alone: null
        float("inf"),
        -float("inf"),
        2**64,  # orjson refuses integers beyond 64 bits
        -(2**63) - 1,
        10**40,
    ],
)
def test_numbers_orjson_writes_otherwise_are_written_as_before(value: Any) -> None:
    for document in (value, [1, value], {"a": value, "b": "x"}):
        assert dumps(document) == standard(document)


def test_every_double_is_written_as_before() -> None:
    for value in random_doubles(20_000):
        assert dumps({"v": value}) == standard({"v": value}), value


class Text(str):
    pass


class Level(enum.IntEnum):
    HIGH = 2


@pytest.mark.parametrize(
    "document",
    [
        {1: "a", False: "b", None: "c", 2.5: "d"},  # keys that are not strings
        {"level": Level.HIGH, "name": Text("x")},  # subclasses of the JSON types
        collections.OrderedDict(b=1, a=2),
        ("a", 1),
        {"text": "null, 0.00001 and 1e-5 as text", "none": None},
        {"text": 'ÿ \u2028 \x7f \x00 \x1f " \\ / 😀 Rp 10.000'},
    ],
    ids=["non-string keys", "subclasses", "ordered dict", "tuple", "float-like text", "escapes"],
)
def test_other_values_orjson_treats_otherwise_are_written_as_before(document: Any) -> None:
    assert dumps(document) == standard(document)


@pytest.mark.parametrize(
    "document", [datetime.datetime(2027, 1, 1), {"x": object()}, {(1, 2): "tuple key"}], ids=repr
)
def test_what_json_dumps_refuses_is_refused(document: Any) -> None:
    with pytest.raises(TypeError):
        standard(document)
    with pytest.raises(TypeError):
        dumps(document)
