"""The catalog's version: the one number that says whether a cached catalog answer is current.

Every write that changes what a catalog answer shows (the admin writes, stock held and
returned by reservations and their expiry, the loaders) runs in :func:`catalog_write`,
which moves the version on as the transaction's last statement. The version lives in the
database, so every process and every instance on it sees a change at its next read;
nothing here depends on time.

Why last: on MariaDB the update locks the one row until the transaction ends, so every
catalog write queues on it; taken last, it is held only for the commit itself.
Committing a reservation (units held become units sold) changes no answer and does not
move it: the units left the shown stock when they were held.

A database an older release migrated has no version yet (no table, or no row): its
catalog is then read afresh on every call, and its writes move nothing, until migration
007 runs. An outage of the catalog for want of its cache's label would be out of all
proportion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from pasar_kit.database import atomic_write

TABLE = "catalog_version"
READ = "SELECT version FROM catalog_version WHERE id = 1"
BUMP = "UPDATE catalog_version SET version = version + 1 WHERE id = 1"


class CatalogWrite:
    """What a catalog_write's body may say: that it changed nothing after all (a load of
    rows already there, a release that found the units already returned)."""

    def __init__(self) -> None:
        self.changed = True

    def changed_nothing(self) -> None:
        self.changed = False


@contextmanager
def catalog_write(database: peewee.Database) -> Iterator[CatalogWrite]:
    """atomic_write for a change the catalog's answers show: the version moves last, in
    the same transaction, unless the body says it changed nothing (and nothing moves when
    the body raises and the transaction rolls back)."""
    write = CatalogWrite()
    with atomic_write(database):
        yield write
        if write.changed:
            _unless_unversioned(database, BUMP)


def current(database: peewee.Database) -> int | None:
    """The catalog's version now, read before the data a cached answer is built from; None
    when the database has none yet (then nothing may be cached)."""
    cursor = _unless_unversioned(database, READ)
    row = cursor.fetchone() if cursor is not None else None
    return None if row is None else int(row[0])


def _unless_unversioned(database: peewee.Database, statement: str) -> Any:
    """statement's cursor; None when the version's table does not exist yet. Any other
    failure (a deadlock, a lost connection) is raised as it is. A failed statement leaves
    the transaction it is in going, on MariaDB and SQLite alike."""
    try:
        return database.execute_sql(statement)
    except peewee.DatabaseError:
        if database.table_exists(TABLE):
            raise
        return None
