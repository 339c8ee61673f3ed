"""Refunds: the refund table, each payment's refunded total, and the refund a REFUNDED event tells of.

``refund.request_id`` is the idempotency key of RefundPayment, unique across payments; the
contract allows both cases in it, so on MySQL/MariaDB it takes the binary collation (as
migration 003 gave the order ids), and SQLite compares bytes already.

The rollback refuses while any refund is stored: it would drop the only record of money
given back (and payments in the REFUNDED state, and REFUNDED events, that the code before
this migration cannot read). Released migrations are never edited: the model is copied
here as it was.
"""

import peewee as pw
from peewee_migrate import Migrator


class UtcDateTimeField(pw.DateTimeField):
    def get_modifiers(self):
        return [6]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    payment_model = migrator.orm["payment"]

    @migrator.create_model
    class Refund(pw.Model):
        id = pw.CharField(max_length=36, primary_key=True)
        payment = pw.ForeignKeyField(payment_model, column_name="payment_id", on_delete="RESTRICT")
        request_id = pw.CharField(max_length=128, unique=True)
        currency_code = pw.CharField(max_length=3)
        amount = pw.BigIntegerField()
        reason = pw.CharField(max_length=200)
        state = pw.CharField(max_length=16)
        provider_reference = pw.CharField(max_length=64)
        create_time = UtcDateTimeField()
        complete_time = UtcDateTimeField(null=True)

        class Meta:
            table_name = "refund"

    if isinstance(database, pw.MySQLDatabase):
        migrator.sql(
            "ALTER TABLE `refund` MODIFY `request_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
        )
    migrator.add_fields("payment", refunded_total=pw.BigIntegerField(default=0))
    migrator.add_fields("payment_event", refund=pw.BlobField(null=True))


def _refuse_while_refunds_exist(database: pw.Database) -> None:
    if database.execute_sql("SELECT COUNT(*) FROM refund").fetchone()[0]:
        raise RuntimeError(
            "refunds are stored: rolling back 004_refunds would drop the record of money given back"
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_refuse_while_refunds_exist, database)
    migrator.remove_model("refund")
    migrator.remove_fields("payment_event", "refund")
    migrator.remove_fields("payment", "refunded_total")
