"""Order numbers: what a shopper reads out to support, beside the unguessable id.

"PSR-" and six characters drawn at random from 30 that cannot be mistaken for one another
when read or heard (no 0/O, 1/I/L, and no U, which reads as V): about 729 million
numbers. The unique index on ``orders.order_number`` decides a collision, which the
checkout answers by drawing again. The number is not a secret: LookupOrder asks for the
order's e-mail address or a destination beside it, and counts failures per number.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "PSR-"
LENGTH = 6


def new_order_number() -> str:
    """A random order number, such as "PSR-7K3M9Q"."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
