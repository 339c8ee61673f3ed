"""Products declare what the shopper gives so that they can be delivered, and what a
delivery hands over (contracts v1.2.0): ``destination_fields``, a JSON list of the
product's DestinationFields (``[]`` for every product stored before), and
``delivery_kind``, a DeliveryKind name without its prefix (NULL: not set, as for every
product stored before; the demo loader fills both for the demo products).

The rollback drops both columns. Written by hand and never edited once released, but
once: as first released it added ``destination_fields`` nullable and then made it NOT NULL,
which peewee does on SQLite by rebuilding the table, and dropping the old ``product`` table
failed the foreign key of every package (so it failed on any SQLite catalog with a package,
and never ran there). It now adds the column NOT NULL with its default in one ALTER TABLE,
to the same schema.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "product",
        allow_not_null=True,
        destination_fields=pw.TextField(default="[]", constraints=[pw.SQL("DEFAULT '[]'")]),
    )
    migrator.add_fields("product", delivery_kind=pw.CharField(max_length=32, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("product", "destination_fields", "delivery_kind")
