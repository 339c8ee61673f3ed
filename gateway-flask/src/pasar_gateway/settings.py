"""The gateway's settings: defaults, then ``PASAR_*`` environment variables, then overrides.

``create_app`` loads them into the Flask config in that order (the environment through
``app.config.from_prefixed_env("PASAR")``, which strips the prefix: ``PASAR_ORDER_ADDRESS``
becomes ``ORDER_ADDRESS``), then :meth:`GatewaySettings.from_config` reads and checks
every value once, through :class:`pasar_kit.config.Env`, so that a bad value fails at
start-up with a message naming its ``PASAR_`` variable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limits import parse_many

from pasar.common.v1 import options_pb2
from pasar_kit.channels import ClientTls
from pasar_kit.config import PRODUCTION, ConfigError, Env

PREFIX = "PASAR"
DEVELOPMENT_ADMIN_TOKEN = "dev-admin-token"  # noqa: S105 - refused in production (Env.secret)

# Where each known service listens by default, and how long its calls may take.
DEFAULT_BACKENDS: Mapping[str, tuple[str, float]] = {
    "product": ("127.0.0.1:50051", 5.0),
    "payment": ("127.0.0.1:50052", 5.0),
    # Placing an order calls the catalog and the payment service in turn.
    "order": ("127.0.0.1:50053", 10.0),
    "fulfillment": ("127.0.0.1:50054", 5.0),
}

# The Vite development server of the storefront, allowed in development only.
DEVELOPMENT_CORS_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")

# A policy the storefront's built SPA works with: its own scripts and styles, images from
# anywhere over HTTPS (product images may be absolute URLs) and data: URLs (QR codes).
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def repository_storefront() -> Path | None:
    """The storefront's build in this repository (storefront-vue/dist), when it exists."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "storefront-vue" / "dist"
        if (candidate / "index.html").is_file():
            return candidate
        if (parent / ".git").exists():
            break
    return None


@dataclass(frozen=True)
class RateLimitSetting:
    """The setting that gives one rate-limit bucket of the contracts its rate, per client address."""

    variable: str  # the environment variable, such as PASAR_ORDER_RATE_LIMIT
    default: str
    calls: str  # what the bucket's calls are, in the refusal's message: "too many <calls>"


# Every bucket of pasar.common.v1.RateLimitBucket, by its generated value (a new bucket in the
# contracts without a setting here stops the gateway at start-up: see rate_limits.py).
RATE_LIMIT_SETTINGS: Mapping[int, RateLimitSetting] = {
    options_pb2.RATE_LIMIT_BUCKET_ORDER_CREATION: RateLimitSetting(
        f"{PREFIX}_ORDER_RATE_LIMIT", "30/minute", "orders"
    ),
    options_pb2.RATE_LIMIT_BUCKET_ORDER_LOOKUP: RateLimitSetting(
        f"{PREFIX}_ORDER_LOOKUP_RATE_LIMIT", "10/minute", "order look-ups"
    ),
}
RATE_LIMIT_OFF = ("off", "none", "0")


@dataclass(frozen=True)
class BackendSettings:
    """One service behind the gateway."""

    name: str
    target: str
    deadline_seconds: float


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the application reads from its configuration, checked."""

    environment: str
    backends: Mapping[str, BackendSettings]
    admin_token: str
    cors_origins: tuple[str, ...]
    catalog_cache: bool
    catalog_cache_ttl_seconds: float
    catalog_cache_entries: int
    rate_limits: Mapping[int, str]  # the rate of each bucket (RATE_LIMIT_SETTINGS), "" when off
    max_body_bytes: int
    breaker_failures: int
    breaker_reset_seconds: float
    readiness_timeout_seconds: float
    static_dir: Path | None
    proxy_count: int
    content_security_policy: str
    tls: ClientTls | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], backend_names: Iterable[str]) -> GatewaySettings:
        """Reads the (prefix-stripped) Flask config; ConfigError names the PASAR_ variable."""
        env = config_env(config)
        environment = env.environment
        backends = {}
        for name in backend_names:
            default_target, default_deadline = DEFAULT_BACKENDS.get(name, (None, 5.0))
            key = name.upper()
            backends[name] = BackendSettings(
                name=name,
                target=env.string(f"{PREFIX}_{key}_ADDRESS", default_target),
                deadline_seconds=env.number(
                    f"{PREFIX}_{key}_DEADLINE_SECONDS", default_deadline, minimum=0.01
                ),
            )
        origins = _origins(env, environment)
        static = env.optional(f"{PREFIX}_STATIC_DIR")
        static_dir = Path(static) if static else repository_storefront()
        if static and not (Path(static) / "index.html").is_file():
            raise ConfigError(f"{PREFIX}_STATIC_DIR must be a folder with an index.html, not {static!r}")
        # Production refuses it missing, short, or equal to any development default.
        admin_token = env.secret(f"{PREFIX}_ADMIN_TOKEN", DEVELOPMENT_ADMIN_TOKEN)
        return cls(
            environment=environment,
            backends=backends,
            admin_token=admin_token,
            cors_origins=origins,
            catalog_cache=env.flag(f"{PREFIX}_CATALOG_CACHE", True),
            catalog_cache_ttl_seconds=env.number(f"{PREFIX}_CATALOG_CACHE_TTL_SECONDS", 5.0, minimum=0),
            catalog_cache_entries=env.integer(f"{PREFIX}_CATALOG_CACHE_ENTRIES", 2048, minimum=1),
            rate_limits={bucket: _rate_limit(env, limit) for bucket, limit in RATE_LIMIT_SETTINGS.items()},
            max_body_bytes=env.integer(f"{PREFIX}_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            breaker_failures=env.integer(f"{PREFIX}_BREAKER_FAILURES", 3, minimum=1),
            breaker_reset_seconds=env.number(f"{PREFIX}_BREAKER_RESET_SECONDS", 2.0, minimum=0.05),
            readiness_timeout_seconds=env.number(f"{PREFIX}_READINESS_TIMEOUT_SECONDS", 1.0, minimum=0.05),
            static_dir=static_dir,
            proxy_count=env.integer(f"{PREFIX}_PROXY_COUNT", 0, minimum=0),
            content_security_policy=env.string(
                f"{PREFIX}_CONTENT_SECURITY_POLICY", DEFAULT_CONTENT_SECURITY_POLICY
            ),
            tls=ClientTls.from_env(env),
        )


def _origins(env: Env, environment: str) -> tuple[str, ...]:
    name = "PASAR_CORS_ORIGINS"
    raw = env.optional("PASAR_CORS_ORIGINS")
    if raw is None:
        return () if environment == PRODUCTION else DEVELOPMENT_CORS_ORIGINS
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin == "*":
            if environment == PRODUCTION:
                raise ConfigError(f"{name} must list origins, not '*', when PASAR_ENV is {PRODUCTION!r}")
            continue
        scheme, _, host = origin.partition("://")
        if scheme not in ("http", "https") or not host or "/" in host:
            raise ConfigError(f"{name} must be origins such as https://shop.example, not {origin!r}")
    return origins


def _rate_limit(env: Env, setting: RateLimitSetting) -> str:
    """The bucket's rate ("" when off), parsed by the limits library's parser, the one the
    counts use (rate_limits.py), so that what passes here is what they apply."""
    name = setting.variable
    value = env.string(name, setting.default).strip()
    if value.lower() in RATE_LIMIT_OFF:
        return ""
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a rate such as {setting.default!r} or 'off', not {value!r}"
        ) from None
    return value


def config_env(config: Mapping[str, Any]) -> Env:
    """The config as the environment variables it came from (``ORDER_ADDRESS`` → ``PASAR_ORDER_ADDRESS``)."""
    values = {}
    for key, value in config.items():
        text = _as_text(value)
        if text is not None:
            values[f"{PREFIX}_{key}"] = text
    return Env(values)


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Path):
        return str(value)
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return None
