"""A shopper's personal data in requests: where it is, and how it is hidden from the logs.

A destination (the phone number credit goes to, the PLN meter a token is for), an e-mail
address, or the contact an order is looked up by travels in a request body, never in a URL,
so the gateway's one line per request (method, path, status) never carries it. What it
does log of a service's answer is the message of an opaque failure (INTERNAL, UNKNOWN,
DATA_LOSS), which may quote what the service was given (a database's "Duplicate entry
'…'"): :func:`masked_text` hides the request's personal values in it as
pasar_kit.destinations masks them for every service's logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from pasar_kit.destinations import mask_destination

# Request fields that hold a shopper's personal data (LookupDestinationRequest's, an order
# line's): a map from a product's destination field names to the shopper's values.
PERSONAL_FIELDS = frozenset({"destination"})
# Text fields that hold it: an order's e-mail address and payer's phone number, and what a
# shopper gives to look an order up (LookupOrderRequest.contact: that e-mail or a destination).
PERSONAL_TEXT_FIELDS = frozenset({"customer_email", "payer_phone_number", "contact"})


def personal_maps(message: Message) -> Iterator[Mapping[str, str]]:
    """Every personal map in message, at any depth (each line of an order has its own); a
    personal text field counts as a map of its own."""
    for field, value in message.ListFields():
        if field.name in PERSONAL_FIELDS and field.message_type is not None:
            yield value
        elif field.name in PERSONAL_TEXT_FIELDS and field.type == FieldDescriptor.TYPE_STRING:
            yield {field.name: value}
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not _is_map(field):
            for item in value if field.is_repeated else (value,):
                yield from personal_maps(item)


def masked_text(text: str, request: Message | None) -> str:
    """text with each personal value of request replaced by its masked copy."""
    if request is None or not text:
        return text
    replacements: dict[str, str] = {}
    for destination in personal_maps(request):
        masked = mask_destination(destination)
        replacements.update({value: masked[key] for key, value in destination.items() if value})
    for value in sorted(replacements, key=len, reverse=True):  # a value inside another: the longer first
        text = text.replace(value, replacements[value])
    return text


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry
