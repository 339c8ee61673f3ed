"""HMAC signatures of provider notifications, as the contract defines them.

A provider signs the exact bytes of a notification with HMAC-SHA256 under the secret it
shares with the shop, and sends the lower-case hexadecimal digest beside them. The shop
recomputes the digest and compares in constant time, so that a forger learns nothing
from how long a wrong guess takes to fail.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(payload: bytes, secret: str) -> str:
    """The lower-case hexadecimal HMAC-SHA256 of payload under secret."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_matches(payload: bytes, signature: str, secret: str) -> bool:
    """Whether signature is payload's signature under secret, compared in constant time.

    Compared as bytes: ``hmac.compare_digest`` refuses non-ASCII strings, and a forged
    signature may be anything.
    """
    return hmac.compare_digest(sign(payload, secret).encode(), signature.encode())
