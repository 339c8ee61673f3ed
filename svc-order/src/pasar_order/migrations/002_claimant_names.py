"""Outbox leases name their claimant's host, process and start time (pasar_order.claimants):
lease_owner of the two outboxes grows from 32 to 255 characters.

SQLite does not enforce the length of a VARCHAR, so only MariaDB/MySQL change.
"""

import peewee as pw
from peewee_migrate import Migrator

TABLES = ("emails", "reservation_tasks")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        for table in TABLES:
            migrator.sql(f"ALTER TABLE `{table}` MODIFY `lease_owner` VARCHAR(255) NULL")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        for table in TABLES:
            # Longer claims would not fit; they are only leases, given up here.
            migrator.sql(
                f"UPDATE `{table}` SET `lease_owner` = NULL, `lease_until` = NULL WHERE LENGTH(`lease_owner`) > 32"
            )
            migrator.sql(f"ALTER TABLE `{table}` MODIFY `lease_owner` VARCHAR(32) NULL")
