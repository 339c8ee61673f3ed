"""Destination rules: whether a shopper's destination fits a product's destination fields.

One algorithm, kept alike in every language that checks destinations (this module, the Go
fulfillment service, the storefront): a destination map is valid when its keys are
exactly the fields' names, and each value has min_length..max_length characters
(Unicode code points), starts with one of the field's prefixes when it has any, and fully
matches the field's pattern (anchored here, whether or not it has ^ and $). Checked in
that order; the first broken rule of each field is reported, fields in declared order,
then unknown keys sorted, so every checker names the same first problem.

Patterns are written in the portable subset the contract names (character classes,
groups, alternation, counted repetition) so that RE2, Python and JavaScript read them
alike: :func:`pattern_problem` refuses the rest when a product is saved. Patterns are
matched with ``re.ASCII``, because Python's ``\\d`` and ``\\w`` otherwise accept
non-ASCII digits and letters that RE2 and JavaScript do not.

Destinations are personal data (phone numbers, meter numbers): logs and traces carry
:func:`mask_destination`'s copy only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pasar.product.v1 import product_pb2

MASK_KEEPS = 3
"""How many trailing characters of a value a masked destination keeps."""

# Escapes that RE2, Python (with re.ASCII) and JavaScript read alike: the ASCII digit and
# word classes, and a backslash before a character that is syntax in all three.
_PORTABLE_LETTER_ESCAPES = frozenset("dDwW")
_PORTABLE_ESCAPED_SYNTAX = frozenset("\\^$.|?*+()[]{}/-")
_QUANTIFIER_ENDS = frozenset("*+?}")
# A pattern's tokens: an escape, a whole character class, or one character.
_TOKEN = re.compile(r"\\.?|\[\^?(?:\\.?|[^\]\\])*\]?|.", re.DOTALL)
# A character class's tokens: an escape, a doubled character, or one character.
_CLASS_TOKEN = re.compile(r"\\.?|(.)\1|.", re.DOTALL)
# A counted repetition, and the largest count RE2 accepts.
_COUNT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
MAX_REPEAT = 1000
# Doubled characters that newer regular expression syntaxes read as set operations.
_SET_OPERATORS = frozenset({"--", "&&", "||", "~~"})


@dataclass(frozen=True)
class DestinationViolation:
    """One broken rule: the field (or unknown key), what its value must be (in English), and
    the rule's id, the same in every language: missing, min_length, max_length, prefixes,
    pattern or unknown (contracts/testdata/destination_cases.json)."""

    field: str
    description: str
    rule: str


def destination_violations(
    fields: Sequence[product_pb2.DestinationField], destination: Mapping[str, str]
) -> list[DestinationViolation]:
    """The destination's problems against fields, first broken rule per field; empty if valid.

    A product without destination fields takes an empty destination only.
    """
    violations: list[DestinationViolation] = []
    names = {field.name for field in fields}
    for field in fields:
        if field.name not in destination:
            violations.append(DestinationViolation(field.name, "is required", "missing"))
            continue
        problem = _value_problem(field, destination[field.name])
        if problem is not None:
            description, rule = problem
            violations.append(DestinationViolation(field.name, description, rule))
    for key in sorted(set(destination) - names):
        violations.append(DestinationViolation(key, "is not a destination field of this product", "unknown"))
    return violations


def _value_problem(field: product_pb2.DestinationField, value: str) -> tuple[str, str] | None:
    """The first rule value breaks (length, prefix, pattern): its description and rule id."""
    if len(value) < field.min_length:
        return _length_rule(field.min_length, field.max_length), "min_length"
    if len(value) > field.max_length:
        return _length_rule(field.min_length, field.max_length), "max_length"
    prefixes = list(field.prefixes)
    if prefixes and not value.startswith(tuple(prefixes)):
        return "must start with one of " + ", ".join(prefixes), "prefixes"
    try:
        matched = re.fullmatch(field.pattern, value, re.ASCII) is not None
    except re.error:
        return "cannot be checked: the field's pattern is not a valid regular expression", "pattern"
    if not matched:
        return f"must match the pattern {field.pattern}", "pattern"
    return None


def _length_rule(min_length: int, max_length: int) -> str:
    if min_length == max_length:
        return f"must be exactly {min_length} characters long"
    return f"must be {min_length} to {max_length} characters long"


def mask_destination(destination: Mapping[str, str]) -> dict[str, str]:
    """A copy for logs: each value's last 3 characters kept, the rest starred.

    A value of 3 characters or fewer is starred whole ("081234567890" -> "*********890",
    "12" -> "**").
    """
    return {key: _mask(value) for key, value in destination.items()}


def _mask(value: str) -> str:
    if len(value) <= MASK_KEEPS:
        return "*" * len(value)
    return "*" * (len(value) - MASK_KEEPS) + value[-MASK_KEEPS:]


def pattern_problem(pattern: str) -> str | None:
    """Why pattern cannot be a destination field's pattern, or None when it can.

    Refused: what RE2 or JavaScript would read otherwise or not at all, and what Python's
    re cannot compile: lookarounds, backreferences, named groups, inline flags and
    other ``(?`` groups besides ``(?:``, escapes other than \\d \\D \\w \\W and escaped
    syntax characters, possessive quantifiers, ``{,n}``, counts above 1000, a class opening
    with ``]``, and
    ``[``, ``--``, ``&&``, ``||`` or ``~~`` inside a class.
    """
    unportable = _unportable_construct(pattern)
    if unportable is not None:
        return unportable
    try:
        re.compile(pattern, re.ASCII)
    except re.error as error:
        return f"is not a regular expression Python can read: {error}"
    return None


def _unportable_construct(pattern: str) -> str | None:
    """The first construct outside the portable subset, reading pattern token by token."""
    previous = ""
    for token in _TOKEN.finditer(pattern):
        text = token.group()
        if text.startswith("\\"):
            problem = _escape_problem(text)
        elif text.startswith("["):
            problem = _class_problem(text)
        else:
            problem = _syntax_problem(pattern, token.start(), previous)
        if problem is not None:
            return problem
        previous = text
    return None


def _escape_problem(escape: str) -> str | None:
    escaped = escape[1:]
    if escaped.isdigit():
        return f"uses a backreference or octal escape (\\{escaped}), which is not portable"
    if escaped in _PORTABLE_LETTER_ESCAPES or escaped in _PORTABLE_ESCAPED_SYNTAX:
        return None
    return (
        f"uses the escape \\{escaped}; only \\d \\D \\w \\W and escaped syntax characters "
        "read alike in RE2, Python and JavaScript"
    )


def _class_problem(character_class: str) -> str | None:
    if character_class in ("[]", "[^]"):
        return "opens a character class with ]; escape it as \\]"
    for token in _CLASS_TOKEN.finditer(character_class, 1):
        text = token.group()
        if text.startswith("\\"):
            problem = _escape_problem(text)
            if problem is not None:
                return problem
        elif text == "[":
            return "uses [ inside a character class; escape it as \\["
        elif text in _SET_OPERATORS:
            return f"uses {text} inside a character class, which is not portable"
    return None


def _syntax_problem(pattern: str, index: int, previous: str) -> str | None:
    if pattern.startswith("(?", index) and not pattern.startswith("(?:", index):
        return "uses a (? group other than (?: (a lookaround, named group or flag), which is not portable"
    if pattern.startswith("{,", index):
        return "uses {,n}, which RE2 and JavaScript read as text; write {0,n}"
    count = _COUNT.match(pattern, index)
    if count is not None and max(int(number) for number in count.groups() if number) > MAX_REPEAT:
        return f"repeats more than {MAX_REPEAT} times, which RE2 refuses"
    if pattern[index] == "+" and previous in _QUANTIFIER_ENDS:
        return "uses a possessive quantifier, which is not portable"
    return None
