"""Reads settings from the environment once, at start-up, with errors that name the variable.

Services describe their settings as a frozen dataclass with a ``from_env`` class method
built on :class:`Env`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


DEVELOPMENT = "development"
PRODUCTION = "production"

# The shortest secret production accepts, in bytes of its UTF-8 encoding: 32 bytes of
# randomness (docker/make-env writes 48 hex digits) are out of reach of guessing.
MINIMUM_SECRET_BYTES = 32

# Every development default of every component's secrets. They are published in the
# repository, so production refuses each of them for every secret, not only for the one
# it is the default of (an admin token set to the order service's default is as public).
DEVELOPMENT_SECRETS = frozenset(
    {
        "dev-admin-token",  # PASAR_ADMIN_TOKEN (product, gateway)
        "dev-webhook-secret",  # PASAR_PAYMENT_WEBHOOK_SECRET (payment)
        "dev-order-token-secret",  # PASAR_ORDER_TOKEN_SECRET (order)
        "dev-order-caller-token",  # PASAR_ORDER_CALLER_TOKEN (order, and the services it calls)
        "dev-biller-webhook-secret",  # PASAR_BILLER_WEBHOOK_SECRET (fulfillment; Go keeps its own list)
    }
)


@dataclass(frozen=True)
class Env:
    """Typed access to environment variables.

    ``PASAR_ENV`` tells development (the default, for ``scripts/run`` and tests) from
    production; :meth:`secret` refuses development defaults in production.
    """

    values: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def environment(self) -> str:
        value = self.string("PASAR_ENV", DEVELOPMENT)
        if value not in (DEVELOPMENT, PRODUCTION):
            raise ConfigError(f"PASAR_ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, not {value!r}")
        return value

    def string(self, name: str, default: str | None = None) -> str:
        value = self.values.get(name, "")
        if value:
            return value
        if default is None:
            raise ConfigError(f"{name} is required")
        return default

    def optional(self, name: str) -> str | None:
        return self.values.get(name) or None

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        raw = self.values.get(name, "")
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        return value

    def number(self, name: str, default: float, minimum: float | None = None) -> float:
        raw = self.values.get(name, "")
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.values.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")

    def secret(self, name: str, development_default: str) -> str:
        """A secret: its development default works only when PASAR_ENV is development.

        In production it is refused when missing, equal to any development default (see
        :data:`DEVELOPMENT_SECRETS`; development_default counts too) or shorter than
        :data:`MINIMUM_SECRET_BYTES`: every such value is public or guessable.
        """
        value = self.values.get(name, "")
        if self.environment == DEVELOPMENT:
            return value or development_default
        check_production_secret(name, value, development_default)
        return value


def check_production_secret(name: str, value: str, development_default: str = "") -> None:
    """Raises ConfigError, naming the variable, unless value may be a production secret."""
    if not value:
        raise ConfigError(f"{name} is required when PASAR_ENV is {PRODUCTION!r}")
    if value in DEVELOPMENT_SECRETS or value == development_default:
        raise ConfigError(f"{name} must not be a development default when PASAR_ENV is {PRODUCTION!r}")
    if len(value.encode()) < MINIMUM_SECRET_BYTES:
        raise ConfigError(
            f"{name} must be at least {MINIMUM_SECRET_BYTES} bytes when PASAR_ENV is {PRODUCTION!r}"
            " (make a random one: openssl rand -hex 32)"
        )
