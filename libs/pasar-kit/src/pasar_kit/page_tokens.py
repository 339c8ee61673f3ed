"""Opaque page tokens for keyset pagination: where the previous page ended, and for which filters.

A token names the last row of the page it came from (the key of the ordering, never an
offset), so rows added or removed meanwhile never make a client skip or repeat another.
It also carries a digest of the request's filters: a token used with other filters is
refused rather than silently answering a different question.

The tokens protect nothing secret (they point into a public list), but they are sealed
with a keyed hash so that a made-up or edited token is refused as INVALID_PAGE_TOKEN and
clients cannot come to depend on what is inside. Each service seals with its own key, so
one service's token is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar_kit.errors import InvalidArgument

_VERSION = 1
_SEAL_BYTES = 12

# The key of the last row of a page: the values of the list's ordering, in order.
Position = list[str | int]
NOT_OURS = "it is not a page token of this service"


def invalid_page_token(why: str) -> InvalidArgument:
    """INVALID_ARGUMENT with reason INVALID_PAGE_TOKEN, naming the page_token field."""
    return InvalidArgument(
        f"page_token is not valid for this request: {why}",
        reason=ErrorReason.Name(ErrorReason.INVALID_PAGE_TOKEN),
        field_violations=[("page_token", why)],
    )


class PageTokens:
    """The page tokens of one service: issued by encode, read back by decode."""

    def __init__(self, service: str) -> None:
        """service: the service's name (``product``), which keys the seal."""
        self._key = f"pasar-{service}/page-token/v1".encode()

    def encode(self, kind: str, position: Position, filters: Sequence[str] = ()) -> str:
        """A token for the page after position, in the list kind, under filters."""
        payload = json.dumps(
            [_VERSION, kind, _filters_digest(filters), *position], separators=(",", ":")
        ).encode()
        return base64.urlsafe_b64encode(self._seal(payload) + payload).decode().rstrip("=")

    def decode(self, token: str, kind: str, filters: Sequence[str] = ()) -> Position:
        """The position a token of this service names; INVALID_PAGE_TOKEN if it is not one,
        or if it was issued for another list or other filters."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise invalid_page_token(NOT_OURS) from None
        seal, payload = raw[:_SEAL_BYTES], raw[_SEAL_BYTES:]
        if len(seal) < _SEAL_BYTES or not hmac.compare_digest(seal, self._seal(payload)):
            raise invalid_page_token(NOT_OURS)
        try:
            version, token_kind, digest, *position = json.loads(payload)
        except (ValueError, TypeError):
            raise invalid_page_token(NOT_OURS) from None
        if version != _VERSION or token_kind != kind:
            raise invalid_page_token("it belongs to another list")
        if digest != _filters_digest(filters):
            raise invalid_page_token("it was issued for other filters; send the same ones")
        return list(position)

    def _seal(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SEAL_BYTES]


def _filters_digest(filters: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(filters)).encode()).hexdigest()[:16]
