"""Destination rules: the one algorithm every checker follows, case by case."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from pasar.product.v1 import product_pb2
from pasar_kit.destinations import (
    DestinationViolation,
    destination_violations,
    mask_destination,
    pattern_problem,
)

PHONE = product_pb2.DestinationField(
    name="phone_number",
    label="Nomor HP",
    label_en="Phone number",
    pattern="08[0-9]{8,11}",
    min_length=10,
    max_length=13,
    prefixes=["0811", "0812", "0813"],
    example="081234567890",
)
USER_ID = product_pb2.DestinationField(
    name="user_id", label="User ID", label_en="User ID", pattern="[0-9]+", min_length=4,
    max_length=12, example="12345678",
)  # fmt: skip
ZONE_ID = product_pb2.DestinationField(
    name="zone_id", label="Zone ID", label_en="Zone ID", pattern="^[0-9]{4}$", min_length=4,
    max_length=4, example="2345",
)  # fmt: skip
CODE = product_pb2.DestinationField(
    name="code", label="Kode", label_en="Code", pattern=r"\d+", min_length=1, max_length=8,
    example="1",
)  # fmt: skip
GAME = [USER_ID, ZONE_ID]


@pytest.mark.parametrize(
    ("fields", "destination", "expected"),
    [
        pytest.param([PHONE], {"phone_number": "081234567890"}, [], id="valid"),
        pytest.param([], {}, [], id="no fields take an empty destination"),
        pytest.param(GAME, {"user_id": "12345678", "zone_id": "2345"}, [], id="two fields"),
        pytest.param([PHONE], {}, [("phone_number", "is required")], id="a missing field is required"),
        pytest.param(
            [PHONE],
            {"phone_number": "0812345"},
            [("phone_number", "must be 10 to 13 characters long")],
            id="too short",
        ),
        pytest.param(
            [PHONE],
            {"phone_number": "08123456789012"},
            [("phone_number", "must be 10 to 13 characters long")],
            id="too long",
        ),
        pytest.param(
            GAME,
            {"user_id": "12345678", "zone_id": "123"},
            [("zone_id", "must be exactly 4 characters long")],
            id="exact length",
        ),
        pytest.param(
            [PHONE],
            {"phone_number": "085712345678"},
            [("phone_number", "must start with one of 0811, 0812, 0813")],
            id="another operator's prefix",
        ),
        pytest.param(
            [PHONE],
            {"phone_number": "0812345678ab"},
            [("phone_number", "must match the pattern 08[0-9]{8,11}")],
            id="pattern",
        ),
        pytest.param(
            [PHONE],
            {"phone_number": "0812x"},
            [("phone_number", "must be 10 to 13 characters long")],
            id="length is checked before prefix and pattern",
        ),
        pytest.param(
            [PHONE],
            {"phone_number": "0857xxxxxxxx"},
            [("phone_number", "must start with one of 0811, 0812, 0813")],
            id="prefix is checked before pattern",
        ),
        pytest.param(
            GAME,
            {"user_id": "1234 5678", "zone_id": "23456"},
            [
                ("user_id", "must match the pattern [0-9]+"),
                ("zone_id", "must be exactly 4 characters long"),
            ],
            id="fields in declared order",
        ),
        pytest.param(
            [USER_ID],
            {"zeta": "1", "user_id": "x", "alpha": "2"},
            [
                ("user_id", "must be 4 to 12 characters long"),
                ("alpha", "is not a destination field of this product"),
                ("zeta", "is not a destination field of this product"),
            ],
            id="unknown keys after the fields, sorted",
        ),
        pytest.param(
            [],
            {"phone_number": "081234567890"},
            [("phone_number", "is not a destination field of this product")],
            id="a product without fields refuses any key",
        ),
        pytest.param(
            [USER_ID],
            {"user_id": "١٢٣٤٥"},
            [("user_id", "must match the pattern [0-9]+")],
            id="non-ASCII digits are not digits",
        ),
        pytest.param(
            [CODE],
            {"code": "١٢٣"},
            [("code", r"must match the pattern \d+")],
            id="backslash d matches ASCII digits only, as in RE2 and JavaScript",
        ),
        pytest.param(
            [USER_ID],
            {"user_id": "1234\n"},
            [("user_id", "must match the pattern [0-9]+")],
            id="anchored at the very end, not before a trailing newline",
        ),
        pytest.param(
            [ZONE_ID],
            {"zone_id": " 234"},
            [("zone_id", "must match the pattern ^[0-9]{4}$")],
            id="values are not trimmed",
        ),
    ],
)
def test_destination_violations(
    fields: list[product_pb2.DestinationField],
    destination: dict[str, str],
    expected: list[tuple[str, str]],
) -> None:
    assert [
        (violation.field, violation.description) for violation in destination_violations(fields, destination)
    ] == expected


def test_a_violation_is_a_frozen_value() -> None:
    violation = DestinationViolation("phone_number", "is required", "missing")
    with pytest.raises(dataclasses.FrozenInstanceError):
        violation.field = "other"  # type: ignore[misc]
    assert violation == DestinationViolation("phone_number", "is required", "missing")


@pytest.mark.parametrize(
    ("destination", "masked"),
    [
        ({"phone_number": "081234567890"}, {"phone_number": "*********890"}),
        ({"user_id": "12345678", "zone_id": "2345"}, {"user_id": "*****678", "zone_id": "*345"}),
        ({"code": "123"}, {"code": "***"}),
        ({"code": "12"}, {"code": "**"}),
        ({"code": ""}, {"code": ""}),
        ({}, {}),
    ],
)
def test_mask_destination_keeps_the_last_three_characters(
    destination: dict[str, str], masked: dict[str, str]
) -> None:
    assert mask_destination(destination) == masked


@pytest.mark.parametrize(
    "pattern",
    [
        "08[0-9]{8,11}",
        "^[0-9]{11}$",
        "[0-9]{11}|[0-9]{12}",
        "(?:53|54)[0-9]{9}",
        "([0-9]{4})-([0-9]{4})",
        r"\d{4,12}",
        r"[A-Za-z0-9_\-\.]{3,20}",
        r"\w+",
        "[^ ]+",
        "[0-9]+?",
        r"\++[0-9]",
        "[a-z]{2}-?[0-9]*",
        "[0-9]{1000}",
        "[0-9]{3,}",
    ],
)
def test_portable_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem_mentions"),
    [
        ("[0-9", "is not a regular expression Python can read"),
        ("08(", "is not a regular expression Python can read"),
        ("*abc", "is not a regular expression Python can read"),
        ("(?=08)[0-9]+", "(? group other than (?:"),
        ("(?!08)[0-9]+", "(? group other than (?:"),
        ("(?<=0)8", "(? group other than (?:"),
        ("(?<!0)8", "(? group other than (?:"),
        ("(?P<number>[0-9]+)", "(? group other than (?:"),
        ("(?<number>[0-9]+)", "(? group other than (?:"),
        ("(?i)abc", "(? group other than (?:"),
        ("(?i:abc)", "(? group other than (?:"),
        ("(?>abc)", "(? group other than (?:"),
        ("([0-9])\\1", "backreference"),
        ("(?P<d>[0-9])(?P=d)", "(? group other than (?:"),
        (r"\s+", r"the escape \s"),
        (r"\bword", r"the escape \b"),
        (r"\A08", r"the escape \A"),
        (r"[0-9]+\Z", r"the escape \Z"),
        (r"\p{L}", r"the escape \p"),
        ("[0-9]++", "possessive"),
        ("[0-9]{2}+", "possessive"),
        ("[0-9]?+", "possessive"),
        ("[0-9]{,4}", "{,n}"),
        ("[0-9]{1001}", "more than 1000"),
        ("[0-9]{2,1001}", "more than 1000"),
        ("[]a]", "opens a character class with ]"),
        ("[^]a]", "opens a character class with ]"),
        ("[[a]]", "[ inside a character class"),
        ("[a--b]", "-- inside a character class"),
        ("[a&&b]", "&& inside a character class"),
    ],
)
def test_patterns_outside_the_portable_subset_are_refused(pattern: str, problem_mentions: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None
    assert problem_mentions in problem


# The one table of cases every checker is tested with (this module, svc-fulfillment's
# internal/destinations in Go, the storefront's src/destinations.ts): the Python check
# must give the same answers, field for field and rule for rule.
SHARED_CASES = Path(__file__).resolve().parents[3] / "contracts" / "testdata" / "destination_cases.json"


def shared_cases() -> list[Any]:
    table = json.loads(SHARED_CASES.read_text("utf-8"))
    field_sets = {
        name: [json_format.ParseDict(field, product_pb2.DestinationField()) for field in fields]
        for name, fields in table["field_sets"].items()
    }
    return [
        pytest.param(field_sets[case["fields"]], case["destination"], case["violations"], id=case["name"])
        for case in table["cases"]
    ]


@pytest.mark.parametrize(("fields", "destination", "expected"), shared_cases())
def test_the_shared_table_of_cases_gets_the_same_answers(
    fields: list[product_pb2.DestinationField], destination: dict[str, str], expected: list[dict[str, str]]
) -> None:
    assert [
        {"field": violation.field, "rule": violation.rule}
        for violation in destination_violations(fields, destination)
    ] == expected


def test_the_shared_table_covers_every_rule() -> None:
    table = json.loads(SHARED_CASES.read_text("utf-8"))
    rules = {violation["rule"] for case in table["cases"] for violation in case["violations"]}
    assert rules == {"missing", "min_length", "max_length", "prefixes", "pattern", "unknown"}
