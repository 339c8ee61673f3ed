"""The order's access token: the secret that reads and cancels an order.

The token is an HMAC of the order id under the service's secret, so that a retried
CreateOrder (and the e-mails, rendered long after checkout) give the same token without
it ever being stored: the database keeps only its hash, compared in constant time. A
token that does not match reads exactly like an unknown order, so ids cannot be probed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pasar_kit import ids

_PURPOSE = b"pasar.order.access-token.v1:"


def access_token(secret: str, order_id: str) -> str:
    """The order's token: 43 URL-safe characters (256 bits)."""
    digest = hmac.new(secret.encode(), _PURPOSE + order_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def stored_hash(secret: str, order_id: str) -> str:
    """What the order row keeps of its token."""
    return ids.token_hash(access_token(secret, order_id))


def token_opens(token: str, stored: str) -> bool:
    """Whether token is the order's, in constant time."""
    return ids.token_matches(token, stored)
