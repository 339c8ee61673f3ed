"""Settings from the environment: types checked, errors naming the variable, no production default secrets."""

from __future__ import annotations

import pytest

from pasar_kit.config import DEVELOPMENT_SECRETS, MINIMUM_SECRET_BYTES, ConfigError, Env


def test_values_and_defaults() -> None:
    env = Env({"A": "x", "N": "7", "F": "0.5", "B": "yes"})
    assert env.string("A") == "x"
    assert env.string("MISSING", "default") == "default"
    assert env.integer("N", 1) == 7
    assert env.integer("MISSING", 3) == 3
    assert env.number("F", 1.0) == 0.5
    assert env.flag("B", False) is True
    assert env.optional("MISSING") is None


@pytest.mark.parametrize(
    ("values", "read", "message"),
    [
        ({}, lambda env: env.string("DATABASE_URL"), "DATABASE_URL is required"),
        ({"N": "seven"}, lambda env: env.integer("N", 1), "N must be an integer, not 'seven'"),
        ({"N": "0"}, lambda env: env.integer("N", 1, minimum=1), "N must be at least 1, not 0"),
        ({"F": "fast"}, lambda env: env.number("F", 1.0), "F must be a number"),
        ({"B": "maybe"}, lambda env: env.flag("B", False), "B must be true or false"),
        ({"PASAR_ENV": "staging"}, lambda env: env.environment, "PASAR_ENV must be"),
    ],
)
def test_malformed_values_name_the_variable(values: dict[str, str], read: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read(Env(values))  # type: ignore[operator]


RANDOM_SECRET = "6f1c0e9a4b7d2e85c3a1f0b9d8e7c6a5b4f3e2d1c0b9a897"  # 48 hex digits, as make-env writes


SECRET_NAMES = ["PASAR_ADMIN_TOKEN", "PASAR_PAYMENT_WEBHOOK_SECRET", "PASAR_ORDER_TOKEN_SECRET"]


def production(**values: str) -> Env:
    return Env({"PASAR_ENV": "production", **values})


def test_secret_default_only_in_development() -> None:
    assert Env({}).secret("PASAR_ADMIN_TOKEN", "dev") == "dev"
    assert Env({"PASAR_ADMIN_TOKEN": "short"}).secret("PASAR_ADMIN_TOKEN", "dev") == "short"
    assert production(PASAR_ADMIN_TOKEN=RANDOM_SECRET).secret("PASAR_ADMIN_TOKEN", "dev") == RANDOM_SECRET
    with pytest.raises(ConfigError, match="PASAR_ADMIN_TOKEN is required when PASAR_ENV is 'production'"):
        production().secret("PASAR_ADMIN_TOKEN", "dev")


@pytest.mark.parametrize("default", sorted(DEVELOPMENT_SECRETS))
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_production_refuses_every_development_default_for_every_secret(name: str, default: str) -> None:
    """Another component's default is as public as the secret's own."""
    with pytest.raises(ConfigError, match=f"^{name} must not be a development default"):
        production(**{name: default}).secret(name, "dev-something-else")


def test_production_refuses_the_secrets_own_default_even_when_unlisted() -> None:
    own = "dev-default-of-a-new-service-that-is-long-enough"
    with pytest.raises(ConfigError, match=r"^PASAR_NEW_SECRET must not be a development default"):
        production(PASAR_NEW_SECRET=own).secret("PASAR_NEW_SECRET", own)


def test_production_refuses_a_secret_shorter_than_32_bytes() -> None:
    assert MINIMUM_SECRET_BYTES == 32
    assert production(S="x" * 32).secret("S", "dev") == "x" * 32
    with pytest.raises(ConfigError, match=r"^S must be at least 32 bytes when PASAR_ENV is 'production'"):
        production(S="x" * 31).secret("S", "dev")
    # Bytes, not characters: 16 two-byte characters are exactly 32 bytes.
    assert production(S="é" * 16).secret("S", "dev") == "é" * 16
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        production(S="é" * 15).secret("S", "dev")


def test_every_refusal_is_one_line_naming_the_variable() -> None:
    for value in ("", "dev-admin-token", "short"):
        with pytest.raises(ConfigError) as raised:
            production(PASAR_ORDER_TOKEN_SECRET=value).secret("PASAR_ORDER_TOKEN_SECRET", "dev")
        message = str(raised.value)
        assert message.startswith("PASAR_ORDER_TOKEN_SECRET ")
        assert "\n" not in message
        assert value == "" or value not in message, "the refused value is never echoed"
