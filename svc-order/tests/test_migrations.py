"""Migrations that change a column in place, rolled back and applied again."""

from __future__ import annotations

import peewee
from peewee_migrate import Router

from pasar_order.main import MIGRATIONS_DIR


def unique_columns(database: peewee.Database, table: str) -> set[tuple[str, ...]]:
    return {tuple(index.columns) for index in database.get_indexes(table) if index.unique}


def test_request_ids_become_case_sensitive_and_back(database: peewee.Database) -> None:
    """Migration 3 (the binary collation on MariaDB; SQLite always compared bytes) keeps
    request_id nullable and unique, and rolls back while no ids differing only in case are
    stored."""
    with database.connection_context():
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        assert router.done[-1] == "003_case_sensitive_request_ids"
        router.rollback()
        assert router.done[-1] == "002_claimant_names"
        router.run()
        assert router.done[-1] == "003_case_sensitive_request_ids"
        request_id = {column.name: column for column in database.get_columns("orders")}["request_id"]
        assert request_id.null
        assert ("request_id",) in unique_columns(database, "orders")
