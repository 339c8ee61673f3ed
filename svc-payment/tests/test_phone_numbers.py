"""The payer's phone number read in its national form and shown masked."""

from __future__ import annotations

import pytest

from pasar_payment.phone_numbers import masked_number, national_number


@pytest.mark.parametrize("given", ["081234567890", "6281234567890", "+6281234567890"])
def test_every_form_the_contract_takes_is_read_as_the_national_number(given: str) -> None:
    assert national_number(given) == "081234567890"
    assert masked_number(given) == "0812****7890"


@pytest.mark.parametrize(
    ("phone_number", "masked"),
    [
        ("081234567", "08****4567"),  # the shortest the contract allows: three hidden
        ("0812345678", "08****5678"),
        ("08123456789", "081****6789"),
        ("081234567890", "0812****7890"),
        ("0812345678901234", "0812****1234"),  # the longest
        ("+62812345678", "08****5678"),
    ],
)
def test_the_mask_hides_how_many_digits_it_hides_and_at_least_four_where_it_can(
    phone_number: str, masked: str
) -> None:
    """Four stars whatever the length; the first digits shown only while four stay hidden
    (a ten-digit number shown as "0812****5678" would hide two)."""
    assert masked_number(phone_number) == masked
    national = national_number(phone_number)
    hidden = len(national) - (len(masked) - len("****"))
    assert hidden >= min(4, len(national) - 4 - 2)
