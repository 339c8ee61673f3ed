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
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from pasar_kit.database import atomic_write

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
            database.execute_sql(BUMP)


def current(database: peewee.Database) -> int:
    """The catalog's version now; read before the data a cached answer is built from."""
    row = database.execute_sql(READ).fetchone()
    if row is None:
        raise LookupError("catalog_version has no row: run the migrations (pasar-product migrate)")
    return int(row[0])
