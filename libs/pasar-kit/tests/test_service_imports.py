"""What a running service has imported: only what it uses (issue 17, lighter processes).

Each service runs as a real process with ``PYTHONPROFILEIMPORTTIME=1``: CPython then writes
a line to stderr for every module the process imports, at start or later, so the test reads
the real process's imports without a debug hook in the services.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pasar_testkit.processes import ComponentProcess, console_script

SERVICES = ("product", "payment", "order")
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$")
# cryptography's Rust bindings and OpenSSL: PyMySQL's RSA password exchange, which neither a
# SQLite database nor a MariaDB account (mysql_native_password) asks for. About 7 MB.
RSA_EXCHANGE_MODULES = ("cryptography.hazmat.bindings._rust", "cryptography.hazmat.primitives.serialization")


def served_imports(service: str, database_url: str, tmp_path: Path, *options: str, **env: str) -> set[str]:
    """Every module pasar-<service> serve imported until it had answered a health check."""
    process = ComponentProcess(
        service,
        command=[console_script(f"pasar-{service}"), "serve", *options],
        env={
            "PASAR_ENV": "development",
            "DATABASE_URL": database_url,
            "PASAR_MAIL_DIR": str(tmp_path / "mail"),
            "PYTHONPROFILEIMPORTTIME": "1",
            **env,
        },
        log_dir=tmp_path / "logs",
    )
    process.start()  # returns once the service answers its health check: SERVING
    assert process.stop() == 0, process.log_tail()
    lines = process.log_path.read_text().splitlines()
    return {match.group(1) for line in lines if (match := IMPORT_LINE.match(line))}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_rsa_exchange_library_of_the_mysql_driver(
    service: str, database_url: str, tmp_path: Path
) -> None:
    imported = served_imports(service, database_url, tmp_path)
    assert {"grpc", "peewee"} <= imported  # the trace shows the process's imports
    assert [name for name in RSA_EXCHANGE_MODULES if name in imported] == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_the_mysql_driver_only_for_a_mysql_database(
    service: str, database_url: str, tmp_path: Path
) -> None:
    """peewee imports PyMySQL whenever it is installed; a SQLite service never uses it
    (pasar_kit.deferred_imports.defer_mysql_driver)."""
    imported = served_imports(service, database_url, tmp_path)
    assert "peewee" in imported
    assert ("pymysql.connections" in imported) == database_url.startswith("mysql")


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_without_metrics_tracing_or_migrations_imports_none_of_their_libraries(
    service: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / f'{service}.db'}"
    migrated = subprocess.run(
        [console_script(f"pasar-{service}"), "migrate"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    imported = served_imports(service, database_url, tmp_path, "--no-migrate", PASAR_METRICS_ADDRESS="off")
    assert "grpc" in imported
    unused = ("prometheus_client", "opentelemetry", "peewee_migrate")
    assert sorted({name.split(".")[0] for name in imported} & set(unused)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_caps_its_malloc_arenas_without_searching_for_the_c_library(
    service: str, tmp_path: Path
) -> None:
    """ctypes.util.find_library runs ``ldconfig -p`` in a child process (29 ms of every
    start) to name a library the process has loaded already (pasar_kit.memory)."""
    imported = served_imports(service, f"sqlite:///{tmp_path / f'{service}.db'}", tmp_path)
    assert "grpc" in imported
    assert "ctypes.util" not in imported
