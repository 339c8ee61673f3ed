"""Reservations expire: an expire_time per reservation, and the index the expiry sweep reads.

Reservations still held when this runs get an expire_time two hours after they were made
(the service's default lifetime): they are released then unless their order commits or
releases them first. Ended reservations keep a null expire_time.

Written by hand and never edited once released.
"""

import datetime

import peewee as pw
from peewee_migrate import Migrator

# The default lifetime of a reservation whose caller gives none (pasar_product.stock).
DEFAULT_TTL = datetime.timedelta(hours=2)


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


def _expire_held_reservations(database: pw.Database) -> None:
    table = pw.Table("reservation", ("order_id", "state", "create_time", "expire_time")).bind(database)
    held = list(table.select(table.order_id, table.create_time).where(table.state == "reserved").tuples())
    for order_id, create_time in held:
        if isinstance(create_time, str):  # SQLite returns the stored text
            create_time = datetime.datetime.fromisoformat(create_time)
        expire_time = create_time + DEFAULT_TTL
        table.update(expire_time=expire_time.isoformat(sep=" ")).where(table.order_id == order_id).execute()


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("reservation", expire_time=UtcDateTimeField(null=True))
    migrator.add_index("reservation", "state", "expire_time")
    migrator.run(_expire_held_reservations, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("reservation", "state", "expire_time")
    migrator.remove_fields("reservation", "expire_time")
