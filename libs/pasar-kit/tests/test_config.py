"""Settings from the environment: types checked, errors naming the variable, no production default secrets."""

from __future__ import annotations

import pytest

from pasar_kit.config import ConfigError, Env


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


def test_secret_default_only_in_development() -> None:
    assert Env({}).secret("PASAR_ADMIN_TOKEN", "dev") == "dev"
    assert (
        Env({"PASAR_ENV": "production", "PASAR_ADMIN_TOKEN": "s3cret"}).secret("PASAR_ADMIN_TOKEN", "dev")
        == "s3cret"
    )
    with pytest.raises(ConfigError, match="PASAR_ADMIN_TOKEN is required when PASAR_ENV is 'production'"):
        Env({"PASAR_ENV": "production"}).secret("PASAR_ADMIN_TOKEN", "dev")
