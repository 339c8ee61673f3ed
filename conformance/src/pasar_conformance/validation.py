"""The contracts' shared validation cases (contracts/testdata/validation_cases.json).

The file is the kit's package data (a link to the one copy in contracts/testdata, copied
into the wheel when the kit is built). Each case is a request message as proto3 JSON and
the violations protovalidate reports for it: ``[field path, rule id]``, the path empty for
a rule on the whole message. Over gRPC a case with violations must be answered
INVALID_ARGUMENT with a BadRequest naming each field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from google.protobuf import json_format, message

from pasar_conformance.contract import message_class

CASES_FILE = "validation_cases.json"


@dataclass(frozen=True)
class ValidationCase:
    name: str
    message_name: str
    json: dict[str, Any]
    violations: tuple[tuple[str, str], ...]

    @property
    def fields(self) -> list[str]:
        """The field paths the case's violations name (message-level rules name none)."""
        return sorted({field for field, _rule in self.violations if field})

    def request(self) -> message.Message:
        return json_format.ParseDict(self.json, message_class(self.message_name)())


@cache
def validation_cases() -> tuple[ValidationCase, ...]:
    document: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath(CASES_FILE).read_text(encoding="utf-8")
    )
    return tuple(
        ValidationCase(
            case["name"],
            case["message"],
            case["json"],
            tuple((field, rule) for field, rule in case["violations"]),
        )
        for case in document["cases"]
    )
