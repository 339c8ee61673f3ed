"""The contracts' validation rules, checked with protovalidate against the shared cases.

The Go and TypeScript tests check the same cases (testdata/validation_cases.json) with
protovalidate-go and protovalidate-es, so every language enforces the same rules.
"""

from __future__ import annotations

import protovalidate
import pytest
from cases import ValidationCase, validation_cases


def field_path(violation: protovalidate.Violation) -> str:
    """The violation's field as ``lines[0].quantity`` or ``destination[phone_number]`` (a map
    key in brackets, unquoted, as the services write it); empty for a rule on the message."""
    path = ""
    elements = violation.proto.field.elements if violation.proto.field else []
    for element in elements:
        path += f".{element.field_name}" if path else element.field_name
        if element.subscript is not None:
            path += f"[{element.subscript.value}]"
    return path


CASES = validation_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_violations_match_the_shared_cases(case: ValidationCase) -> None:
    found = sorted((field_path(v), v.proto.rule_id) for v in protovalidate.collect_violations(case.request))
    assert found == sorted(case.violations)
