"""The order service's settings, read from the environment once at start-up.

Beyond the variables every service reads (CONTRIBUTING.md, "Configuration"), the order
service has knobs for its background work; their defaults suit production, and tests
shorten them to see retries and expiry happen within seconds.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pasar_kit.callers import caller_token_from_env
from pasar_kit.channels import ClientTls
from pasar_kit.config import PRODUCTION, ConfigError, Env
from pasar_kit.leases import LeaseTiming
from pasar_kit.server import ServerSettings

DEFAULT_LISTEN_ADDRESS = "127.0.0.1:50053"
DEFAULT_PRODUCT_ADDRESS = "127.0.0.1:50051"
DEFAULT_PAYMENT_ADDRESS = "127.0.0.1:50052"
DEFAULT_FULFILLMENT_ADDRESS = "127.0.0.1:50054"
DEFAULT_DATABASE_URL = "sqlite:///var/order.db"
DEVELOPMENT_TOKEN_SECRET = "dev-order-token-secret"  # noqa: S105 - refused outside development
# Where the e-mails' links lead in development; production must say (no shopper can reach it).
DEVELOPMENT_STOREFRONT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class SmtpTarget:
    """Where e-mails go over SMTP: ``smtp://user:pass@host:port``, or ``smtps://`` for TLS."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigError(f"SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"SMTP_URL has an invalid port: {url!r}") from None
        if not parts.hostname:
            raise ConfigError("SMTP_URL needs a host: smtp://user:password@host:port")
        if parts.query:
            raise ConfigError(
                "SMTP_URL takes no query parameters (TLS and login are set by PASAR_SMTP_* variables)"
            )
        use_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if use_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
        )


@dataclass(frozen=True)
class MailSettings:
    """How the outbox delivers e-mails, and how it retries."""

    smtp: SmtpTarget | None
    mail_dir: Path
    sender: str
    smtp_timeout_seconds: float
    # The CA bundle that verifies the mail server's certificate (smtps://, STARTTLS) instead
    # of the system's trust store: for a mail server with a private CA.
    smtp_ca_file: Path | None = None
    # Send the SMTP login over a connection without TLS (a server that offers no STARTTLS).
    # Off unless said explicitly: the password would cross the network readable by anyone.
    smtp_allow_plaintext_login: bool = False

    def tls_context(self) -> ssl.SSLContext:
        """Verifies the mail server's certificate and name: the system's CAs, or smtp_ca_file."""
        cafile = str(self.smtp_ca_file) if self.smtp_ca_file else None
        try:
            return ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as error:
            message = f"PASAR_SMTP_CA_FILE cannot be read as PEM certificates: {cafile}: {error}"
            raise ConfigError(message) from None


@dataclass(frozen=True)
class BackgroundSettings:
    """How often the background tasks look for work, and how they back off."""

    # The outbox dispatchers (e-mails, reservation steps, fulfillments, refunds) poll this
    # often when idle.
    poll_seconds: float = 1.0
    # The first retry of a failed delivery waits this long, doubling up to retry_max_seconds.
    retry_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    # The sweeper (expiry of unpaid orders, abandoned checkouts) runs this often.
    sweep_seconds: float = 5.0
    # A checkout in progress holds its order for this long; after it, a crashed
    # checkout is undone by the sweeper (or resumed by a retry of the same request).
    checkout_lease_seconds: float = 30.0
    # An event stream (payments, fulfillments) is reopened from its cursor after this long.
    event_stream_seconds: float = 300.0
    # The event consumers and the sweeper run in the one process holding each one's lease
    # (pasar_kit.leases: PASAR_JOB_LEASE_SECONDS).
    job_lease: LeaseTiming = field(default_factory=LeaseTiming)


@dataclass(frozen=True)
class LookupSettings:
    """LookupOrder's limit: after max_failures failed look-ups of one order number within
    window_seconds, that number is refused until its window has passed."""

    max_failures: int = 5
    window_seconds: int = 900


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    database_url: str
    product_address: str
    payment_address: str
    fulfillment_address: str
    peer_timeout_seconds: float
    client_tls: ClientTls | None
    lookup: LookupSettings
    token_secret: str
    storefront_url: str
    mail: MailSettings
    background: BackgroundSettings
    # The secret sent to product, payment and fulfillment's internal methods (none with a client certificate).
    caller_token: str | None = None

    @classmethod
    def from_env(cls, env: Env) -> Settings:
        if env.optional("PASAR_ORDER_TTL_SECONDS"):
            raise ConfigError(
                "PASAR_ORDER_TTL_SECONDS is gone: an order now expires with its payment (the channel's "
                "payment_ttl); svc-payment's PASAR_PAYMENT_TTL_MAX_SECONDS caps every channel's window"
            )
        sender = env.string("PASAR_MAIL_FROM", "Pasar <no-reply@pasar.test>")
        if "@" not in parseaddr(sender)[1]:
            raise ConfigError(f"PASAR_MAIL_FROM must be an e-mail address, not {sender!r}")
        smtp_url = env.optional("SMTP_URL")
        storefront_url = env.string("PASAR_STOREFRONT_URL", DEVELOPMENT_STOREFRONT_URL).rstrip("/")
        if urlsplit(storefront_url).scheme not in ("http", "https"):
            raise ConfigError(f"PASAR_STOREFRONT_URL must be an http(s) URL, not {storefront_url!r}")
        settings = cls(
            server=ServerSettings.from_env(env, DEFAULT_LISTEN_ADDRESS),
            database_url=env.string("DATABASE_URL", DEFAULT_DATABASE_URL),
            product_address=env.string("PASAR_PRODUCT_ADDRESS", DEFAULT_PRODUCT_ADDRESS),
            payment_address=env.string("PASAR_PAYMENT_ADDRESS", DEFAULT_PAYMENT_ADDRESS),
            fulfillment_address=env.string("PASAR_FULFILLMENT_ADDRESS", DEFAULT_FULFILLMENT_ADDRESS),
            peer_timeout_seconds=env.number("PASAR_PEER_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            client_tls=ClientTls.from_env(env),
            lookup=LookupSettings(
                max_failures=env.integer("PASAR_ORDER_LOOKUP_MAX_FAILURES", 5, minimum=1),
                window_seconds=env.integer("PASAR_ORDER_LOOKUP_WINDOW_SECONDS", 900, minimum=1),
            ),
            token_secret=env.secret("PASAR_ORDER_TOKEN_SECRET", DEVELOPMENT_TOKEN_SECRET),
            storefront_url=storefront_url,
            mail=MailSettings(
                smtp=SmtpTarget.parse(smtp_url) if smtp_url else None,
                mail_dir=Path(env.string("PASAR_MAIL_DIR", "var/mail")),
                sender=sender,
                smtp_timeout_seconds=env.number("PASAR_SMTP_TIMEOUT_SECONDS", 20.0, minimum=0.1),
                smtp_ca_file=_optional_path(env.optional("PASAR_SMTP_CA_FILE")),
                smtp_allow_plaintext_login=env.flag("PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN", False),
            ),
            background=BackgroundSettings(
                poll_seconds=env.number("PASAR_OUTBOX_POLL_SECONDS", 1.0, minimum=0.01),
                retry_seconds=env.number("PASAR_OUTBOX_RETRY_SECONDS", 5.0, minimum=0.01),
                retry_max_seconds=env.number("PASAR_OUTBOX_RETRY_MAX_SECONDS", 600.0, minimum=0.01),
                sweep_seconds=env.number("PASAR_ORDER_SWEEP_SECONDS", 5.0, minimum=0.01),
                checkout_lease_seconds=env.number("PASAR_CHECKOUT_LEASE_SECONDS", 30.0, minimum=1.0),
                event_stream_seconds=env.number("PASAR_EVENT_STREAM_SECONDS", 300.0, minimum=1.0),
                job_lease=LeaseTiming.from_env(env),
            ),
            caller_token=caller_token_from_env(
                env, "order", client_certificate=bool(env.optional("PASAR_TLS_CLIENT_CERT"))
            ),
        )
        if env.environment == PRODUCTION and not env.optional("PASAR_STOREFRONT_URL"):
            # Checked after the secrets, which a production start must get right first.
            raise ConfigError(
                f"PASAR_STOREFRONT_URL is required when PASAR_ENV is {PRODUCTION!r}: the e-mails "
                f"link to the shop there (the development {DEVELOPMENT_STOREFRONT_URL} is no shop's address)"
            )
        return settings


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
