"""A private MariaDB server for tests, from Debian's packages, on a free loopback port.

It has its own data directory under a temporary folder, is started and stopped by its
PID, and can be stopped and started again with its data (for database-outage tests).
``scripts/test`` installs the packages (mariadb-server); nothing else is assumed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee
import pymysql

from pasar_testkit.ports import free_port, wait_for_port

SERVER_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
INSTALL_CANDIDATES = ("/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db")


def _find(candidates: tuple[str, ...]) -> str:
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        f"MariaDB is not installed (looked for {', '.join(candidates)}); scripts/test installs mariadb-server"
    )


class MariaDBServer:
    """One mariadbd process with a data directory under base."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.datadir = base / "data"
        self.socket = base / "mariadb.sock"
        self.log_file = base / "mariadb.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Initialises the data directory on first start, then starts the server and waits for it."""
        if not self.datadir.exists():
            self.base.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    _find(INSTALL_CANDIDATES),
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    f"--user={_user()}",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    _find(SERVER_CANDIDATES),
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    f"--socket={self.socket}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--pid-file={self.base / 'mariadb.pid'}",
                    f"--user={_user()}",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=64M",
                    "--max-connections=500",
                    "--innodb-flush-log-at-trx-commit=2",
                    "--character-set-server=utf8mb4",
                    "--collation-server=utf8mb4_unicode_ci",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, timeout=60)
            self._wait_until_it_answers()
        except TimeoutError:
            self.stop()
            raise TimeoutError(f"MariaDB did not start; see {self.log_file}") from None

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.admin().close()
                return
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise TimeoutError("MariaDB accepts connections but does not answer") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stops the server this object started (by its PID) and waits for it to exit."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def admin(self, **kwargs: Any) -> pymysql.connections.Connection[Any]:
        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", password="", autocommit=True, **kwargs
        )

    def rows_locked_by_a_waiting_transaction(self, timeout: float = 10.0) -> int:
        """How many rows the first transaction found waiting for a lock has locked, the one
        it waits for included (INNODB_TRX.trx_rows_locked); waits up to timeout for one.

        A writer that takes its row lock by primary key first waits having locked 1; one
        whose statement is planned through a secondary index locked an index entry first (2),
        the opposite order to a writer changing that index: a deadlock between them."""
        admin = self.admin()  # a service's user may not read other connections' transactions
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                # InnoDB refreshes what the table shows only once nobody has read it for
                # 0.1 s: read more often, it kept showing the transactions of the first read.
                time.sleep(0.2)
                with admin.cursor() as cursor:
                    cursor.execute(
                        "SELECT trx_rows_locked FROM information_schema.INNODB_TRX"
                        " WHERE trx_state = 'LOCK WAIT'"
                    )
                    waiting = cursor.fetchall()
                if waiting:
                    return int(waiting[0][0])
        finally:
            admin.close()
        raise AssertionError(f"no transaction came to wait for a lock within {timeout} s")

    def rows_locked_by_a_writer_kept_waiting(
        self,
        database: peewee.Database,
        hold: Callable[[], object],
        write: Callable[[], object],
        timeout: float = 10.0,
    ) -> int:
        """Runs hold() in a transaction of database, keeping the locks it takes, and write()
        on another thread meanwhile; returns how many rows the writer had locked when it came
        to wait (rows_locked_by_a_waiting_transaction). The transaction then ends, and the
        writer must finish within timeout."""
        writer = threading.Thread(target=write)
        try:
            with database.connection_context(), database.atomic():
                hold()
                writer.start()
                rows_locked = self.rows_locked_by_a_waiting_transaction(timeout)
        finally:
            if writer.ident is not None:
                writer.join(timeout)
        assert not writer.is_alive(), f"the writer did not finish within {timeout} s of the row's release"
        return rows_locked

    def create_database(self, prefix: str = "pasar_test", user: str | None = None, password: str = "") -> str:
        """Creates a fresh database (and a user with rights on it only); returns its mysql:// URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        user = user or name[:32]
        password = password or uuid.uuid4().hex
        connection = self.admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                cursor.execute("CREATE USER IF NOT EXISTS %s@'127.0.0.1' IDENTIFIED BY %s", (user, password))
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@'127.0.0.1'", (user,))
        finally:
            connection.close()
        return f"mysql://{user}:{password}@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        user = url.split("://", 1)[1].split(":", 1)[0]
        connection = self.admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute("DROP USER IF EXISTS %s@'127.0.0.1'", (user,))
        finally:
            connection.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name
