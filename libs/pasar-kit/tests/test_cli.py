"""The shared command line ends every expected start-up failure with one line and status 2.

Before, an unwritable SQLite path, an unreachable MySQL or a bad listen address printed a
traceback of 24 to 68 lines; the line names the cause, never a password.
"""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import peewee
import pytest
from conftest import FakeCatalog, registration
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar_kit import database as db
from pasar_kit import telemetry
from pasar_kit.cli import ExtraCommand, ServiceCli, mask_password
from pasar_kit.config import Env
from pasar_kit.server import GrpcServer, ServerSettings
from pasar_testkit.ports import free_port

BROKEN_MIGRATION = '''
"""Fails as a migration that does not fit the database does."""


def migrate(migrator, database, fake=False, **kwargs):
    migrator.sql("CREATE TABLE (")
'''

BUGGY_MIGRATION = '''
"""Fails as a bug does: not with a database's error."""


def migrate(migrator, database, fake=False, **kwargs):
    raise KeyError("a bug, not a start-up condition")
'''

RunCli = Callable[..., tuple[int, list[str]]]


def open_database(env: Env) -> peewee.Database:
    return db.connect(env.string("DATABASE_URL"), max_connections=4)


@dataclass(frozen=True)
class Settings:
    """A service's settings: its server's alone."""

    server: ServerSettings


def read_settings(env: Env) -> Settings:
    return Settings(ServerSettings.from_env(env, "127.0.0.1:0"))


def build_server(_settings: Settings, database: peewee.Database, server: ServerSettings) -> GrpcServer:
    return GrpcServer(server, [registration(FakeCatalog())], database)


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[RunCli]:
    """Runs a ServiceCli in process with env; returns its status and its stderr's lines.

    The command line takes over the root logger and the signal handlers, as a process's
    main does: both are put back afterwards.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    migrations = tmp_path / "migrations"
    migrations.mkdir()

    def run(
        env: dict[str, str],
        *argv: str,
        broken_migration: bool = False,
        extra_commands: Mapping[str, ExtraCommand] | None = None,
        opens_database: Callable[[Env], peewee.Database] | None = None,
        builds_server: Callable[[Settings, peewee.Database, ServerSettings], GrpcServer] | None = None,
    ) -> tuple[int, list[str]]:
        for name, value in {"PASAR_ENV": "development", **env}.items():
            monkeypatch.setenv(name, value)
        if broken_migration:
            (migrations / "001_broken.py").write_text(BROKEN_MIGRATION)
        cli = ServiceCli(
            "test",
            "a service under test",
            migrations,
            opens_database or open_database,  # looked up now: a test may replace them
            read_settings,
            builds_server or build_server,
            extra_commands=extra_commands or {},
        )
        status = cli.main(list(argv))
        return status, capsys.readouterr().err.splitlines()

    try:
        yield run
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for number, handler in signals.items():
            signal.signal(number, handler)


def test_a_path_through_a_regular_file_ends_the_start_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("")
    url = f"sqlite:///{tmp_path / 'plain-file' / 'test.db'}"
    status, lines = run_cli({"DATABASE_URL": url}, "migrate")
    assert (status, len(lines)) == (2, 1)
    # mkdir says "File exists" of the file in the way: the line names it.
    assert lines[0].startswith(f"pasar-test: cannot open the database {url}: ")
    assert lines[0].endswith(str(tmp_path / "plain-file"))


def test_a_database_file_that_cannot_be_opened_ends_the_start_in_one_line(
    run_cli: RunCli, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it, even for root
    assert run_cli({"DATABASE_URL": url}, "serve") == (
        2,
        [f"pasar-test: cannot connect to the database {url}: unable to open database file"],
    )


def test_an_unreachable_mysql_is_named_with_its_password_masked(run_cli: RunCli) -> None:
    port = free_port()
    status, lines = run_cli({"DATABASE_URL": f"mysql://shop:s3cret@127.0.0.1:{port}/pasar"}, "serve")
    assert status == 2
    assert len(lines) == 1
    assert lines[0].startswith(
        f"pasar-test: cannot connect to the database mysql://shop:***@127.0.0.1:{port}/pasar: "
    )
    assert "(MySQL error 2003)" in lines[0]
    assert "s3cret" not in lines[0]


SHELF_MIGRATION = '''
"""Creates a table with a row."""


def migrate(migrator, database, fake=False, **kwargs):
    migrator.sql("CREATE TABLE shelf (name VARCHAR(10))")
    migrator.sql("INSERT INTO shelf (name) VALUES ('pulsa')")
'''


def test_a_finished_command_leaves_every_row_in_the_sqlite_file_itself(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """The pool is closed when a command ends, so SQLite folds its write-ahead log into the
    file: a copy of the file alone (as the benchmarks copy their catalogs) has every row."""
    (tmp_path / "migrations" / "001_shelf.py").write_text(SHELF_MIGRATION)
    database_file = tmp_path / "test.db"
    assert run_cli({"DATABASE_URL": f"sqlite:///{database_file}"}, "migrate") == (0, [])
    assert not Path(f"{database_file}-wal").exists()
    copy = tmp_path / "copy.db"
    copy.write_bytes(database_file.read_bytes())
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT name FROM shelf").fetchall() == [("pulsa",)]


class Shelf:
    """An extra command with an option of its own, recording what it was run with."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, list[tuple[str]]]] = []

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, default=1)

    def run(self, _env: Env, database: peewee.Database, options: argparse.Namespace) -> None:
        with database.connection_context():
            shelf = database.execute_sql("SELECT name FROM shelf").fetchall()
        self.runs.append((options.rows, [tuple(row) for row in shelf]))


def test_an_extra_command_reads_its_own_options_on_a_migrated_database(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """The kit parses an extra command's options (the catalog's load-synthetic --products N)
    and, when the command asks, applies the migrations first, as serve does."""
    (tmp_path / "migrations" / "001_shelf.py").write_text(SHELF_MIGRATION)
    shelf = Shelf()
    commands = {
        "stock-shelf": ExtraCommand("stock a shelf", shelf.run, shelf.add_arguments, migrates_first=True)
    }
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}
    assert run_cli(env, "stock-shelf", "--rows", "3", extra_commands=commands) == (0, [])
    assert run_cli(env, "stock-shelf", extra_commands=commands) == (0, [])
    assert shelf.runs == [(3, [("pulsa",)]), (1, [("pulsa",)])]


def test_an_extra_commands_bad_option_ends_with_status_2_naming_it(
    run_cli: RunCli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shelf = Shelf()
    commands = {"stock-shelf": ExtraCommand("stock a shelf", shelf.run, shelf.add_arguments)}
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}
    with pytest.raises(SystemExit) as exited:
        run_cli(env, "stock-shelf", "--rows", "many", extra_commands=commands)
    assert exited.value.code == 2
    assert "--rows" in capsys.readouterr().err
    assert shelf.runs == []


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_migration_that_fails_ends_the_start_in_one_line(
    run_cli: RunCli, tmp_path: Path, command: str
) -> None:
    """serve migrates in a child process (migrate_in_child): its failure ends the start the same way."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    status, lines = run_cli({"DATABASE_URL": url}, command, broken_migration=True)
    assert (status, len(lines)) == (2, 1)
    assert lines[0].startswith(f"pasar-test: cannot migrate the database {url}: ")


PID_RECORDING_MIGRATION = '''
"""Creates a table, and one named after the process it ran in."""
import os


def migrate(migrator, database, fake=False, **kwargs):
    migrator.sql("CREATE TABLE shelves (id INTEGER PRIMARY KEY)")
    migrator.sql(f"CREATE TABLE migrated_by_{os.getpid()} (id INTEGER)")
'''


def test_serve_migrates_in_a_child_process_and_then_serves(run_cli: RunCli, tmp_path: Path) -> None:
    """The serving process keeps nothing of the migration tool (its memory: about 1.5-2.3 MB
    resident in svc-order): the migrations run in a forked child, and the server starts
    once they are applied."""
    (tmp_path / "migrations" / "001_shelves.py").write_text(PID_RECORDING_MIGRATION)
    tables_at_start: list[set[str]] = []

    def builds_server(_settings: Settings, database: peewee.Database, server: ServerSettings) -> GrpcServer:
        with database.connection_context():
            tables_at_start.append(set(database.get_tables()))

        def terminate_soon(stopping: threading.Event) -> None:
            if not stopping.wait(0.3):
                os.kill(os.getpid(), signal.SIGTERM)

        return GrpcServer(server, [registration(FakeCatalog())], database, [terminate_soon])

    status, lines = run_cli(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}, "serve", builds_server=builds_server
    )
    assert status == 0, lines
    [tables] = tables_at_start
    assert "shelves" in tables, "the server is built on the migrated database"
    [migrated_by] = [name for name in tables if name.startswith("migrated_by_")]
    assert migrated_by != f"migrated_by_{os.getpid()}", "the migrations ran in another process"


def test_a_bad_listen_address_ends_the_start_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}", "PASAR_LISTEN_ADDRESS": "127.0.0.1:99999"}
    assert run_cli(env, "serve") == (
        2,
        ["pasar-test: PASAR_LISTEN_ADDRESS must end with a port from 1 to 65535, not '127.0.0.1:99999'"],
    )
    assert not (tmp_path / "test.db").exists(), "a refused setting ends the start before any migration"


def test_a_taken_address_ends_the_start_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}", "PASAR_LISTEN_ADDRESS": address}
        assert run_cli(env, "serve") == (
            2,
            [f"pasar-test: cannot listen on {address}: the address is already in use"],
        )


def test_an_unreadable_tls_file_ends_the_start_in_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "server.crt"
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "PASAR_TLS_CERT": str(missing),
        "PASAR_TLS_KEY": str(missing),
    }
    message = f"PASAR_TLS_CERT must name a readable file, not '{missing}' (No such file or directory)"
    assert run_cli(env, "serve") == (2, [f"pasar-test: {message}"])


def test_a_bug_still_shows_its_traceback(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_env: Env) -> peewee.Database:
        raise KeyError("a bug, not a start-up condition")

    monkeypatch.setattr(f"{__name__}.open_database", broken)
    with pytest.raises(KeyError):
        run_cli({"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}, "migrate")


def test_a_bug_in_a_migration_under_serve_still_ends_with_a_traceback(
    run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "migrations" / "001_buggy.py").write_text(BUGGY_MIGRATION)
    with pytest.raises(RuntimeError, match="the migrating process ended with status 1"):
        run_cli({"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"}, "serve")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://shop:s3cret@db:3306/pasar", "mysql://shop:***@db:3306/pasar"),
        ("mysql://shop:p%40ss@db/pasar?charset=utf8mb4", "mysql://shop:***@db/pasar?charset=utf8mb4"),
        ("mysql://shop@db/pasar", "mysql://shop@db/pasar"),
        ("sqlite:///var/product.db", "sqlite:///var/product.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert mask_password(url) == shown


def test_tracing_is_on_before_the_database_opens_and_off_after_the_command(
    run_cli: RunCli, tmp_path: Path
) -> None:
    tracing_when_opened: list[bool] = []

    def opens_database(env: Env) -> peewee.Database:
        tracing_when_opened.append(telemetry.tracing_enabled())
        return open_database(env)

    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'traced.db'}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
    }
    status, errors = run_cli(env, "migrate", opens_database=opens_database)
    assert (status, errors) == (0, [])
    assert tracing_when_opened == [True]
    assert not telemetry.tracing_enabled()


def test_the_spans_of_work_ending_after_sigterm_are_exported_before_exit(
    run_cli: RunCli, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    telemetry.configure_tracing("svc-test", Env({}), exporter=exporter)  # ServiceCli's call keeps it

    def last_work(stopping: threading.Event) -> None:
        stopping.wait()
        time.sleep(0.5)  # work that outlasts the server's own stop
        with telemetry.span_for_stored_work("process last-work", parent=None):
            pass

    def terminate_soon(stopping: threading.Event) -> None:
        if not stopping.wait(0.3):
            os.kill(os.getpid(), signal.SIGTERM)

    def builds_server(_settings: Settings, database: peewee.Database, server: ServerSettings) -> GrpcServer:
        return GrpcServer(server, [registration(FakeCatalog())], database, [last_work, terminate_soon])

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'stopped.db'}", "PASAR_SHUTDOWN_GRACE_SECONDS": "0"}
    try:
        status, _ = run_cli(env, "serve", builds_server=builds_server)
    finally:
        telemetry.shutdown_tracing()
    assert status == 0
    assert [span.name for span in exporter.get_finished_spans()] == ["process last-work"]
