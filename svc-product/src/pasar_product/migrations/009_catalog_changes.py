"""The catalog's change log: for each version of the catalog (migration 007), what it
changed — a package whose stock alone moved, or NULL for anything else
(pasar_product.catalog_version). A version change then drops only the cached answers that
show those packages, not every answer kept.

Nothing to fill in: versions moved before this migration have no rows, and a reader that
finds a version without rows drops everything, as before. The rollback drops the table
(the earlier code writes no log and reads none). Written by hand and never edited once
released.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class CatalogChange(pw.Model):
        id = pw.AutoField()
        version = pw.BigIntegerField(index=True)
        package_id = pw.CharField(max_length=63, null=True)

        class Meta:
            table_name = "catalog_change"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("catalog_change")
