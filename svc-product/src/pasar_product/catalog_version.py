"""The catalog's version, and what each version changed: whether a cached answer is current.

Every write that changes what a catalog answer shows (the admin writes, stock held and
returned by reservations and their expiry, the loaders) runs in :func:`catalog_write`,
which moves the version on as the transaction's last statement and writes, in the same
transaction, what that version changed to ``catalog_change``: the packages whose stock
alone moved (a reservation, its release or expiry), or NULL for anything else. So the
cache (pasar_product.catalog_cache) keeps, when the version moves, every answer that shows
none of those packages: a shopper's purchase no longer drops the other thousand products'
answers. The version and its changes live in the database, so every process and every
instance on it sees a change at its next read; nothing here depends on time.

Why last: on MariaDB the update locks the one row until the transaction ends, so every
catalog write queues on it; taken last, it is held only for the rest of the transaction
(reading the new number, writing its changes). Committing a reservation (units held become
units sold) changes no answer and does not move it: the units left the shown stock when
they were held.

The change log keeps the last KEPT_VERSIONS versions (the write landing on each
PRUNE_EVERY-th version deletes the older ones); a reader further behind, or one that finds
a version with no row (written by a release before migration 009, or pruned), drops
everything it kept, as every version change did before.

A database an older release migrated has no version yet (no table, or no row): its
catalog is then read afresh on every call, and its writes move nothing, until migration
007 runs; without migration 009's log, each version change drops every answer kept. An
outage of the catalog for want of its cache's label would be out of all proportion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from pasar_kit.database import atomic_write

TABLE = "catalog_version"
READ = "SELECT version FROM catalog_version WHERE id = 1"
BUMP = "UPDATE catalog_version SET version = version + 1 WHERE id = 1"

LOG_TABLE = "catalog_change"
# A version's changes as the log lists them: the version, then a package id or NULL.
CHANGES = "SELECT version, package_id FROM catalog_change WHERE version > {0} AND version <= {0}"
INSERT = "INSERT INTO catalog_change (version, package_id) VALUES ({0}, {0})"
PRUNE = "DELETE FROM catalog_change WHERE version <= {0}"
KEPT_VERSIONS = 4096
PRUNE_EVERY = 256


class CatalogWrite:
    """What a catalog_write's body may say: that it changed nothing after all (a load of
    rows already there, a release that found the units already returned), or that it
    changed only some packages' stock (a reservation, its release)."""

    def __init__(self) -> None:
        self.changed = True
        self.stock_of: set[str] | None = None  # None: anything may have changed

    def changed_nothing(self) -> None:
        self.changed = False

    def changed_stock_of(self, package_ids: Iterable[str]) -> None:
        """The write changed these packages' stock and nothing else an answer shows."""
        self.stock_of = (self.stock_of or set()) | set(package_ids)


@contextmanager
def catalog_write(database: peewee.Database) -> Iterator[CatalogWrite]:
    """atomic_write for a change the catalog's answers show: the version moves last, in
    the same transaction, with the log of what it changed, unless the body says it changed
    nothing (and nothing moves when the body raises and the transaction rolls back)."""
    write = CatalogWrite()
    with atomic_write(database):
        yield write
        if write.changed and _unless_missing(database, TABLE, BUMP) is not None:
            _log(database, write.stock_of)


def current(database: peewee.Database) -> int | None:
    """The catalog's version now, read before the data a cached answer is built from; None
    when the database has none yet (then nothing may be cached)."""
    cursor = _unless_missing(database, TABLE, READ)
    row = cursor.fetchone() if cursor is not None else None
    return None if row is None else int(row[0])


def stock_changed_between(database: peewee.Database, since: int, until: int) -> dict[str, int] | None:
    """The packages whose stock the versions after since, up to until, changed, each with
    the last version that changed it; None when one of those versions changed anything
    else, or the log cannot say (pruned, or not written by the release that moved it)."""
    if until - since > KEPT_VERSIONS:
        return None
    statement = CHANGES.format(database.param)
    cursor = _unless_missing(database, LOG_TABLE, statement, (since, until))
    if cursor is None:
        return None
    changed: dict[str, int] = {}
    versions = set()
    for version, package_id in cursor.fetchall():
        if package_id is None:
            return None
        versions.add(version)
        changed[package_id] = max(changed.get(package_id, 0), int(version))
    if len(versions) != until - since:
        return None
    return changed


def _log(database: peewee.Database, stock_of: set[str] | None) -> None:
    """Writes what the version just moved to changed; prunes the log now and then."""
    row = database.execute_sql(READ).fetchone()
    if row is None:
        return  # no version to log (its row not written yet): nothing is cached either
    version = int(row[0])
    insert = INSERT.format(database.param)
    for package_id in sorted(stock_of) if stock_of else [None]:  # a reservation has a line or two
        if _unless_missing(database, LOG_TABLE, insert, (version, package_id)) is None:
            return  # no log yet (migration 009 not applied)
    if version % PRUNE_EVERY == 0:
        database.execute_sql(PRUNE.format(database.param), (version - KEPT_VERSIONS,))


def _unless_missing(database: peewee.Database, table: str, statement: str, params: Any = None) -> Any:
    """statement's cursor; None when table does not exist yet. Any other failure (a
    deadlock, a lost connection) is raised as it is. A failed statement leaves the
    transaction it is in going, on MariaDB and SQLite alike."""
    try:
        return database.execute_sql(statement, params)
    except peewee.DatabaseError:
        if database.table_exists(table):
            raise
        return None
