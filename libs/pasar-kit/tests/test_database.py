"""DATABASE_URL to a pooled peewee database, and migrations, on SQLite and MariaDB alike."""

from __future__ import annotations

import logging
import ssl
import threading
from pathlib import Path
from typing import Any

import peewee
import pytest

from pasar_kit import database as db

MIGRATION = '''
"""Creates the shelf table."""

import peewee


def migrate(migrator, database, fake=False, **kwargs):
    @migrator.create_model
    class Shelf(peewee.Model):
        name = peewee.CharField(max_length=10, unique=True)
        items = peewee.IntegerField(default=0)

        class Meta:
            table_name = "shelf"


def rollback(migrator, database, fake=False, **kwargs):
    migrator.remove_model("shelf")
'''

proxy = peewee.DatabaseProxy()


class Shelf(peewee.Model):
    name = peewee.CharField(max_length=10, unique=True)
    items = peewee.IntegerField(default=0)

    class Meta:
        database = proxy
        table_name = "shelf"


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_shelf.py").write_text(MIGRATION)
    return directory


def test_migrations_apply_once_and_reach_the_schema(database_url: str, migrations: Path) -> None:
    database = db.bind(proxy, database_url)
    assert db.migrate(database, migrations) == ["001_shelf"]
    assert db.migrate(database, migrations) == [], "an up-to-date database needs nothing"
    with database.connection_context():
        Shelf.create(name="pulsa", items=3)
        assert Shelf.get(Shelf.name == "pulsa").items == 3
    db.close_pool(database)


def test_concurrent_read_then_write_transactions_lose_no_update(database_url: str, migrations: Path) -> None:
    """atomic_write makes read-modify-write safe from many threads on both databases."""
    database = db.bind(proxy, database_url, max_connections=8)
    db.migrate(database, migrations)
    with database.connection_context():
        Shelf.create(name="counter", items=0)

    def increment() -> None:
        for _ in range(10):
            with database.connection_context(), db.atomic_write(database):
                shelf = Shelf.select().where(Shelf.name == "counter")
                shelf = shelf.for_update() if db.is_mysql(database) else shelf
                current = shelf.get().items
                Shelf.update(items=current + 1).where(Shelf.name == "counter").execute()

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.connection_context():
        assert Shelf.get(Shelf.name == "counter").items == 80
    db.close_pool(database)


def test_sqlite_writers_take_turns_while_other_threads_keep_the_interpreter_busy(
    tmp_path: Path, migrations: Path
) -> None:
    """A SQLite writer waits for its turn, not a lucky poll, however slowly the GIL lets the
    holder finish: 8 writers beside 4 busy threads all get in (the busy threads once made
    the server's writers time out with "database is locked")."""
    database = db.bind(proxy, f"sqlite:///{tmp_path / 'turns.db'}", max_connections=8)
    db.migrate(database, migrations)
    with database.connection_context():
        Shelf.create(name="counter", items=0)
    stop = threading.Event()
    failures: list[BaseException] = []

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    def increment() -> None:
        try:
            for _ in range(10):
                with database.connection_context(), db.atomic_write(database):
                    current = Shelf.get(Shelf.name == "counter").items
                    Shelf.update(items=current + 1).where(Shelf.name == "counter").execute()
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    spinners = [threading.Thread(target=spin) for _ in range(4)]
    writers = [threading.Thread(target=increment) for _ in range(8)]
    for thread in spinners + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in spinners:
        thread.join()
    assert failures == []
    with database.connection_context():
        assert Shelf.get(Shelf.name == "counter").items == 80
    db.close_pool(database)


def test_a_sqlite_writer_that_waits_too_long_is_told_to_retry(
    tmp_path: Path, migrations: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for this process's other writers is bounded too, and the failure is
    contention (ABORTED, CONTENTION: the caller retries), not an internal error."""
    database = db.bind(proxy, f"sqlite:///{tmp_path / 'wait.db'}")
    db.migrate(database, migrations)
    monkeypatch.setattr(db, "SQLITE_WRITE_WAIT_SECONDS", 0.1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.connection_context(), db.atomic_write(database):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(5)
        with (
            database.connection_context(),
            pytest.raises(peewee.OperationalError) as waited,
            db.atomic_write(database),
        ):
            pass
        assert db.classify_error(waited.value) is db.DatabaseFailure.CONTENTION
    finally:
        release.set()
        holder.join()
    db.close_pool(database)


def test_too_long_values_are_errors_not_truncated(database_url: str, migrations: Path) -> None:
    database = db.bind(proxy, database_url)
    if not db.is_mysql(database):
        pytest.skip("SQLite does not enforce VARCHAR lengths; the contracts' rules bound lengths first")
    db.migrate(database, migrations)
    with database.connection_context():
        with pytest.raises(peewee.DataError):
            Shelf.create(name="x" * 11)
        assert Shelf.select().count() == 0
    db.close_pool(database)


def test_a_mysql_pool_shares_one_tls_context_that_loads_no_certificates(database_url: str) -> None:
    """PyMySQL's default mode gave every connection its own TLS context holding the
    system's CA certificates (about 0.9 MB each, never used: it verifies nothing); the
    pool's connections now share one that holds none, and still connect in the clear to a
    server that offers no TLS (the tests' MariaDB), as the default mode did."""
    database = db.connect(database_url, max_connections=5)
    if not db.is_mysql(database):
        pytest.skip("SQLite connections have no TLS")
    held = 3
    all_held = threading.Barrier(held)
    connections: list[Any] = []
    ciphers: list[str] = []

    def hold_one() -> None:
        with database.connection_context():
            connections.append(database.connection())
            ciphers.append(database.execute_sql("SHOW SESSION STATUS LIKE 'Ssl_cipher'").fetchone()[1])
            all_held.wait(timeout=10)  # three connections open at once: three of the pool's

    threads = [threading.Thread(target=hold_one) for _ in range(held)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len({id(connection) for connection in connections}) == held
        contexts = [context for connection in connections if (context := getattr(connection, "ctx", None))]
        assert len({id(context) for context in contexts}) <= 1, "one context for the pool, if any"
        assert all(context.cert_store_stats()["x509_ca"] == 0 for context in contexts)
        assert ciphers == [""] * held, "a server without TLS is spoken to in the clear"
    finally:
        db.close_pool(database)


def test_the_pools_tls_context_verifies_nothing_as_pymysqls_default_did() -> None:
    context = db.unverified_tls_context()
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)
    assert context.cert_store_stats()["x509_ca"] == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://x/y", "must start with sqlite:/// or mysql://"),
        ("sqlite:///", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
        ("mysql://user@host", "needs a host and a database name"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(db.DatabaseUrlError, match=message):
        db.connect(url)


def test_a_sqlite_connection_keeps_at_most_256_kib_of_pages_and_20_prepared_statements(
    tmp_path: Path,
) -> None:
    database = db.connect(f"sqlite:///{tmp_path / 'caches.db'}")
    with database.connection_context():
        assert database.execute_sql("PRAGMA cache_size").fetchone()[0] == -256
    assert database.connect_params["cached_statements"] == 20


def test_a_sqlite_pool_opens_at_most_sqlite_connections_and_a_thread_beyond_waits_for_one(
    tmp_path: Path,
) -> None:
    database = db.connect(f"sqlite:///{tmp_path / 'bounded.db'}", 20, sqlite_connections=2)
    assert isinstance(database, db.CountedPool)
    assert database.pool_figures().maximum == 2
    holding, release, third_in = threading.Barrier(3), threading.Event(), threading.Event()

    def hold() -> None:
        with database.connection_context():
            holding.wait(5)
            release.wait(5)

    def third() -> None:
        with database.connection_context():
            third_in.set()

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    holding.wait(5)
    waiting = threading.Thread(target=third)
    waiting.start()
    try:
        assert not third_in.wait(0.3), "a third connection was opened"
        assert database.pool_figures() == db.PoolFigures(in_use=2, idle=0, maximum=2)
    finally:
        release.set()
    assert third_in.wait(5), "the third thread took a connection handed back"
    for thread in [*holders, waiting]:
        thread.join(5)
    assert database.pool_figures() == db.PoolFigures(in_use=0, idle=2, maximum=2)
    db.close_pool(database)


def test_sqlite_connections_bound_no_other_pool(tmp_path: Path) -> None:
    unbounded = db.connect(f"sqlite:///{tmp_path / 'never-opened.db'}", 20)
    mysql = db.connect("mysql://shop:secret@db.invalid:3306/shop", 20, sqlite_connections=2)
    larger = db.connect(f"sqlite:///{tmp_path / 'never-opened.db'}", 5, sqlite_connections=8)
    assert isinstance(unbounded, db.CountedPool)
    assert isinstance(mysql, db.CountedPool)
    assert isinstance(larger, db.CountedPool)
    assert unbounded.pool_figures().maximum == 20
    assert mysql.pool_figures().maximum == 20
    assert larger.pool_figures().maximum == 5


def test_relative_sqlite_path_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    database = db.connect("sqlite:///var/shop.db")
    db.ping(database)
    assert (tmp_path / "var" / "shop.db").exists()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (peewee.OperationalError(2003, "Can't connect to MySQL server"), db.DatabaseFailure.UNAVAILABLE),
        (peewee.OperationalError(2013, "Lost connection"), db.DatabaseFailure.UNAVAILABLE),
        (peewee.InterfaceError("(0, '')"), db.DatabaseFailure.UNAVAILABLE),
        (peewee.OperationalError(1213, "Deadlock found"), db.DatabaseFailure.CONTENTION),
        (peewee.OperationalError(1205, "Lock wait timeout"), db.DatabaseFailure.CONTENTION),
        (peewee.OperationalError("database is locked"), db.DatabaseFailure.CONTENTION),
        (peewee.OperationalError("unable to open database file"), db.DatabaseFailure.UNAVAILABLE),
        (peewee.OperationalError(4025, "CONSTRAINT `stock` failed"), db.DatabaseFailure.OTHER),
        (peewee.IntegrityError(1062, "Duplicate entry"), db.DatabaseFailure.OTHER),
        (ValueError("not a database error"), db.DatabaseFailure.OTHER),
    ],
)
def test_database_errors_are_classified_for_the_caller(
    error: Exception, expected: db.DatabaseFailure
) -> None:
    assert db.classify_error(error) is expected


SEED_MIGRATION = '''
"""Puts the first shelf in."""


def migrate(migrator, database, fake=False, **kwargs):
    migrator.sql("INSERT INTO shelf (name, items) VALUES ('pulsa', 0)")


def rollback(migrator, database, fake=False, **kwargs):
    migrator.sql("DELETE FROM shelf")
'''


def test_migrating_says_at_info_only_which_migrations_it_applied(
    database_url: str, migrations: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (migrations / "002_seed.py").write_text(SEED_MIGRATION)
    database = db.bind(proxy, database_url)
    caplog.set_level(logging.INFO)
    try:
        assert db.migrate(database, migrations) == ["001_shelf", "002_seed"]
    finally:
        db.close_pool(database)
    shown = [record for record in caplog.records if record.levelno >= logging.INFO]
    said = [(record.levelno, record.getMessage()) for record in shown]
    assert said == [(logging.INFO, "applied migrations")]
    assert [getattr(record, "migrations", None) for record in caplog.records] == [["001_shelf", "002_seed"]]


def test_the_steps_of_a_migration_and_its_sql_are_shown_at_debug(
    database_url: str, migrations: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (migrations / "002_seed.py").write_text(SEED_MIGRATION)
    database = db.bind(proxy, database_url)
    caplog.set_level(logging.DEBUG)
    try:
        db.migrate(database, migrations)
    finally:
        db.close_pool(database)
    sql_lines = [record for record in caplog.records if "INSERT INTO shelf" in record.getMessage()]
    assert sql_lines, "the SQL a migration runs is shown at debug"
    assert {record.levelno for record in sql_lines} == {logging.DEBUG}


class WatchedLock:
    """A lock that tells when a thread starts to wait for it."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.waited = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.lock.acquire(False):
            return True
        if not blocking:
            return False
        self.waited.set()
        return bool(self.lock.acquire(True, timeout))

    def release(self) -> None:
        self.lock.release()


def test_a_writer_waiting_for_the_write_lock_holds_no_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the pool bounded at 2, a reader still gets a connection while one writer writes
    and another waits its turn; the waiter then writes on a connection taken again."""
    database = db.connect(f"sqlite:///{tmp_path / 'writers.db'}", 20, sqlite_connections=2)
    serialized = database  # peewee's own methods are typed on the Database it returns
    assert isinstance(serialized, db.SerializedSqliteDatabase)
    lock = WatchedLock(serialized.write_lock)
    monkeypatch.setattr(serialized, "write_lock", lock)
    with database.connection_context():
        database.execute_sql("CREATE TABLE item (name TEXT)")
    writing, finish, reader_in = threading.Event(), threading.Event(), threading.Event()

    def first_writer() -> None:
        with database.connection_context(), db.atomic_write(database):
            database.execute_sql("INSERT INTO item VALUES ('first')")
            writing.set()
            finish.wait(5)

    def second_writer() -> None:
        with database.connection_context(), db.atomic_write(database):
            database.execute_sql("INSERT INTO item VALUES ('second')")

    def reader() -> None:
        with database.connection_context():
            database.execute_sql("SELECT count(*) FROM item").fetchone()
            reader_in.set()

    first = threading.Thread(target=first_writer)
    first.start()
    assert writing.wait(5)
    second = threading.Thread(target=second_writer)
    second.start()
    assert lock.waited.wait(5)
    try:
        assert serialized.pool_figures().in_use == 1, "the waiting writer kept a connection"
        third = threading.Thread(target=reader)
        third.start()
        assert reader_in.wait(5), "no connection for a reader while a writer waited"
    finally:
        finish.set()
    for thread in (first, second, third):
        thread.join(5)
    with database.connection_context():
        assert database.execute_sql("SELECT name FROM item ORDER BY rowid").fetchall() == [
            ("first",),
            ("second",),
        ]
    assert serialized.pool_figures().in_use == 0
    db.close_pool(database)
