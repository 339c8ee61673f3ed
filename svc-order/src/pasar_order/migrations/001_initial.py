"""The order service's first schema: orders and their lines, the e-mail and reservation
outboxes, and the payment-event cursor.

Released migrations are never edited: a change to the schema is a new migration. The
models are frozen copies of pasar_order.models as they were at this migration.
"""

import peewee as pw
from peewee_migrate import Migrator


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Order(pw.Model):
        id = pw.CharField(max_length=36, primary_key=True)
        request_id = pw.CharField(max_length=128, null=True, unique=True)
        request_fingerprint = pw.CharField(max_length=64)
        state = pw.CharField(max_length=16)
        customer_email = pw.CharField(max_length=254)
        language_code = pw.CharField(max_length=2)
        payment_channel_code = pw.CharField(max_length=32)
        currency_code = pw.CharField(max_length=3)
        subtotal = pw.BigIntegerField()
        fee = pw.BigIntegerField(null=True)
        total = pw.BigIntegerField(null=True)
        payment_requested = pw.BooleanField(default=False)
        payment_id = pw.CharField(max_length=36, null=True, unique=True)
        payment_snapshot = pw.BlobField(null=True)
        access_token_hash = pw.CharField(max_length=64)
        lease_owner = pw.CharField(max_length=32, null=True)
        lease_until = UtcDateTimeField(null=True)
        create_time = UtcDateTimeField()
        update_time = UtcDateTimeField()
        expire_time = UtcDateTimeField(null=True)
        paid_time = UtcDateTimeField(null=True)

        class Meta:
            table_name = "orders"
            indexes = ((("state", "expire_time"), False),)

    @migrator.create_model
    class OrderLine(pw.Model):
        id = pw.AutoField()
        order = pw.ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
        position = pw.IntegerField()
        package_id = pw.CharField(max_length=63)
        package_display_name = pw.CharField(max_length=120)
        product_id = pw.CharField(max_length=63)
        product_display_name = pw.CharField(max_length=120)
        unit_price = pw.BigIntegerField()
        quantity = pw.IntegerField()
        line_total = pw.BigIntegerField()

        class Meta:
            table_name = "order_lines"
            indexes = ((("order", "package_id"), True),)

    @migrator.create_model
    class Email(pw.Model):
        id = pw.AutoField()
        state = pw.CharField(max_length=8, default="QUEUED")
        attempts = pw.IntegerField(default=0)
        next_attempt_time = UtcDateTimeField()
        lease_owner = pw.CharField(max_length=32, null=True)
        lease_until = UtcDateTimeField(null=True)
        last_error = pw.CharField(max_length=500, null=True)
        create_time = UtcDateTimeField()
        done_time = UtcDateTimeField(null=True)
        order = pw.ForeignKeyField(Order, backref="emails", on_delete="CASCADE")
        kind = pw.CharField(max_length=32)

        class Meta:
            table_name = "emails"
            indexes = (
                (("order", "kind"), True),
                (("state", "next_attempt_time"), False),
            )

    @migrator.create_model
    class ReservationTask(pw.Model):
        id = pw.AutoField()
        state = pw.CharField(max_length=8, default="QUEUED")
        attempts = pw.IntegerField(default=0)
        next_attempt_time = UtcDateTimeField()
        lease_owner = pw.CharField(max_length=32, null=True)
        lease_until = UtcDateTimeField(null=True)
        last_error = pw.CharField(max_length=500, null=True)
        create_time = UtcDateTimeField()
        done_time = UtcDateTimeField(null=True)
        order = pw.ForeignKeyField(Order, backref="reservation_tasks", on_delete="CASCADE")
        step = pw.CharField(max_length=8)

        class Meta:
            table_name = "reservation_tasks"
            indexes = (
                (("order", "step"), True),
                (("state", "next_attempt_time"), False),
            )

    @migrator.create_model
    class EventCursor(pw.Model):
        name = pw.CharField(max_length=64, primary_key=True)
        sequence = pw.BigIntegerField(default=0)
        update_time = UtcDateTimeField()

        class Meta:
            table_name = "event_cursors"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("event_cursors", "reservation_tasks", "emails", "order_lines", "orders"):
        migrator.remove_model(table)
