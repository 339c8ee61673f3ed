"""Migrations that change a column in place or add to the schema, rolled back and applied again."""

from __future__ import annotations

import re

import peewee
from peewee_migrate import Router

from pasar_kit.leases import JobLease
from pasar_kit.timestamps import utc_now
from pasar_order.main import MIGRATIONS_DIR
from pasar_order.models import Email, EmailKind, Order, OrderState, OutboxState

LATEST = "007_job_leases"


def unique_columns(database: peewee.Database, table: str) -> set[tuple[str, ...]]:
    return {tuple(index.columns) for index in database.get_indexes(table) if index.unique}


def indexed_columns(database: peewee.Database, table: str) -> set[tuple[str, ...]]:
    return {tuple(index.columns) for index in database.get_indexes(table)}


def column_names(database: peewee.Database, table: str) -> set[str]:
    return {column.name for column in database.get_columns(table)}


def roll_back_to(router: Router, name: str) -> None:
    """Rolls the migrations after name back, newest first."""
    while router.done[-1] != name:
        router.rollback()


def test_request_ids_become_case_sensitive_and_back(database: peewee.Database) -> None:
    """Migration 3 (the binary collation on MariaDB; SQLite always compared bytes) keeps
    request_id nullable and unique, and rolls back while no ids differing only in case are
    stored."""
    with database.connection_context():
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        assert router.done[-1] == LATEST
        roll_back_to(router, "002_claimant_names")
        router.run()
        assert router.done[-1] == LATEST
        request_id = {column.name: column for column in database.get_columns("orders")}["request_id"]
        assert request_id.null
        assert ("request_id",) in unique_columns(database, "orders")


def test_deliveries_roll_back_to_paid_orders_and_apply_again(database: peewee.Database) -> None:
    """Migration 4's rollback leaves the states the earlier code knows: a delivered or
    refunded order is PAID again, and the new columns and outboxes go."""
    now = utc_now()
    with database.connection_context():
        for order_id, state in (("ord_1", OrderState.FULFILLED), ("ord_2", OrderState.REFUNDED)):
            Order.insert(
                id=order_id,
                request_fingerprint="f",
                state=state,
                customer_email="budi@example.co.id",
                language_code="id",
                payment_channel_code="bca_va",
                currency_code="IDR",
                subtotal=10_000,
                access_token_hash="0" * 64,
                create_time=now,
                update_time=now,
                complete_time=now,
            ).execute()
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        roll_back_to(router, "003_case_sensitive_request_ids")
        rows = database.execute_sql("SELECT state FROM orders ORDER BY id").fetchall()
        assert [row[0] for row in rows] == ["PAID", "PAID"]
        assert "complete_time" not in {column.name for column in database.get_columns("orders")}
        assert "destination" not in {column.name for column in database.get_columns("order_lines")}
        assert not {"fulfillment_tasks", "refund_tasks"} & set(database.get_tables())
        router.run()
        assert router.done[-1] == LATEST
        assert ("line_id",) in unique_columns(database, "fulfillment_tasks")
        assert ("request_id",) in unique_columns(database, "refund_tasks")


def test_orders_placed_before_numbers_get_one_and_the_rollback_drops_them(database: peewee.Database) -> None:
    """Migration 5 gives every existing order its own number (so every order can be looked
    up), adds the lines' English names and the look-up counts; the rollback drops them."""
    now = utc_now()
    with database.connection_context():
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        roll_back_to(router, "004_deliveries")
        assert "order_number" not in {column.name for column in database.get_columns("orders")}
        assert "order_lookup_failures" not in database.get_tables()
        naive_now = now.replace(tzinfo=None)
        columns = "id, request_fingerprint, state, customer_email, language_code, payment_channel_code,"
        columns += " currency_code, subtotal, payment_requested, access_token_hash, create_time, update_time"
        placeholders = ", ".join([database.param] * 12)
        orders = 701  # more than two of the migration's batches (300 orders an UPDATE)
        for index in range(orders):
            values = (f"ord_{index}", "f", "PAID", "budi@example.co.id", "id", "bca_va", "IDR", 10_000, True)
            database.execute_sql(
                f"INSERT INTO orders ({columns}) VALUES ({placeholders})",
                (*values, "0" * 64, naive_now, naive_now),
            )
        router.run()
        assert router.done[-1] == LATEST
        numbers = [str(order.order_number) for order in Order.select().order_by(Order.id)]
        assert len(set(numbers)) == orders
        assert all(re.fullmatch(r"PSR-[2-9A-HJKMNP-TV-Z]{6}", number) for number in numbers)
        assert ("order_number",) in unique_columns(database, "orders")
        assert {"package_display_name_en", "product_display_name_en"} <= column_names(database, "order_lines")
        # The sweeper deletes passed windows by window_start: by the index, never a scan that
        # would lock every count (MariaDB locks each row a DELETE reads).
        assert ("window_start",) in indexed_columns(database, "order_lookup_failures")
        roll_back_to(router, "004_deliveries")
        assert "order_number" not in {column.name for column in database.get_columns("orders")}
        assert "package_display_name_en" not in {
            column.name for column in database.get_columns("order_lines")
        }
        assert "order_lookup_failures" not in database.get_tables()
        router.run()
        assert router.done[-1] == LATEST


TRACED_TABLES = ("orders", "emails", "reservation_tasks", "fulfillment_tasks", "refund_tasks")


def test_trace_columns_come_empty_for_rows_written_before_and_the_rollback_drops_them(
    database: peewee.Database,
) -> None:
    """Migration 6 gives orders and every outbox traceparent and tracestate, empty for the
    rows already there (never traced), and keeps those rows: an order's e-mail survives
    (SQLite's table rebuild for a NOT NULL dropped the orders table, which deleted every row
    referencing an order); the rollback drops them and the migration applies again."""
    now = utc_now()
    with database.connection_context():
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        roll_back_to(router, "005_order_numbers_and_lookups")
        assert not any("traceparent" in column_names(database, table) for table in TRACED_TABLES)
        naive_now = now.replace(tzinfo=None)
        columns = "id, request_fingerprint, state, customer_email, language_code, payment_channel_code,"
        columns += " currency_code, subtotal, payment_requested, access_token_hash, create_time, update_time"
        placeholders = ", ".join([database.param] * 12)
        values = ("ord_1", "f", "PAID", "budi@example.co.id", "id", "bca_va", "IDR", 10_000, True)
        database.execute_sql(
            f"INSERT INTO orders ({columns}) VALUES ({placeholders})",
            (*values, "0" * 64, naive_now, naive_now),
        )
        email_columns = "order_id, kind, state, attempts, next_attempt_time, create_time"
        database.execute_sql(
            f"INSERT INTO emails ({email_columns}) VALUES ({', '.join([database.param] * 6)})",
            ("ord_1", EmailKind.PAYMENT_RECEIVED, OutboxState.QUEUED, 0, naive_now, naive_now),
        )
        router.run()
        assert router.done[-1] == LATEST
        for table in TRACED_TABLES:
            assert {"traceparent", "tracestate"} <= column_names(database, table)
        order = Order.get_by_id("ord_1")
        assert (order.traceparent, order.tracestate) == ("", "")
        (email,) = Email.select()
        assert (email.order_id, email.traceparent, email.tracestate) == ("ord_1", "", "")
        roll_back_to(router, "005_order_numbers_and_lookups")
        assert not any("tracestate" in column_names(database, table) for table in TRACED_TABLES)
        assert [row[0] for row in database.execute_sql("SELECT order_id FROM emails")] == ["ord_1"]
        router.run()
        assert router.done[-1] == LATEST


def test_job_leases_come_with_migration_7_and_go_with_its_rollback(database: peewee.Database) -> None:
    """Migration 7 adds job_leases (pasar_kit.leases), where the event consumers and the
    sweeper take their leases; the rollback drops it, and it applies again."""
    with database.connection_context():
        router = Router(database, migrate_dir=MIGRATIONS_DIR)
        assert JobLease(database, "sweeper", 60).hold()
        roll_back_to(router, "006_trace_context")
        assert "job_leases" not in database.get_tables()
        router.run()
        assert router.done[-1] == LATEST
        columns = {column.name: column for column in database.get_columns("job_leases")}
        assert set(columns) == {"name", "owner", "lease_until"}
        assert columns["name"].primary_key
        assert columns["owner"].null
        assert columns["lease_until"].null
        assert JobLease(database, "sweeper", 60).hold()
