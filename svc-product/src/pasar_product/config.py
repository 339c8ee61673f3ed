"""The catalog service's settings, read from the environment once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from pasar_kit.callers import InternalCallers
from pasar_kit.config import Env
from pasar_kit.leases import LeaseTiming
from pasar_kit.server import ServerSettings

DEFAULT_LISTEN_ADDRESS = "127.0.0.1:50051"
DEFAULT_DATABASE_URL = "sqlite:///var/product.db"
# Works only while PASAR_ENV is development (pasar_kit.config.Env.secret).
DEVELOPMENT_ADMIN_TOKEN = "dev-admin-token"  # noqa: S105 - the documented development default
# The callers of the internal methods unless PASAR_INTERNAL_CALLERS says otherwise.
INTERNAL_CALLERS = ("order",)
# A reservation's lifetime when its caller gives no expire_time: beyond the order service's
# default order lifetime (15 minutes) with a wide margin. Whatever a caller asks, no
# reservation lasts longer than the maximum.
DEFAULT_RESERVATION_TTL_SECONDS = 2 * 3600.0
MAX_RESERVATION_TTL_SECONDS = 72 * 3600.0


@dataclass(frozen=True)
class Settings:
    """Where the service listens, which database it owns, and the administrator's token."""

    server: ServerSettings
    database_url: str
    admin_token: str
    # Who may call the internal methods (ReserveStock, ...): the order service alone.
    callers: InternalCallers = field(default_factory=InternalCallers)
    # A reservation the order service neither commits nor releases is released after this
    # long, or at the expire_time the caller gave, never later than the maximum.
    reservation_ttl_seconds: float = DEFAULT_RESERVATION_TTL_SECONDS
    reservation_max_ttl_seconds: float = MAX_RESERVATION_TTL_SECONDS
    reservation_sweep_seconds: float = 30.0
    # The expiry sweep runs in the one process holding its lease (pasar_kit.leases).
    job_lease: LeaseTiming = field(default_factory=LeaseTiming)

    @classmethod
    def from_env(cls, env: Env) -> Settings:
        server = server_settings(env)
        return cls(
            server=server,
            database_url=database_url(env),
            admin_token=env.secret("PASAR_ADMIN_TOKEN", DEVELOPMENT_ADMIN_TOKEN),
            callers=InternalCallers.for_server(env, server, INTERNAL_CALLERS),
            reservation_ttl_seconds=env.number(
                "PASAR_RESERVATION_TTL_SECONDS", DEFAULT_RESERVATION_TTL_SECONDS, minimum=1
            ),
            reservation_max_ttl_seconds=env.number(
                "PASAR_RESERVATION_MAX_TTL_SECONDS", MAX_RESERVATION_TTL_SECONDS, minimum=1
            ),
            reservation_sweep_seconds=env.number("PASAR_RESERVATION_SWEEP_SECONDS", 30.0, minimum=0.05),
            job_lease=LeaseTiming.from_env(env),
        )


# The catalog's calls are short and CPU-bound (no streams, no calls to other services): with
# 16 threads, 16 concurrent ListProducts calls served 95 calls/s at 14 ms of CPU each, the
# threads trading the GIL at every row SQLite returns; with 4, 200 calls/s at 6 ms.
DEFAULT_WORKERS = 4


def server_settings(env: Env) -> ServerSettings:
    return ServerSettings.from_env(env, DEFAULT_LISTEN_ADDRESS, DEFAULT_WORKERS)


def database_url(env: Env) -> str:
    """DATABASE_URL alone: commands such as migrate need no other setting, nor the admin token."""
    return env.string("DATABASE_URL", DEFAULT_DATABASE_URL)
