"""The shared binary fixture decodes to the expected message and JSON in Python.

contracts/go/contracts_test.go and contracts/ts/test/contracts.test.ts decode the same
bytes and compare with the same JSON file.
"""

from __future__ import annotations

import json

from cases import TESTDATA
from fixtures import FIXTURE_STEM, create_order_response, fixture_json
from google.protobuf import json_format

from pasar.order.v1 import order_service_pb2


def test_fixture_bytes_decode_to_the_expected_message() -> None:
    data = (TESTDATA / f"{FIXTURE_STEM}.binpb").read_bytes()
    decoded = order_service_pb2.CreateOrderResponse.FromString(data)
    assert decoded == create_order_response()
    assert decoded.payment.WhichOneof("instructions") == "qris"
    assert decoded.order.total.amount == 44_308


def test_fixture_json_is_the_decoded_message_in_proto3_json() -> None:
    data = (TESTDATA / f"{FIXTURE_STEM}.binpb").read_bytes()
    decoded = order_service_pb2.CreateOrderResponse.FromString(data)
    expected = json.loads((TESTDATA / f"{FIXTURE_STEM}.json").read_text())
    assert json.loads(json_format.MessageToJson(decoded)) == expected
    assert (TESTDATA / f"{FIXTURE_STEM}.json").read_text() == fixture_json(decoded)


def test_fixture_bytes_are_the_canonical_encoding() -> None:
    data = (TESTDATA / f"{FIXTURE_STEM}.binpb").read_bytes()
    assert create_order_response().SerializeToString(deterministic=True) == data
