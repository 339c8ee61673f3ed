"""released_while_waiting: on SQLite a call's connection goes back to the pooled while the call
waits on another service, and a connection is taken again for the rest of the call; a
transaction keeps its own, and a MySQL connection stays with its call (each take pings)."""

from __future__ import annotations

import peewee
import pytest

from pasar_kit import database as db


def held(pooled: peewee.Database) -> tuple[int, int]:
    """The pooled's connections now: (in use, idle)."""
    counted = pooled
    assert isinstance(counted, db.CountedPool)
    figures = counted.pool_figures()
    return figures.in_use, figures.idle


def answer(pooled: peewee.Database) -> int:
    value: int = pooled.execute_sql("SELECT 7").fetchone()[0]
    return value


def test_the_connection_is_back_in_the_pool_while_waiting_on_sqlite_only(pooled: peewee.Database) -> None:
    sqlite = isinstance(pooled, db.SerializedSqliteDatabase)
    with pooled.connection_context():
        assert answer(pooled) == 7
        assert held(pooled) == (1, 0)
        with db.released_while_waiting(pooled):
            assert held(pooled) == ((0, 1) if sqlite else (1, 0)), "a MySQL connection stays with its call"
        assert held(pooled) == (1, 0)
        assert answer(pooled) == 7, "the rest of the call has a connection"
    assert held(pooled) == (0, 1), "leaving the call's context hands it back as before"


def test_a_failed_wait_leaves_the_call_connected_and_its_context_hands_the_connection_back(
    pooled: peewee.Database,
) -> None:
    with pooled.connection_context():
        with pytest.raises(RuntimeError, match="peer down"), db.released_while_waiting(pooled):
            raise RuntimeError("peer down")
        assert answer(pooled) == 7
    assert held(pooled) == (0, 1)


def test_nested_contexts_keep_the_connection_until_the_outer_one_ends(pooled: peewee.Database) -> None:
    with pooled.connection_context():
        with pooled.connection_context(), db.released_while_waiting(pooled):
            pass
        assert not pooled.is_closed(), "the inner context's end leaves the outer call connected"
        assert answer(pooled) == 7
    assert pooled.is_closed()
    assert held(pooled) == (0, 1)


def test_a_transaction_keeps_its_connection_while_waiting(pooled: peewee.Database) -> None:
    with pooled.connection_context():
        pooled.execute_sql("CREATE TABLE waits (n INTEGER)")
        with pooled.atomic() as transaction:
            pooled.execute_sql("INSERT INTO waits (n) VALUES (1)")
            with db.released_while_waiting(pooled):
                assert held(pooled) == (1, 0), "the transaction's connection stays with it"
            transaction.rollback()
        count = pooled.execute_sql("SELECT COUNT(*) FROM waits").fetchone()[0]
        assert count == 0, "the insert before the wait was in the transaction rolled back"
        pooled.execute_sql("DROP TABLE waits")


def test_a_thread_without_a_connection_gets_none(pooled: peewee.Database) -> None:
    with db.released_while_waiting(pooled):
        assert held(pooled) == (0, 0)
    assert pooled.is_closed()


def test_a_database_that_is_not_a_pool_keeps_its_connection() -> None:
    plain = peewee.SqliteDatabase(":memory:")
    with plain.connection_context():
        with db.released_while_waiting(plain):
            assert not plain.is_closed()
        assert plain.execute_sql("SELECT 7").fetchone()[0] == 7
