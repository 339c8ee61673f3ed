"""A service's database in tests: migrated as ``serve`` leaves it (a service's ``database``
fixture), and read directly by a test, as an auditor would: the proof that what the
services answered is what they stored, and that nothing was left behind."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import peewee

from pasar_kit import database as db


def migrated(database: peewee.Database, migrations_dir: Path) -> Iterator[peewee.Database]:
    """database migrated as ``serve`` leaves it, its pool closed at the end: a service's
    ``database`` fixture is ``yield from migrated(open_database(env), MIGRATIONS_DIR)``."""
    db.migrate(database, migrations_dir)
    try:
        yield database
    finally:
        db.close_pool(database)


@contextmanager
def connected(database_url: str) -> Iterator[peewee.Database]:
    """A connection of its own to the database (closed at the end of the block)."""
    database = db.connect(database_url, max_connections=1)
    try:
        with database.connection_context():
            yield database
    finally:
        db.close_pool(database)


def query(database_url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one statement; placeholders are written ``?`` for either database."""
    with connected(database_url) as database:
        if db.is_mysql(database):
            sql = sql.replace("?", "%s")
        return [tuple(row) for row in database.execute_sql(sql, params).fetchall()]


def table_counts(database_urls: Mapping[str, str]) -> dict[str, int]:
    """The number of rows of every table of every database, as "service.table"."""
    counts: dict[str, int] = {}
    for service, url in database_urls.items():
        with connected(url) as database:
            for table in database.get_tables():
                quoted = f"`{table}`" if db.is_mysql(database) else f'"{table}"'
                sql = f"SELECT COUNT(*) FROM {quoted}"  # noqa: S608 - a table name the database listed
                [(count,)] = database.execute_sql(sql).fetchall()
                counts[f"{service}.{table}"] = int(count)
    return counts
