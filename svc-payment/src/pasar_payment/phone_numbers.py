"""The payer's e-wallet phone number: read in its national form, and shown masked.

The contract takes an Indonesian mobile number as "08...", "628..." or "+628..."
(CreatePaymentRequest.payer_phone_number); wallets know it as "08...". The number the
request went to is shown back (EwalletInstructions.phone_number) with its last four digits
and its first four (the "08xx" operator prefix), the rest behind four stars whatever their
count, so that neither the number nor its length is told to whoever reads the payment. A
short number (the contract allows 9 digits) keeps fewer of its first digits, down to the
"08" every number starts with, so that at least four stay hidden where it has them: showing
four and four would leave one digit of "081234567" hidden.
"""

from __future__ import annotations

SHOWN_LAST = 4
SHOWN_FIRST_AT_MOST = 4
SHOWN_FIRST_AT_LEAST = len("08")  # what every number starts with: it tells nothing
HIDDEN_AT_LEAST = 4
MASK = "****"
_INTERNATIONAL_PREFIXES = ("+62", "62")


def national_number(phone_number: str) -> str:
    """ "+6281234567890" and "6281234567890" as "081234567890"; "08..." unchanged."""
    for prefix in _INTERNATIONAL_PREFIXES:
        if phone_number.startswith(prefix):
            return "0" + phone_number[len(prefix) :]
    return phone_number


def masked_number(phone_number: str) -> str:
    """The number in its national form with its middle hidden: "0812****7890", "08****5678"."""
    national = national_number(phone_number)
    first = len(national) - SHOWN_LAST - HIDDEN_AT_LEAST
    first = max(SHOWN_FIRST_AT_LEAST, min(SHOWN_FIRST_AT_MOST, first))
    return national[:first] + MASK + national[-SHOWN_LAST:]
