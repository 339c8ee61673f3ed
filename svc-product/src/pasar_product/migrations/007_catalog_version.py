"""The catalog's version: one row (id 1) that every transaction changing what a catalog
answer shows moves on by one, last (pasar_product.catalog_version). The service serves a
cached answer only while the version is the one the answer was built at, so every process
and instance on this database sees a change at its next read.

The rollback drops the table (running servers of this release then build every catalog
answer afresh, as on a database no release has migrated to 007 yet). Written by hand and
never edited once released.
"""

import peewee as pw
from peewee_migrate import Migrator


def _first_version(database: pw.Database) -> None:
    database.execute_sql("INSERT INTO catalog_version (id, version) VALUES (1, 0)")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class CatalogVersion(pw.Model):
        id = pw.IntegerField(primary_key=True)
        version = pw.BigIntegerField()

        class Meta:
            table_name = "catalog_version"

    migrator.run(_first_version, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("catalog_version")
