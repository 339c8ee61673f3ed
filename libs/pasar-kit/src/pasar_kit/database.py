"""The service's database, chosen at run time from ``DATABASE_URL``, and its migrations.

``sqlite:///var/product.db`` (relative) or ``sqlite:////srv/product.db`` (absolute) opens
SQLite in WAL mode with a busy timeout, so that readers never block the writer and
concurrent writers wait rather than fail; each connection keeps at most 20 prepared
statements and 256 KiB of pages (SQLITE_CACHED_STATEMENTS, SQLITE_PAGE_CACHE_KIB).
``mysql://user:password@host:3306/name`` opens MySQL or MariaDB through pymysql. Both are
connection pools (``playhouse.pool``) sized to the server's worker threads (a SQLite pool
may be bounded lower, its threads then waiting their turn: ``sqlite_connections``), with
autoconnect off: every RPC runs inside
``connection_context()`` (the server's call pipeline does it), as peewee's docs advise.

Models bind to a per-service :class:`peewee.DatabaseProxy`; :func:`bind` initialises it.
Both pools count their connections (:meth:`CountedPool.pool_figures`, for the metrics).

A MySQL pool's connections use TLS when the server offers it, without verifying its
certificate, as PyMySQL does by default; but through one TLS context for the whole pool,
holding no CA certificate (:class:`_OneTlsContext` says why).
"""

from __future__ import annotations

import enum
import fcntl
import logging
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import peewee
import pymysql  # a stand-in on SQLite until a MySQL connection is made (pasar_kit.deferred_imports)
from playhouse.pool import PooledMySQLDatabase, PooledSqliteDatabase

log = logging.getLogger(__name__)

# Seconds a pooled connection may stay idle before it is replaced, and a pool checkout may wait.
STALE_TIMEOUT = 300
POOL_TIMEOUT = 10
# How long a SQLite writer waits for the write lock: first its turn among this process's
# writers, then SQLite's busy timeout against other processes.
SQLITE_WRITE_WAIT_SECONDS = 10
# The server-side lock that serialises migrations when several instances start at once.
MIGRATION_LOCK_SECONDS = 60
# What each pooled SQLite connection keeps: the statements it prepared (Python's sqlite3 keeps
# 128 by default, about 6 KB each), and its page cache (2,000 KiB by default). A pool holds a
# connection per thread that ever worked at once, and each connection came to hold every
# statement of the service (up to 45 in svc-order) and, now and then, megabytes of pages
# (a page cache is emptied anyway whenever another connection has written). Both measured
# together, svc-order with 8 worker threads under the bench's checkout then delivery loads
# on SQLite, fresh shops side by side in five alternating pairs: its peak RSS 79.1 -> 79.1,
# 79.2 -> 78.8, 80.3 -> 78.8, 80.0 -> 78.9, 80.2 -> 78.8 MB (SQLite's own memory after the
# delivery load 5.3 -> 3.7 MB in one); its CPU per checkout 4.30 -> 4.12, 4.68 -> 4.35,
# 4.96 -> 4.89, 4.83 -> 5.03, 4.75 -> 4.21 ms: no more than before.
SQLITE_CACHED_STATEMENTS = 20
SQLITE_PAGE_CACHE_KIB = 256


class DatabaseUrlError(ValueError):
    """DATABASE_URL cannot be understood; the message says why."""


def connect(url: str, max_connections: int = 20, sqlite_connections: int | None = None) -> peewee.Database:
    """A pooled, not yet connected database for url. On SQLite the pool opens at most
    sqlite_connections when that is given and fewer than max_connections: a thread that
    finds none idle then waits for one handed back (up to POOL_TIMEOUT)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return _sqlite(parts.path, min(max_connections, sqlite_connections or max_connections))
    if parts.scheme in ("mysql", "mariadb"):
        return _mysql(url, max_connections)
    raise DatabaseUrlError(
        f"DATABASE_URL must start with sqlite:/// or mysql://, not {parts.scheme or url!r}://"
    )


@dataclass(frozen=True)
class PoolFigures:
    """A pool's connections now: checked out by a thread, open and waiting, and the most it opens."""

    in_use: int
    idle: int
    maximum: int


class _ConnectionCounts:
    """Counts of one pool, kept by its classes below (peewee's pool has no public figures)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0  # driver connections opened and not yet closed
        self.in_use = 0  # threads holding one (connect() opened, close() not yet called)

    def add(self, open_change: int = 0, in_use_change: int = 0) -> None:
        with self.lock:
            self.open += open_change
            self.in_use += in_use_change


class CountedPool:
    """Put first among a pool's bases: counts the connections threads check out and in
    through peewee's public connect() and close()."""

    def __init__(self, *args: Any, max_connections: int = 20, **kwargs: Any) -> None:
        self.connection_counts = _ConnectionCounts()
        self.maximum_connections = max_connections
        super().__init__(*args, max_connections=max_connections, **kwargs)  # type: ignore[call-arg]

    def connect(self, reuse_if_open: bool = False) -> bool:
        opened: bool = super().connect(reuse_if_open)  # type: ignore[misc]
        if opened:
            self.connection_counts.add(in_use_change=1)
        return opened

    def close(self) -> bool:
        closed: bool = super().close()  # type: ignore[misc]
        if closed:
            self.connection_counts.add(in_use_change=-1)
        return closed

    @contextmanager
    def released_while_waiting(self) -> Iterator[None]:
        """This thread's connection back in the pool for the block, and a connection of the
        pool taken again after it; nothing done in a transaction (it keeps its connection)
        or without a connection.

        The connection_context() entries of this thread (peewee's thread state, which
        close() empties) are carried over to the connection taken again, so that leaving
        them hands it back as usual.
        """
        if self.is_closed() or self.in_transaction():  # type: ignore[attr-defined]
            yield
            return
        contexts = self._state.ctx  # type: ignore[attr-defined]
        self.close()
        try:
            yield
        finally:
            try:
                self.connect()
            finally:
                self._state.ctx = contexts  # type: ignore[attr-defined]

    def pool_figures(self) -> PoolFigures:
        counts = self.connection_counts
        with counts.lock:
            in_use, open_now = counts.in_use, counts.open
        return PoolFigures(in_use=in_use, idle=max(open_now - in_use, 0), maximum=self.maximum_connections)


class _CountsDriverConnections:
    """Put before a driver class, beneath the pool (the pool calls it for each connection it
    opens or closes): _connect and _close are the hooks peewee's drivers implement."""

    connection_counts: _ConnectionCounts

    def _connect(self) -> Any:
        connection = super()._connect()  # type: ignore[misc]
        self.connection_counts.add(open_change=1)
        return connection

    def _close(self, conn: Any) -> None:
        try:
            super()._close(conn)  # type: ignore[misc]
        finally:
            self.connection_counts.add(open_change=-1)


def unverified_tls_context() -> ssl.SSLContext:
    """A client TLS context that checks no certificate, so loads none: what PyMySQL's
    default ("preferred") mode builds for each connection, less the system's CA store
    it would load and never use."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class _OneTlsContext:
    """Put before peewee's MySQL driver: TLS when the server offers it, through the one
    context of ``connect_params["ssl"]``, and plain connections from the first server
    that offers none.

    PyMySQL's default mode does the same per connection, but builds each one its own TLS
    context and loads the system's CA certificates into it, about 0.9 MB of OpenSSL's
    memory per connection, kept while it lives, although it never verifies with them.
    Measured under the bench's checkout load on MariaDB, before -> after in one sitting:
    svc-order 95.0 -> 77.2 MB resident, svc-payment 84.9 -> 70.4, svc-product 73.6 ->
    68.8, the servers' CPU per checkout unchanged (18.43 -> 18.41 ms); in another,
    svc-payment 80.6 -> 69.5 and svc-product 72.7 -> 69.0. Given a context, PyMySQL requires
    TLS and says CR_SSL_CONNECTION_ERROR when the server offers none; the pool then
    connects without from then on (``ssl_disabled``), as the default mode would have.
    """

    connect_params: dict[str, Any]

    def _connect(self) -> Any:
        try:
            return super()._connect()  # type: ignore[misc]
        except pymysql.err.OperationalError as error:
            if not _offers_no_tls(error) or "ssl" not in self.connect_params:
                raise
        params = {key: value for key, value in self.connect_params.items() if key != "ssl"}
        self.connect_params = params | {"ssl_disabled": True}  # one assignment: threads see either
        log.debug("the MySQL server offers no TLS: its connections are plain")
        return super()._connect()  # type: ignore[misc]


def _offers_no_tls(error: pymysql.err.OperationalError) -> bool:
    from pymysql.constants import CR  # noqa: PLC0415 - a submodule imports PyMySQL: MySQL only

    return bool(error.args) and error.args[0] == CR.CR_SSL_CONNECTION_ERROR


class _CountedSqliteDriver(_CountsDriverConnections, peewee.SqliteDatabase):
    pass


class _CountedMySQLDriver(_CountsDriverConnections, _OneTlsContext, peewee.MySQLDatabase):
    pass


class CountedMySQLDatabase(CountedPool, PooledMySQLDatabase, _CountedMySQLDriver):
    """The MySQL/MariaDB pool, counting its connections."""


class SerializedSqliteDatabase(CountedPool, PooledSqliteDatabase, _CountedSqliteDriver):
    """A pooled SQLite database whose write transactions queue on a lock of this process.

    SQLite lets one writer in at a time; the others poll (its busy handler sleeps up to
    100 ms between tries), so a waiter can miss every free moment while others come and
    go, and fail with "database is locked" after the busy timeout. That happens when the
    writer holding the lock is slow to finish, and in CPython it is: a thread in a write
    transaction gives up the GIL at every statement and must win it back from every other
    busy thread of the process before its next one, 5 ms each at the default switch
    interval. (Measured: 12 shoppers reserving and releasing against a stock of 20 beside
    busy threads took 22 s, and with more of them calls failed with CONTENTION.)
    Writers of one process therefore wait their turn on a lock, which wakes the next one
    as soon as the lock is free, and only writers of other processes poll.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_lock = threading.RLock()


def _sqlite(path: str, max_connections: int) -> peewee.Database:
    # sqlite:///var/x.db has path "/var/x.db": the first slash separates, the rest is relative.
    relative = path[1:] if path.startswith("/") else path
    if not relative or relative == ":memory:":
        raise DatabaseUrlError(
            "sqlite:/// needs a file path; an in-memory database is not shared between threads"
        )
    file = Path(relative)
    file.parent.mkdir(parents=True, exist_ok=True)
    database: peewee.Database = SerializedSqliteDatabase(
        str(file),
        max_connections=max_connections,
        stale_timeout=STALE_TIMEOUT,
        timeout=POOL_TIMEOUT,
        autoconnect=False,
        check_same_thread=False,
        cached_statements=SQLITE_CACHED_STATEMENTS,
        pragmas={
            "journal_mode": "wal",
            "busy_timeout": SQLITE_WRITE_WAIT_SECONDS * 1000,
            "foreign_keys": 1,
            "synchronous": "normal",
            "cache_size": -SQLITE_PAGE_CACHE_KIB,  # negative: KiB, not pages
        },
    )
    return database


def _mysql(url: str, max_connections: int) -> peewee.Database:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not parts.hostname:
        raise DatabaseUrlError(
            "mysql:// needs a host and a database name: mysql://user:password@host:3306/name"
        )
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    database: peewee.Database = CountedMySQLDatabase(
        name,
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        charset=options.get("charset", "utf8mb4"),
        connect_timeout=int(options.get("connect_timeout", "5")),
        read_timeout=int(options.get("read_timeout", "30")),
        write_timeout=int(options.get("write_timeout", "30")),
        # Strict mode: a value that does not fit is an error, never silently truncated.
        init_command="SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
        ssl=unverified_tls_context(),  # shared by the pool's connections (_OneTlsContext)
        max_connections=max_connections,
        stale_timeout=STALE_TIMEOUT,
        timeout=POOL_TIMEOUT,
        autoconnect=False,
    )
    return database


def bind(
    proxy: peewee.DatabaseProxy, url: str, max_connections: int = 20, sqlite_connections: int | None = None
) -> peewee.Database:
    """Opens the database for url (:func:`connect`) and points the service's models (via
    proxy) at it."""
    database = connect(url, max_connections, sqlite_connections)
    proxy.initialize(database)
    return database


@contextmanager
def released_while_waiting(database: peewee.Database) -> Iterator[None]:
    """Around a wait on another service, on SQLite: the calling thread's connection goes
    back to the pool meanwhile, unless a transaction holds it.

    A call holds its connection from start to end (the server's call pipeline), so the pool
    opens one per call in flight, and each SQLite connection keeps its own prepared
    statements and page cache (about 300 KB in svc-order), although a call waiting on a
    peer uses none. Taking a SQLite connection again costs about 7 us. Measured around the
    checkout's four peer calls, under the bench's checkout load on SQLite (seven alternating
    pairs of runs): svc-order's peak resident memory 79.5 -> 78.6 MB, 18-19 -> 17
    connections open. A MySQL pool pings the server at each take, which cost more than it
    saved (svc-order on MariaDB: 18.8 -> 24.6 ms of servers' CPU per checkout), so a MySQL
    connection stays with its call.
    """
    if not isinstance(database, SerializedSqliteDatabase):
        yield
        return
    with database.released_while_waiting():
        yield


def is_mysql(database: peewee.Database) -> bool:
    return isinstance(database, peewee.MySQLDatabase)


@contextmanager
def atomic_write(database: peewee.Database) -> Iterator[None]:
    """A transaction that writes; on SQLite it takes the write lock at BEGIN.

    A deferred SQLite transaction that reads first and writes later can fail with
    "database is locked" when another writer got there in between; BEGIN IMMEDIATE makes
    it wait instead, behind this process's other writers first (SerializedSqliteDatabase).
    MySQL takes row locks as it goes and needs nothing special.
    """
    if not isinstance(database, SerializedSqliteDatabase):
        options = {"lock_type": "IMMEDIATE"} if isinstance(database, peewee.SqliteDatabase) else {}
        with database.atomic(**options):
            yield
        return
    _take_write_lock(database)
    try:
        with database.atomic(lock_type="IMMEDIATE"):
            yield
    finally:
        database.write_lock.release()


def _take_write_lock(database: SerializedSqliteDatabase) -> None:
    """This process's write lock; a thread that must wait for it waits without a connection
    (released_while_waiting), as a waiter uses none, so a bounded pool serves the readers
    and the writer meanwhile."""
    lock = database.write_lock
    if lock.acquire(blocking=False):
        return
    acquired = False
    try:
        with database.released_while_waiting():
            acquired = lock.acquire(timeout=SQLITE_WRITE_WAIT_SECONDS)
    except BaseException:
        if acquired:  # the connection could not be taken again
            lock.release()
        raise
    if not acquired:
        # Classified as contention (ABORTED, CONTENTION): the caller may retry.
        raise peewee.OperationalError(
            f"database is locked: this process's writers held it for {SQLITE_WRITE_WAIT_SECONDS} s"
        )


class DatabaseFailure(enum.Enum):
    """What a database error means for the caller."""

    UNAVAILABLE = "unavailable"  # the server cannot be reached, or is overloaded: retry later
    CONTENTION = "contention"  # a deadlock or lock timeout: retrying the request succeeds
    OTHER = "other"  # a bug or a violated constraint: retrying does not help


# MySQL/MariaDB error numbers (the first argument of pymysql's errors): too many
# connections, server shutdown, cannot connect, gone away, lost connection; lock wait
# timeout and deadlock.
MYSQL_FAILURES = {
    **dict.fromkeys((1040, 1053, 2002, 2003, 2005, 2006, 2013, 2055), DatabaseFailure.UNAVAILABLE),
    **dict.fromkeys((1205, 1213), DatabaseFailure.CONTENTION),
}
# SQLite reports by message only.
SQLITE_FAILURES = (
    (("locked", "busy"), DatabaseFailure.CONTENTION),
    (("unable to open", "disk i/o", "readonly"), DatabaseFailure.UNAVAILABLE),
)


def classify_error(error: BaseException) -> DatabaseFailure:
    """Tells an outage (UNAVAILABLE) from contention (ABORTED) from anything else (INTERNAL)."""
    if isinstance(error, peewee.InterfaceError):
        return DatabaseFailure.UNAVAILABLE
    if not isinstance(error, peewee.OperationalError):
        return DatabaseFailure.OTHER
    if error.args and isinstance(error.args[0], int):
        return MYSQL_FAILURES.get(error.args[0], DatabaseFailure.OTHER)
    message = str(error).lower()
    for words, failure in SQLITE_FAILURES:
        if any(word in message for word in words):
            return failure
    return DatabaseFailure.OTHER


def for_update(query: Any, database: peewee.Database) -> Any:
    """query with a row lock on MySQL (SELECT ... FOR UPDATE); on SQLite the write lock of
    atomic_write already serialises writers, and SQLite has no FOR UPDATE."""
    return query.for_update() if is_mysql(database) else query


def close_pool(database: peewee.Database) -> None:
    """Closes every idle pooled connection (tests and shutdown; in-use ones close when returned)."""
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


def ping(database: peewee.Database) -> None:
    """Raises unless the database answers a query now."""
    with database.connection_context():
        database.execute_sql("SELECT 1")


@contextmanager
def _migration_lock(database: peewee.Database) -> Iterator[None]:
    """Serialises migrations across processes: a named lock on MySQL, a file lock on SQLite."""
    if is_mysql(database):
        cursor = database.execute_sql("SELECT GET_LOCK('pasar_migrations', %s)", (MIGRATION_LOCK_SECONDS,))
        if cursor.fetchone()[0] != 1:
            raise TimeoutError("another process held the migration lock for too long")
        try:
            yield
        finally:
            database.execute_sql("SELECT RELEASE_LOCK('pasar_migrations')")
        return
    lock_path = Path(f"{database.database}.migrate.lock")
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


class _InfoAsDebug(logging.Filter):
    """peewee-migrate tells at info level every step a migration takes, the SQL it runs
    included: detail for debugging, not what an operator reads at every start. Its info
    records become debug records, shown only when debug is on; warnings and errors stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


# peewee-migrate's own logger: its router and its migrator both write to it.
_STEPS_LOG = logging.getLogger("peewee_migrate.logs")
_STEPS_AT_DEBUG = _InfoAsDebug()


def migrate(database: peewee.Database, migrations_dir: Path) -> list[str]:
    """Applies the migrations not applied yet (peewee-migrate); returns their names.

    A fresh database and an existing one reach the same schema. Safe to run from several
    instances at once.
    """
    # Imported here: a process started with --no-migrate never needs peewee-migrate.
    from peewee_migrate import Router  # noqa: PLC0415

    _STEPS_LOG.addFilter(_STEPS_AT_DEBUG)  # adding the same filter again changes nothing
    with database.connection_context(), _migration_lock(database):
        router = Router(database, migrate_dir=migrations_dir, logger=_STEPS_LOG)
        pending = list(router.diff)
        if pending:
            router.run()
            log.info("applied migrations", extra={"migrations": pending})
        return pending
