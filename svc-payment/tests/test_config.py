"""The payment service's settings: the cap on every channel's time to pay, and errors that
name the variable."""

from __future__ import annotations

import pytest

from pasar_kit.config import ConfigError, Env
from pasar_payment.config import Settings


def test_without_a_cap_every_channel_keeps_its_own_time_to_pay() -> None:
    assert Settings.from_env(Env({})).payment_ttl_max_seconds is None
    assert Settings.from_env(Env({"PASAR_PAYMENT_TTL_MAX_SECONDS": ""})).payment_ttl_max_seconds is None


def test_the_cap_is_a_number_of_seconds() -> None:
    settings = Settings.from_env(Env({"PASAR_PAYMENT_TTL_MAX_SECONDS": "90"}))
    assert settings.payment_ttl_max_seconds == 90


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_a_bad_cap_is_an_error_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="PASAR_PAYMENT_TTL_MAX_SECONDS"):
        Settings.from_env(Env({"PASAR_PAYMENT_TTL_MAX_SECONDS": value}))
