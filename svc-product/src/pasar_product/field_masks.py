"""Which fields an update changes, from its ``update_mask`` (AIP-134).

An empty mask means every field the method allows (or, where the contract says so, the
fields it allowed before later versions added more: a client built then does not clear
fields it never knew); a path outside that list (an unknown
field, an output-only one, or the id) is INVALID_ARGUMENT rather than silently ignored, so
a client never believes it changed something it did not.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import field_mask_pb2

from pasar_product import reasons


def fields_to_update(
    mask: field_mask_pb2.FieldMask, allowed: Sequence[str], when_empty: Sequence[str] | None = None
) -> list[str]:
    """The fields named by mask, each once, in the mask's order; when it is empty, when_empty
    (the fields an older version of the contract had, which its clients mean), else all of
    allowed."""
    if not mask.paths:
        return list(allowed if when_empty is None else when_empty)
    refused = [path for path in mask.paths if path not in allowed]
    if refused:
        raise reasons.invalid_field(
            "update_mask",
            f"cannot change {', '.join(repr(path) for path in refused)}; "
            f"the fields that can be changed are {', '.join(allowed)}",
        )
    return list(dict.fromkeys(mask.paths))
