"""The payer's phone number read in its national form and shown masked."""

from __future__ import annotations

import pytest

from pasar_payment.phone_numbers import masked_number, national_number


@pytest.mark.parametrize("given", ["081234567890", "6281234567890", "+6281234567890"])
def test_every_form_the_contract_takes_is_read_as_the_national_number(given: str) -> None:
    assert national_number(given) == "081234567890"
    assert masked_number(given) == "0812****7890"


@pytest.mark.parametrize("phone_number", ["081234567", "0812345678901234"])
def test_the_mask_hides_how_many_digits_it_hides(phone_number: str) -> None:
    """The shortest and longest numbers the contract allows: four stars either way."""
    masked = masked_number(phone_number)
    assert masked == phone_number[:4] + "****" + phone_number[-4:]
    assert len(masked) == 12
