"""Identifiers and secrets that cannot be guessed.

Resource ids are a short prefix and 128 random bits in hexadecimal (``ord_`` + 32 digits),
matching the patterns in the contracts; access tokens are 256 random bits, URL-safe.
Tokens are stored only as their SHA-256 hash and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_id(prefix: str) -> str:
    """A new random id such as ``ord_9f86d081884c7d659a2feaa0c55ad015``."""
    return f"{prefix}_{secrets.token_hex(16)}"


def new_token() -> str:
    """A new secret for a URL: 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether token hashes to stored_hash, in constant time."""
    return hmac.compare_digest(token_hash(token), stored_hash)
