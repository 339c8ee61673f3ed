"""The pytest plugin of Pasar's tests: ``pytest_plugins = ["pasar_testkit.fixtures"]``.

``database_url`` is parametrised over the databases in ``PASAR_TEST_DATABASES``
(``sqlite,mariadb`` by default): each test that uses it runs once on a fresh SQLite file
and once on a fresh database of the private MariaDB server, started once per session.
Setting ``PASAR_TEST_DATABASES=sqlite`` runs SQLite only, for a quick loop; CI runs both.

It loads the failure-log hook (pasar_testkit.failure_logs), the figures summary
(pasar_testkit.figures) and the ``jaeger`` fixture (pasar_testkit.jaeger: a real Jaeger for
the session, started only by a test that asks for it) too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pasar_kit.server import GrpcServer
from pasar_testkit.mail import MailCatcher
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.stack import DATABASE_SERVICES, sqlite_database_urls

pytest_plugins = ["pasar_testkit.failure_logs", "pasar_testkit.figures", "pasar_testkit.jaeger"]

DATABASES = [
    name.strip() for name in os.environ.get("PASAR_TEST_DATABASES", "sqlite,mariadb").split(",") if name
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        metafunc.parametrize(
            "database_kind",
            [
                pytest.param(kind, marks=[pytest.mark.mariadb] if kind == "mariadb" else [])
                for kind in DATABASES
            ],
            scope="function",
        )


def running_mariadb(folder: Path) -> Iterator[MariaDBServer]:
    """A MariaDB server in folder, started, and removed at the end (for a fixture's yield)."""
    server = MariaDBServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    """The session's private MariaDB server."""
    yield from running_mariadb(tmp_path_factory.mktemp("mariadb"))


@pytest.fixture
def own_mariadb(tmp_path: Path) -> Iterator[MariaDBServer]:
    """A MariaDB server of this test alone, so that stopping it (an outage) disturbs no other test."""
    yield from running_mariadb(tmp_path / "mariadb")


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of the kind under test."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server: MariaDBServer = request.getfixturevalue("mariadb")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def service_databases(
    database_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """A fresh, empty database per service, of the kind under test (for whole-shop tests)."""
    if database_kind == "sqlite":
        yield sqlite_database_urls(tmp_path / "databases")
        return
    server: MariaDBServer = request.getfixturevalue("mariadb")
    urls = {name: server.create_database(prefix=f"pasar_{name}") for name in DATABASE_SERVICES}
    try:
        yield urls
    finally:
        for url in urls.values():
            server.drop_database(url)


@pytest.fixture
def grpc_servers() -> Iterator[Callable[..., GrpcServer]]:
    """Starts in-process GrpcServers (the arguments of GrpcServer); stops every one at the
    end of the test, whatever happened."""
    started: list[GrpcServer] = []

    def start(*args: Any, **kwargs: Any) -> GrpcServer:
        server = GrpcServer(*args, **kwargs)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=0)


@pytest.fixture
def mail_catcher() -> Iterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on a free loopback port, accepting any sender, stopped
    after the test; tests that need TLS, a login or a stalling server make their own."""
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()
