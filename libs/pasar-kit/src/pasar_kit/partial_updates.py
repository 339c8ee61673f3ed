"""Which validation rules a partial update is held to: those of the fields its mask names.

A partial update (AIP-134) carries the resource and a ``google.protobuf.FieldMask
update_mask`` whose paths are relative to the resource. Only the masked fields are written,
so a field the mask leaves out (a required one left empty, say) must not refuse the call,
while a masked field that breaks its rule must. The pipeline applies this to every request
with such a mask, so a new Update method gets it without code of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import cast

import protovalidate
from google.protobuf import descriptor, field_mask_pb2, message

UPDATE_MASK_FIELD = "update_mask"
FIELD_MASK_TYPE = field_mask_pb2.FieldMask.DESCRIPTOR.full_name
# The field that names the resource an update changes (``{product.id}`` in its route): a
# mask never names it, yet it must be valid for the update to find anything.
RESOURCE_ID_FIELD = "id"


def violations_in_scope(
    request: message.Message, violations: Sequence[protovalidate.Violation]
) -> list[protovalidate.Violation]:
    """The violations that count against request: all of them, unless it is a partial update.

    For a partial update with a non-empty mask, kept are the violations on the request's
    other fields (the mask itself included), on the resource as a whole (absent though
    required), on the resource's id, and on any field a masked path names, leads to or lies
    under. An empty mask means every field, so everything counts. A path the resource does
    not have selects nothing: refusing it is the service's, which knows what may change.
    """
    resource = partial_update_resource(request.DESCRIPTOR)
    if resource is None:
        return list(violations)
    mask = cast(field_mask_pb2.FieldMask, getattr(request, UPDATE_MASK_FIELD))
    if not mask.paths:
        return list(violations)
    masked = [tuple(path.split(".")) for path in mask.paths if path]
    return [v for v in violations if _in_scope(_field_names(v), resource, masked)]


@cache
def partial_update_resource(request_type: descriptor.Descriptor) -> str | None:
    """The name of the resource field of a partial update request; None for other requests.

    A request is a partial update when it has ``google.protobuf.FieldMask update_mask``;
    its resource is its one other singular message field. With none or several, which
    field the paths belong to is unclear, and the whole request is validated.
    """
    mask = request_type.fields_by_name.get(UPDATE_MASK_FIELD)
    if mask is None or mask.message_type is None or mask.message_type.full_name != FIELD_MASK_TYPE:
        return None
    candidates = [
        field.name
        for field in request_type.fields
        if field is not mask and field.message_type is not None and not field.is_repeated
    ]
    return candidates[0] if len(candidates) == 1 else None


def _in_scope(names: tuple[str, ...], resource: str, masked: Sequence[tuple[str, ...]]) -> bool:
    """Whether the violation at names (from the request down) concerns what the update writes."""
    if len(names) < 2 or names[0] != resource or names[1] == RESOURCE_ID_FIELD:
        return True
    within = names[1:]
    return any(within[: len(path)] == path or path[: len(within)] == within for path in masked)


def _field_names(violation: protovalidate.Violation) -> tuple[str, ...]:
    """The violation's field as names from the request down, without list indexes or map keys."""
    elements = violation.proto.field.elements if violation.proto.field else []
    return tuple(element.field_name for element in elements)
