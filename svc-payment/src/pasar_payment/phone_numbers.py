"""The payer's e-wallet phone number: read in its national form, and shown masked.

The contract takes an Indonesian mobile number as "08...", "628..." or "+628..."
(CreatePaymentRequest.payer_phone_number); wallets know it as "08...". The number the
request went to is shown back (EwalletInstructions.phone_number) with all but its first
four digits (the "08xx" operator prefix) and its last four hidden behind four stars,
whatever their count, so that neither the number nor its length is told to whoever reads
the payment.
"""

from __future__ import annotations

SHOWN_DIGITS = 4
MASK = "****"
_INTERNATIONAL_PREFIXES = ("+62", "62")


def national_number(phone_number: str) -> str:
    """ "+6281234567890" and "6281234567890" as "081234567890"; "08..." unchanged."""
    for prefix in _INTERNATIONAL_PREFIXES:
        if phone_number.startswith(prefix):
            return "0" + phone_number[len(prefix) :]
    return phone_number


def masked_number(phone_number: str) -> str:
    """The number in its national form with its middle hidden: "0812****7890"."""
    national = national_number(phone_number)
    return national[:SHOWN_DIGITS] + MASK + national[-SHOWN_DIGITS:]
