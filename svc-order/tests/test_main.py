"""The ``pasar-order`` command: migrations, serving as a process, configuration errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playhouse.pool import PooledDatabase

from pasar_kit import database as db
from pasar_kit.config import Env
from pasar_kit.readiness import grpc_health
from pasar_order.main import MIGRATIONS_DIR, main, open_database
from pasar_order.models import ALL_MODELS
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, console_script
from pasar_testkit.production import assert_migrate_needs_the_database_alone


def test_migrate_creates_the_schema_the_models_describe(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PASAR_LOG_LEVEL", "warning")
    assert main(["migrate"]) == 0
    database = open_database(Env({"DATABASE_URL": database_url}))
    try:
        # A second run finds nothing to do.
        assert db.migrate(database, MIGRATIONS_DIR) == []
        with database.connection_context():
            for model in ALL_MODELS:
                table = model._meta.table_name
                columns = {column.name: column.null for column in database.get_columns(table)}
                expected = {field.column_name: field.null for field in model._meta.sorted_fields}
                assert columns == expected, table
                indexes = {tuple(index.columns) for index in database.get_indexes(table) if index.unique}
                for fields, unique in model._meta.indexes:
                    if unique:
                        assert tuple(model._meta.fields[name].column_name for name in fields) in indexes
    finally:
        if isinstance(database, PooledDatabase):
            database.close_all()


# Settings serve refuses and migrate, which needs the database alone, never reads.
UNRELATED_BAD_SETTINGS = [
    pytest.param({"SMTP_URL": "ftp://mail"}, "SMTP_URL", id="smtp-url"),
    pytest.param({"PASAR_ENV": "production"}, "PASAR_ORDER_TOKEN_SECRET", id="production-without-secrets"),
    pytest.param({"PASAR_TLS_CERT": "/nonexistent/cert.pem"}, "PASAR_TLS_CERT", id="tls-file-missing"),
    pytest.param({"PASAR_LISTEN_ADDRESS": "nowhere"}, "PASAR_LISTEN_ADDRESS", id="listen-address"),
]


@pytest.mark.parametrize(("bad", "variable"), UNRELATED_BAD_SETTINGS)
def test_migrate_needs_the_database_url_alone(database_url: str, bad: dict[str, str], variable: str) -> None:
    assert_migrate_needs_the_database_alone(
        "order", database_url, bad, variable, open_database=open_database, migrations_dir=MIGRATIONS_DIR
    )


def test_a_mail_folder_that_cannot_be_created_ends_the_start_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = subprocess.run(
        [console_script("pasar-order"), "serve"],
        env={
            "DATABASE_URL": database_url,
            "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{free_port()}",
            "PASAR_MAIL_DIR": str(tmp_path / "a-file" / "mail"),
            "PASAR_LOG_LEVEL": "warning",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("pasar-order: PASAR_MAIL_DIR")
    assert str(tmp_path / "a-file" / "mail") in line


def test_the_service_serves_as_a_process_and_stops_on_sigterm(
    database_url: str, tmp_path: Path, catalog_server: FakeGrpcServer, payments_server: FakeGrpcServer
) -> None:
    process = ComponentProcess(
        "order",
        command=[console_script("pasar-order"), "serve"],
        env={
            "DATABASE_URL": database_url,
            "PASAR_PRODUCT_ADDRESS": catalog_server.address,
            "PASAR_PAYMENT_ADDRESS": payments_server.address,
            "PASAR_MAIL_DIR": str(tmp_path / "mail"),
            "PASAR_SHUTDOWN_GRACE_SECONDS": "2",
        },
        log_dir=tmp_path,
    )
    process.start()
    try:
        assert grpc_health(process.address) == 1  # SERVING
    finally:
        status = process.stop()
    assert status == 0
    assert '"message": "stopped"' in process.log_path.read_text()
