"""Products declare what the shopper gives so that they can be delivered, and what a
delivery hands over (contracts v1.2.0): ``destination_fields``, a JSON list of the
product's DestinationFields (``[]`` for every product stored before), and
``delivery_kind``, a DeliveryKind name without its prefix (NULL: not set, as for every
product stored before; the demo loader fills both for the demo products).

The rollback drops both columns. Written by hand and never edited once released.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "product",
        destination_fields=pw.TextField(default="[]"),
        delivery_kind=pw.CharField(max_length=32, null=True),
    )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("product", "destination_fields", "delivery_kind")
