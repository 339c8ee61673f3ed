"""Order ids and provider references are compared byte for byte.

The contract's order ids allow both cases (``^[A-Za-z0-9_-]+$``): "ord-abc" and "ORD-ABC"
are two orders. MariaDB/MySQL compare text by the database's collation, which ignores case
by default, so one order was answered with the other's payment (or PAYMENT_CONFLICT), and a
notification naming a provider reference in another case found the payment. Both columns
take the binary collation; their unique indexes stay. SQLite compares bytes already.
"""

import peewee as pw
from peewee_migrate import Migrator

COLUMNS = ("order_id", "provider_reference")  # both VARCHAR(64) NOT NULL


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        for column in COLUMNS:
            migrator.sql(
                f"ALTER TABLE `payment` MODIFY `{column}` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
            )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        # Fails on the unique indexes if ids differing only in case were stored since.
        for column in COLUMNS:
            migrator.sql(f"ALTER TABLE `payment` MODIFY `{column}` VARCHAR(64) NOT NULL")
