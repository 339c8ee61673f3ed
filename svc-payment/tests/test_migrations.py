"""The schema comes from the migrations alone, it is the one the models describe; migration
004 (refunds) gives existing payments a zero refunded total, and rolls back while no refund
is stored; migration 005 marks the wallets paid by phone number, gives the channels their
times to pay, and rolls both back; migration 006 gives payments and events an empty trace
context (untraced) and rolls back; migration 007 adds the job leases and rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest
from conftest import RunningService, paid_payment, refund
from peewee_migrate import Router

from pasar_kit import database as db
from pasar_kit.ids import new_id
from pasar_kit.leases import JobLease, JobLeaseRow
from pasar_kit.money import rupiah
from pasar_kit.timestamps import utc_now
from pasar_payment.main import MIGRATIONS_DIR
from pasar_payment.messages import payment_message
from pasar_payment.models import MODELS, ChannelKind, Payment, PaymentEvent, PaymentState, database_proxy
from pasar_testkit.mariadb import MariaDBServer


@pytest.fixture
def fresh_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second fresh, empty database of the kind under test."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'models.db'}"
        return
    server: MariaDBServer = request.getfixturevalue("mariadb")
    url = server.create_database("pasar_payment_models")
    try:
        yield url
    finally:
        server.drop_database(url)


def schema(database: peewee.Database) -> dict[str, Any]:
    """Tables with their columns, indexes (by columns) and foreign keys, as the database reports them."""
    with database.connection_context():
        return {
            table: (
                sorted(
                    (column.name, column.data_type.lower(), column.null, column.primary_key)
                    for column in database.get_columns(table)
                ),
                sorted(
                    (tuple(index.columns), index.unique)
                    for index in database.get_indexes(table)
                    if index.name != "PRIMARY" and not index.name.startswith("sqlite_autoindex")
                ),
                sorted((key.column, key.dest_table) for key in database.get_foreign_keys(table)),
            )
            for table in sorted(database.get_tables())
            if table != "migratehistory"
        }


def test_the_migrated_schema_is_the_one_the_models_describe(database_url: str, fresh_url: str) -> None:
    migrated = db.connect(database_url, max_connections=2)
    from_models = db.bind(database_proxy, fresh_url, max_connections=2)
    try:
        assert db.migrate(migrated, MIGRATIONS_DIR)[-1] == "007_job_leases"
        with from_models.connection_context(), from_models.bind_ctx([JobLeaseRow]):
            from_models.create_tables([*MODELS, JobLeaseRow])
        expected = schema(from_models)
        assert "refund" in expected
        assert schema(migrated) == expected
    finally:
        db.close_pool(migrated)
        db.close_pool(from_models)


def test_the_refunds_migration_rolls_back_while_no_refund_is_stored(database_url: str) -> None:
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run()
            before = schema(database)
            router.rollback()  # 007_job_leases
            router.rollback()  # 006_trace_context
            router.rollback()  # 005_phone_wallets_and_windows
            router.rollback()
            assert "refund" not in database.get_tables()
            assert "refunded_total" not in [column.name for column in database.get_columns("payment")]
            router.run()
            assert schema(database) == before
    finally:
        db.close_pool(database)


def test_the_refunds_migration_refuses_to_roll_back_over_stored_refunds(service: RunningService) -> None:
    """Rolling back would drop the only record of money given back."""
    payment = paid_payment(service.stub)
    refund(service.stub, payment.id, 1_000)
    with service.database.connection_context():
        router = Router(service.database, migrate_dir=MIGRATIONS_DIR)
        router.rollback()  # 007_job_leases
        router.rollback()  # 006_trace_context
        router.rollback()  # 005_phone_wallets_and_windows
        with pytest.raises(RuntimeError, match="refunds are stored"):
            router.rollback()
        assert router.done[-1] == "004_refunds"
        assert service.database.execute_sql("SELECT COUNT(*) FROM refund").fetchone()[0] == 1


def test_payments_stored_before_the_refunds_migration_have_refunded_nothing(database_url: str) -> None:
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("003_case_sensitive_ids")
            now = utc_now()
            columns = {
                "id": new_id("pay"),
                "order_id": "ord-before-refunds",
                "channel_code": "qris",
                "channel_kind": ChannelKind.QRIS.value,
                "state": PaymentState.PAID.value,
                "currency_code": "IDR",
                "amount": 10_000,
                "fee": 70,
                "total": 10_070,
                "provider": "sandbox",
                "provider_reference": "SBXBEFORE",
                "instructions": '{"qrString": "000201"}',
                "create_time": now,
                "expire_time": now,
                "paid_time": now,
                "update_time": now,
            }
            peewee.Table("payment", list(columns)).bind(database).insert(columns).execute()
            router.run()
            stored = Payment.get_by_id(columns["id"])
            message = payment_message(stored)
        assert stored.refunded_total == 0
        assert (message.refunded_total, list(message.refunds)) == (rupiah(0), [])
    finally:
        db.close_pool(database)


def test_rows_stored_before_the_trace_context_migration_read_as_untraced(database_url: str) -> None:
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("005_phone_wallets_and_windows")
            before = schema(database)
            now = utc_now()
            payment_id = new_id("pay")
            columns = {
                "id": payment_id,
                "order_id": "ord-before-traces",
                "channel_code": "qris",
                "channel_kind": ChannelKind.QRIS.value,
                "state": PaymentState.PENDING.value,
                "currency_code": "IDR",
                "amount": 10_000,
                "fee": 70,
                "total": 10_070,
                "provider": "sandbox",
                "provider_reference": "SBXTRACES",
                "refunded_total": 0,
                "instructions": '{"qrString": "000201"}',
                "create_time": now,
                "expire_time": now,
                "update_time": now,
            }
            peewee.Table("payment", list(columns)).bind(database).insert(columns).execute()
            event = {
                "sequence": 1,
                "type": "CREATED",
                "payment_id": payment_id,
                "payment": b"",
                "create_time": now,
            }
            peewee.Table("payment_event", list(event)).bind(database).insert(event).execute()
            router.run("006_trace_context")
            assert router.done[-1] == "006_trace_context"
            stored, stored_event = Payment.get_by_id(payment_id), PaymentEvent.get_by_id(1)
            assert (stored.traceparent, stored.tracestate) == ("", "")
            assert (stored_event.traceparent, stored_event.tracestate) == ("", "")
            # NOT NULL: a row never holds a missing context, only an empty one.
            with pytest.raises(peewee.IntegrityError), database.atomic():
                Payment.update(traceparent=None).where(Payment.id == payment_id).execute()
            router.rollback()
            assert schema(database) == before
            assert database.execute_sql("SELECT COUNT(*) FROM payment_event").fetchone()[0] == 1
    finally:
        db.close_pool(database)


def channel_terms(database: peewee.Database) -> dict[str, tuple[int, bool | None]]:
    """Each channel's payment_ttl_seconds and requires_phone_number (None before 005)."""
    columns = [column.name for column in database.get_columns("payment_channel")]
    phone = "requires_phone_number" if "requires_phone_number" in columns else "NULL"
    cursor = database.execute_sql(f"SELECT code, payment_ttl_seconds, {phone} FROM payment_channel")
    return {code: (ttl, None if flag is None else bool(flag)) for code, ttl, flag in cursor.fetchall()}


def test_the_windows_and_phone_wallets_migration_applies_and_rolls_back(database_url: str) -> None:
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("004_refunds")
            seeded = channel_terms(database)
            before = schema(database)
            # A deployment's own change to a channel survives the migration both ways.
            database.execute_sql(
                "UPDATE payment_channel SET payment_ttl_seconds = 7200 WHERE code = 'indomaret'"
            )
            router.run("005_phone_wallets_and_windows")
            after = channel_terms(database)
            assert after == {
                "qris": (900, False),
                "gopay": (1800, False),
                "ovo": (1800, True),
                "dana": (1800, True),
                "shopeepay": (1800, False),
                "bca_va": (86_400, False),
                "bni_va": (86_400, False),
                "bri_va": (86_400, False),
                "mandiri_va": (86_400, False),
                "permata_va": (86_400, False),
                "alfamart": (86_400, False),
                "indomaret": (7200, False),
            }
            router.rollback()
            assert schema(database) == before
            assert channel_terms(database) == {**seeded, "indomaret": (7200, None)}
            assert seeded["alfamart"] == (48 * 3600, None)
    finally:
        db.close_pool(database)


def test_every_migration_rolls_back_to_nothing_and_runs_again(database_url: str) -> None:
    """Each rollback can run (002's once raised AttributeError): from the latest migration
    down to none, then up again to the same schema and the same seeded channels."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run()
            before, channels = schema(database), channel_terms(database)
            while router.done:
                router.rollback()
            assert [table for table in database.get_tables() if table != "migratehistory"] == []
            router.run()
            assert (schema(database), channel_terms(database)) == (before, channels)
    finally:
        db.close_pool(database)


def test_job_leases_come_with_migration_7_and_go_with_its_rollback(database_url: str) -> None:
    """Migration 7 adds job_leases (pasar_kit.leases), where the expiry sweep takes its
    lease; the rollback drops it, and it applies again."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run()
            assert JobLease(database, "payment-expiry", 60).hold()
            router.rollback()
            assert router.done[-1] == "006_trace_context"
            assert "job_leases" not in database.get_tables()
            router.run()
            assert JobLease(database, "payment-expiry", 60).hold()
    finally:
        db.close_pool(database)
