"""Loads the cross-language fixtures under contracts/testdata/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format, message, symbol_database

# Importing the service modules registers every contract message in the default pool.
from pasar.fulfillment.v1 import fulfillment_service_pb2  # noqa: F401
from pasar.order.v1 import order_service_pb2  # noqa: F401
from pasar.payment.v1 import payment_service_pb2  # noqa: F401
from pasar.product.v1 import product_admin_service_pb2, product_service_pb2  # noqa: F401

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


@dataclass(frozen=True)
class ValidationCase:
    name: str
    request: message.Message
    violations: list[tuple[str, str]]


def validation_cases() -> list[ValidationCase]:
    document: dict[str, Any] = json.loads((TESTDATA / "validation_cases.json").read_text())
    cases = []
    for case in document["cases"]:
        message_class = symbol_database.Default().GetSymbol(case["message"])
        request = json_format.ParseDict(case["json"], message_class())
        violations = [(field, rule) for field, rule in case["violations"]]
        cases.append(ValidationCase(case["name"], request, violations))
    return cases
