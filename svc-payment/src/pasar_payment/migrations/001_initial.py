"""Creates the payment service's tables and the event counter's single row.

Released migrations are never edited: the models are copied here as they were, so that
later changes to models.py cannot change what this migration does.
"""

import peewee


class UtcDateTimeField(peewee.DateTimeField):
    def get_modifiers(self):
        return [6]


def migrate(migrator, database, fake=False, **kwargs):
    @migrator.create_model
    class PaymentChannel(peewee.Model):
        code = peewee.CharField(max_length=32, primary_key=True)
        display_name = peewee.CharField(max_length=64)
        kind = peewee.CharField(max_length=16)
        issuer_name = peewee.CharField(max_length=32)
        flat_fee = peewee.BigIntegerField()
        percent_fee_bps = peewee.IntegerField()
        min_amount = peewee.BigIntegerField()
        max_amount = peewee.BigIntegerField()
        payment_ttl_seconds = peewee.IntegerField()
        enabled = peewee.BooleanField()
        sort_order = peewee.IntegerField()
        logo_url = peewee.CharField(max_length=255)

        class Meta:
            table_name = "payment_channel"
            indexes = ((("enabled", "sort_order", "code"), False),)

    @migrator.create_model
    class Payment(peewee.Model):
        id = peewee.CharField(max_length=36, primary_key=True)
        order_id = peewee.CharField(max_length=64, unique=True)
        channel = peewee.ForeignKeyField(PaymentChannel, column_name="channel_code", on_delete="RESTRICT")
        channel_kind = peewee.CharField(max_length=16)
        state = peewee.CharField(max_length=16)
        currency_code = peewee.CharField(max_length=3)
        amount = peewee.BigIntegerField()
        fee = peewee.BigIntegerField()
        total = peewee.BigIntegerField()
        provider = peewee.CharField(max_length=32)
        provider_reference = peewee.CharField(max_length=64)
        payment_code = peewee.CharField(max_length=32, null=True)
        instructions = peewee.TextField()
        create_time = UtcDateTimeField()
        expire_time = UtcDateTimeField()
        paid_time = UtcDateTimeField(null=True)
        update_time = UtcDateTimeField()
        settlement_id = peewee.CharField(max_length=64, null=True)

        class Meta:
            table_name = "payment"
            indexes = (
                (("provider", "provider_reference"), True),
                (("channel", "payment_code"), True),
                (("state", "expire_time"), False),
            )

    @migrator.create_model
    class PaymentEvent(peewee.Model):
        sequence = peewee.BigIntegerField(primary_key=True)
        type = peewee.CharField(max_length=16)
        payment_id = peewee.CharField(max_length=36, index=True)
        payment = peewee.BlobField()
        create_time = UtcDateTimeField()

        class Meta:
            table_name = "payment_event"

    @migrator.create_model
    class PaymentEventCounter(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        last_sequence = peewee.BigIntegerField()

        class Meta:
            table_name = "payment_event_counter"

    migrator.sql("INSERT INTO payment_event_counter (id, last_sequence) VALUES (1, 0)")


def rollback(migrator, database, fake=False, **kwargs):
    migrator.remove_model("payment_event_counter")
    migrator.remove_model("payment_event")
    migrator.remove_model("payment")
    migrator.remove_model("payment_channel")
