"""Opaque page tokens for keyset pagination: where the previous page ended, and for which filters.

A token names the last row of the page it came from (the key of the ordering, never an
offset), so rows added or removed meanwhile never make a client skip or repeat another.
It also carries a digest of the request's filters: a token used with other filters is
refused rather than silently answering a different question.

The tokens protect nothing secret (they point into a public list), but they are sealed
with a keyed hash so that a made-up or edited token is refused as INVALID_PAGE_TOKEN and
clients cannot come to depend on what is inside.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from pasar_product import reasons

_VERSION = 1
_SEAL_KEY = b"pasar-product/page-token/v1"
_SEAL_BYTES = 12

Position = list[str | int]
_NOT_OURS = "it is not a page token of this service"


def _filters_digest(filters: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(filters)).encode()).hexdigest()[:16]


def _seal(payload: bytes) -> bytes:
    return hmac.new(_SEAL_KEY, payload, hashlib.sha256).digest()[:_SEAL_BYTES]


def _encode(kind: str, position: Position, filters: Sequence[str] = ()) -> str:
    """A token for the page after position, in the list kind, under filters."""
    payload = json.dumps(
        [_VERSION, kind, _filters_digest(filters), *position], separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(_seal(payload) + payload).decode().rstrip("=")


def _decode(token: str, kind: str, filters: Sequence[str] = ()) -> Position:
    """The position a token of this service names; INVALID_PAGE_TOKEN if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise reasons.invalid_page_token(_NOT_OURS) from None
    seal, payload = raw[:_SEAL_BYTES], raw[_SEAL_BYTES:]
    if len(seal) < _SEAL_BYTES or not hmac.compare_digest(seal, _seal(payload)):
        raise reasons.invalid_page_token(_NOT_OURS)
    try:
        version, token_kind, digest, *position = json.loads(payload)
    except (ValueError, TypeError):
        raise reasons.invalid_page_token(_NOT_OURS) from None
    if version != _VERSION or token_kind != kind:
        raise reasons.invalid_page_token("it belongs to another list")
    if digest != _filters_digest(filters):
        raise reasons.invalid_page_token("it was issued for other filters; send the same ones")
    return list(position)


def product_page_token(last_product_id: str, filters: Sequence[str]) -> str:
    """The token of the products page after last_product_id (products are ordered by id)."""
    return _encode("products", [last_product_id], filters)


def after_product(token: str, filters: Sequence[str]) -> str:
    """The id of the last product of the page a products token came from."""
    match _decode(token, "products", filters):
        case [str(last_product_id)]:
            return last_product_id
    raise reasons.invalid_page_token(_NOT_OURS)


def category_page_token(sort_order: int, category_id: str) -> str:
    """The token of the categories page after this one (ordered by sort order, then id)."""
    return _encode("categories", [sort_order, category_id])


def after_category(token: str) -> tuple[int, str]:
    """The sort order and id of the last category of the page a categories token came from."""
    match _decode(token, "categories"):
        case [int(sort_order), str(category_id)] if not isinstance(sort_order, bool):
            return sort_order, category_id
    raise reasons.invalid_page_token(_NOT_OURS)
