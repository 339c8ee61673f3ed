"""What a component must refuse at start, checked on the component started as users start it.

Every component's start-up test takes :data:`REFUSED_SECRETS` (missing, each development
default of the whole shop, one byte short) and asserts with :func:`assert_refused` that
the process exits with status 2 and one line on stderr naming the variable. Every service's
``migrate`` needs its database alone (:func:`assert_migrate_needs_the_database_alone`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import peewee

from pasar_kit import database as db
from pasar_kit.config import DEVELOPMENT_SECRETS, MINIMUM_SECRET_BYTES, Env
from pasar_testkit.processes import console_script, run_to_exit

# (value, or None for unset; what the one line says about it)
REFUSED_SECRETS: Sequence[tuple[str | None, str]] = (
    (None, "is required when PASAR_ENV is 'production'"),
    *((default, "must not be a development default") for default in sorted(DEVELOPMENT_SECRETS)),
    ("s" * (MINIMUM_SECRET_BYTES - 1), f"must be at least {MINIMUM_SECRET_BYTES} bytes"),
)

# A secret production accepts: 48 random-looking hex digits, as docker/make-env writes.
GOOD_SECRET = "3f9a1c0d7e5b2a8f6c4d1e0b9a7f5c3e2d1b0a9f8e7d6c5b"  # noqa: S105 - a test value


def refused_secret_ids() -> list[str]:
    """Readable test ids for REFUSED_SECRETS."""
    return [
        "missing" if value is None else value if value in DEVELOPMENT_SECRETS else "short"
        for value, _ in REFUSED_SECRETS
    ]


def with_secret(env: Mapping[str, str], name: str, value: str | None) -> dict[str, str]:
    """env with the secret set to value, or without it when value is None."""
    result = {key: item for key, item in env.items() if key != name}
    if value is not None:
        result[name] = value
    return result


def assert_refused(
    command: Sequence[str], env: Mapping[str, str], variable: str, says: str
) -> subprocess.CompletedProcess[str]:
    """Runs command in production with env; asserts exit status 2 and one stderr line."""
    result = run_to_exit(command, {"PASAR_ENV": "production", "PASAR_LOG_FORMAT": "text", **env})
    assert result.returncode == 2, f"exit status {result.returncode}:\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{variable} {says}" in lines[0], lines[0]
    return result


def assert_migrate_needs_the_database_alone(
    service: str,
    database_url: str,
    bad_setting: Mapping[str, str],
    variable: str,
    *,
    open_database: Callable[[Env], peewee.Database],
    migrations_dir: Path,
) -> None:
    """``pasar-<service> migrate`` with bad_setting (unrelated to the database) applies every
    migration and exits 0, while ``serve`` refuses it in one line naming variable."""
    command = console_script(f"pasar-{service}")
    env = {"DATABASE_URL": database_url, **bad_setting}
    migrate = run_to_exit([command, "migrate"], env)
    assert migrate.returncode == 0, migrate.stderr
    database = open_database(Env({"DATABASE_URL": database_url}))
    try:
        assert db.migrate(database, migrations_dir) == [], "migrate applied every migration"
    finally:
        db.close_pool(database)
    serve = run_to_exit([command, "serve"], env)
    assert serve.returncode == 2
    assert len(serve.stderr.splitlines()) == 1, serve.stderr
    assert variable in serve.stderr
