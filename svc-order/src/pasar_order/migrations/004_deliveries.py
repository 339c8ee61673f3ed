"""Deliveries and refunds: each line keeps its destination, delivery kind, fulfillment and
refund; an order its completion time, refunded total and the fee's refund; two outboxes
ask the fulfillment service to deliver a paid line and the payment service to refund.

The rollback turns FULFILLED and REFUNDED orders back into PAID ones (the states the
earlier code knows) and deletes the e-mails of kinds it has no templates for.

Released migrations are never edited.
"""

import peewee as pw
from peewee_migrate import Migrator


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


class OutboxRow(pw.Model):
    """The columns of every outbox table (pasar_order.models.OutboxRow, as of this migration)."""

    id = pw.AutoField()
    state = pw.CharField(max_length=8, default="QUEUED")
    attempts = pw.IntegerField(default=0)
    next_attempt_time = UtcDateTimeField()
    lease_owner = pw.CharField(max_length=255, null=True)
    lease_until = UtcDateTimeField(null=True)
    last_error = pw.CharField(max_length=500, null=True)
    create_time = UtcDateTimeField()
    done_time = UtcDateTimeField(null=True)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "order_lines",
        destination=pw.TextField(null=True),
        delivery_kind=pw.IntegerField(default=0),
        fulfillment_id=pw.CharField(max_length=36, null=True),
        fulfillment_state=pw.CharField(max_length=16, null=True),
        fulfillment_snapshot=pw.BlobField(null=True),
        refund_snapshot=pw.BlobField(null=True),
    )
    migrator.add_fields(
        "orders",
        complete_time=UtcDateTimeField(null=True),
        refunded_total=pw.BigIntegerField(null=True),
        fee_refund_snapshot=pw.BlobField(null=True),
    )
    Order = migrator.orm["orders"]
    OrderLine = migrator.orm["order_lines"]

    @migrator.create_model
    class FulfillmentTask(OutboxRow):
        order = pw.ForeignKeyField(Order, backref="fulfillment_tasks", on_delete="CASCADE")
        line = pw.ForeignKeyField(OrderLine, unique=True, backref="fulfillment_tasks", on_delete="CASCADE")

        class Meta:
            table_name = "fulfillment_tasks"
            indexes = ((("state", "next_attempt_time"), False),)

    @migrator.create_model
    class RefundTask(OutboxRow):
        order = pw.ForeignKeyField(Order, backref="refund_tasks", on_delete="CASCADE")
        line = pw.ForeignKeyField(OrderLine, null=True, backref="refund_tasks", on_delete="CASCADE")
        request_id = pw.CharField(max_length=128, unique=True)
        amount = pw.BigIntegerField()

        class Meta:
            table_name = "refund_tasks"
            indexes = ((("state", "next_attempt_time"), False),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("refund_tasks")
    migrator.remove_model("fulfillment_tasks")
    migrator.sql("UPDATE orders SET state = 'PAID' WHERE state IN ('FULFILLED', 'REFUNDED')")
    migrator.sql("DELETE FROM emails WHERE kind IN ('delivered', 'refunded')")
    migrator.remove_fields("orders", "complete_time", "refunded_total", "fee_refund_snapshot")
    migrator.remove_fields(
        "order_lines",
        "destination",
        "delivery_kind",
        "fulfillment_id",
        "fulfillment_state",
        "fulfillment_snapshot",
        "refund_snapshot",
    )
