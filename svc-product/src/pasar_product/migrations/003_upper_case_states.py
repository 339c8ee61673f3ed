"""States are stored as the contract's enum value names without their prefix ("ACTIVE",
"RESERVED"), as in every Pasar service, instead of the lower-case words used until now.

Rolling back writes the lower-case words again. Written by hand and never edited once
released.
"""

import peewee as pw
from peewee_migrate import Migrator

# (table, stored before, stored after) for every state the catalog stores.
RENAMES = (
    ("product", "active", "ACTIVE"),
    ("product", "archived", "ARCHIVED"),
    ("reservation", "reserved", "RESERVED"),
    ("reservation", "committed", "COMMITTED"),
    ("reservation", "released", "RELEASED"),
)


def _rewrite(database: pw.Database, *, upgrade: bool) -> None:
    for table_name, before, after in RENAMES:
        old, new = (before, after) if upgrade else (after, before)
        table = pw.Table(table_name, ("state",)).bind(database)
        table.update(state=new).where(table.state == old).execute()


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_rewrite, database, upgrade=True)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_rewrite, database, upgrade=False)
