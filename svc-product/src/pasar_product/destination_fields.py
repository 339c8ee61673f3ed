"""What the catalog checks in the destination fields an administrator declares, beyond the
contract's own rules (protovalidate has checked lengths, names, unique names and
min_length <= max_length before a handler runs).

A field has to be checkable the same way by every service and the storefront: its pattern
in the portable subset (:func:`pasar_kit.destinations.pattern_problem`), no prefix longer
than any value may be, and an example that passes the field's own rules, since shoppers
see it as the placeholder and the sandbox biller delivers to it. Every problem is named
by its path (``product.destination_fields[0].pattern``), all at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from pasar.product.v1 import product_pb2
from pasar_kit.destinations import destination_violations, pattern_problem


def destination_field_problems(
    fields: Sequence[product_pb2.DestinationField], path: str
) -> list[tuple[str, str]]:
    """(path, why) for every problem of fields, in their order; empty when all can be used."""
    problems: list[tuple[str, str]] = []
    for index, field in enumerate(fields):
        at = f"{path}[{index}]"
        pattern = pattern_problem(field.pattern)
        if pattern is not None:
            problems.append((f"{at}.pattern", pattern))
        long_prefixes = [
            (
                f"{at}.prefixes[{position}]",
                f"is longer than max_length ({field.max_length}): no value can start with it",
            )
            for position, prefix in enumerate(field.prefixes)
            if len(prefix) > field.max_length
        ]
        problems.extend(long_prefixes)
        if pattern is None and not long_prefixes:
            for violation in destination_violations([field], {field.name: field.example}):
                problems.append(
                    (f"{at}.example", f"breaks its own field's rules: it {violation.description}")
                )
    return problems
