"""released_while_waiting: on SQLite a call's connection goes back to the pool while the call
waits on another service, and a connection is taken again for the rest of the call; a
transaction keeps its own, and a MySQL connection stays with its call (each take pings)."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from pasar_kit import database as db


@pytest.fixture
def pool(database_url: str) -> Iterator[peewee.Database]:
    database = db.connect(database_url, max_connections=4)
    try:
        yield database
    finally:
        db.close_pool(database)


def held(pool: peewee.Database) -> tuple[int, int]:
    """The pool's connections now: (in use, idle)."""
    counted = pool
    assert isinstance(counted, db.CountedPool)
    figures = counted.pool_figures()
    return figures.in_use, figures.idle


def answer(pool: peewee.Database) -> int:
    value: int = pool.execute_sql("SELECT 7").fetchone()[0]
    return value


def test_the_connection_is_back_in_the_pool_while_waiting_on_sqlite_only(pool: peewee.Database) -> None:
    sqlite = isinstance(pool, db.SerializedSqliteDatabase)
    with pool.connection_context():
        assert answer(pool) == 7
        assert held(pool) == (1, 0)
        with db.released_while_waiting(pool):
            assert held(pool) == ((0, 1) if sqlite else (1, 0)), "a MySQL connection stays with its call"
        assert held(pool) == (1, 0)
        assert answer(pool) == 7, "the rest of the call has a connection"
    assert held(pool) == (0, 1), "leaving the call's context hands it back as before"


def test_a_failed_wait_leaves_the_call_connected_and_its_context_hands_the_connection_back(
    pool: peewee.Database,
) -> None:
    with pool.connection_context():
        with pytest.raises(RuntimeError, match="peer down"), db.released_while_waiting(pool):
            raise RuntimeError("peer down")
        assert answer(pool) == 7
    assert held(pool) == (0, 1)


def test_nested_contexts_keep_the_connection_until_the_outer_one_ends(pool: peewee.Database) -> None:
    with pool.connection_context():
        with pool.connection_context(), db.released_while_waiting(pool):
            pass
        assert not pool.is_closed(), "the inner context's end leaves the outer call connected"
        assert answer(pool) == 7
    assert pool.is_closed()
    assert held(pool) == (0, 1)


def test_a_transaction_keeps_its_connection_while_waiting(pool: peewee.Database) -> None:
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE waits (n INTEGER)")
        with pool.atomic() as transaction:
            pool.execute_sql("INSERT INTO waits (n) VALUES (1)")
            with db.released_while_waiting(pool):
                assert held(pool) == (1, 0), "the transaction's connection stays with it"
            transaction.rollback()
        count = pool.execute_sql("SELECT COUNT(*) FROM waits").fetchone()[0]
        assert count == 0, "the insert before the wait was in the transaction rolled back"
        pool.execute_sql("DROP TABLE waits")


def test_a_thread_without_a_connection_gets_none(pool: peewee.Database) -> None:
    with db.released_while_waiting(pool):
        assert held(pool) == (0, 0)
    assert pool.is_closed()


def test_a_database_that_is_not_a_pool_keeps_its_connection() -> None:
    plain = peewee.SqliteDatabase(":memory:")
    with plain.connection_context():
        with db.released_while_waiting(plain):
            assert not plain.is_closed()
        assert plain.execute_sql("SELECT 7").fetchone()[0] == 7
