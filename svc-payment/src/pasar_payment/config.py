"""The payment service's settings, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from pasar_kit.callers import InternalCallers
from pasar_kit.config import DEVELOPMENT, PRODUCTION, ConfigError, Env
from pasar_kit.leases import LeaseTiming
from pasar_kit.server import ServerSettings

DEFAULT_LISTEN_ADDRESS = "127.0.0.1:50052"
DEFAULT_DATABASE_URL = "sqlite:///var/payment.db"
SANDBOX = "sandbox"
# The providers this build can talk to; a real one is added beside the sandbox.
PROVIDERS = (SANDBOX,)
DEVELOPMENT_WEBHOOK_SECRET = "dev-webhook-secret"  # noqa: S105 - refused outside development
# The sandbox marks any payment paid on request (SimulatePayment): in production, anyone
# holding a payment id would get the goods without paying. A production shop may run it
# only when this flag says, in words nobody can misread in a deployment file, that the
# shop is a demo whose payments are fake.
DEMO_FAKE_PAYMENTS = "PASAR_DEMO_FAKE_PAYMENTS"
# The callers of the internal methods unless PASAR_INTERNAL_CALLERS says otherwise. A real
# provider's webhook adapter, calling NotifyPayment, would be added here under its own name.
INTERNAL_CALLERS = ("order",)
# Caps every channel's payment_ttl (tests and demos that need payments, and so orders, to
# expire soon); the capped value is what ListPaymentChannels reports and payments get.
PAYMENT_TTL_MAX = "PASAR_PAYMENT_TTL_MAX_SECONDS"


@dataclass(frozen=True)
class Settings:
    """How the payment service runs.

    provider: the name of the payment provider payments are opened with
    (``PASAR_PAYMENT_PROVIDER``; ``sandbox`` by default in development, required in
    production, where the sandbox needs ``PASAR_DEMO_FAKE_PAYMENTS``). webhook_secret: the
    HMAC secret shared with that provider (``PASAR_PAYMENT_WEBHOOK_SECRET``).
    sandbox_enabled: whether the sandbox settles payments on request (SimulatePayment).
    demo: a production shop whose payments the sandbox settles (it says so at start).
    expiry_sweep_seconds: how often pending payments past their expiry are expired.
    event_poll_seconds: how often an event stream looks for events written by other
    instances (events written by this instance wake it at once).
    payment_ttl_max_seconds: the longest time to pay any channel gives
    (``PASAR_PAYMENT_TTL_MAX_SECONDS``); None leaves every channel its own payment_ttl.
    """

    server: ServerSettings
    database_url: str
    provider: str
    webhook_secret: str
    sandbox_enabled: bool = False
    demo: bool = False
    expiry_sweep_seconds: float = 5.0
    event_poll_seconds: float = 0.5
    payment_ttl_max_seconds: int | None = None
    # The expiry sweep runs in the one process holding its lease (pasar_kit.leases).
    job_lease: LeaseTiming = field(default_factory=LeaseTiming)
    # Who may call the internal methods (CreatePayment, WatchPaymentEvents, ...).
    callers: InternalCallers = field(default_factory=InternalCallers)

    @classmethod
    def from_env(cls, env: Env) -> Settings:
        default_provider = SANDBOX if env.environment == DEVELOPMENT else None
        provider = env.string("PASAR_PAYMENT_PROVIDER", default_provider)
        if provider not in PROVIDERS:
            raise ConfigError(
                f"PASAR_PAYMENT_PROVIDER must be one of {', '.join(PROVIDERS)}, not {provider!r}"
            )
        fake_payments = env.flag(DEMO_FAKE_PAYMENTS, False)
        production = env.environment == PRODUCTION
        if provider == SANDBOX and production and not fake_payments:
            raise ConfigError(
                f"PASAR_PAYMENT_PROVIDER must not be {SANDBOX!r} when PASAR_ENV is {PRODUCTION!r}:"
                f" it marks payments paid for anyone who asks (a demo shop sets {DEMO_FAKE_PAYMENTS}=true)"
            )
        server = ServerSettings.from_env(env, DEFAULT_LISTEN_ADDRESS)
        return cls(
            server=server,
            database_url=env.string("DATABASE_URL", DEFAULT_DATABASE_URL),
            provider=provider,
            webhook_secret=env.secret("PASAR_PAYMENT_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET),
            sandbox_enabled=provider == SANDBOX,
            demo=provider == SANDBOX and production,
            expiry_sweep_seconds=env.number("PASAR_PAYMENT_EXPIRY_SWEEP_SECONDS", 5.0, minimum=0.05),
            event_poll_seconds=env.number("PASAR_PAYMENT_EVENT_POLL_SECONDS", 0.5, minimum=0.01),
            callers=InternalCallers.for_server(env, server, INTERNAL_CALLERS),
            payment_ttl_max_seconds=_payment_ttl_max_seconds(env),
            job_lease=LeaseTiming.from_env(env),
        )


def _payment_ttl_max_seconds(env: Env) -> int | None:
    """The cap on every channel's time to pay, or None (unset: each channel's own)."""
    if env.optional(PAYMENT_TTL_MAX) is None:
        return None
    return env.integer(PAYMENT_TTL_MAX, 0, minimum=1)
