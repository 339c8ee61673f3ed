"""Request ids are compared byte for byte.

The contract's request ids allow both cases (``^[A-Za-z0-9._:-]*$``): "checkout-abc" and
"CHECKOUT-ABC" are two requests, so two orders. MariaDB/MySQL compare text by the
database's collation, which ignores case by default, so the second CreateOrder was answered
with the first's order (or REQUEST_ID_REUSED). The column takes the binary collation; its
unique index stays. SQLite compares bytes already.

Released migrations are never edited.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        migrator.sql(
            "ALTER TABLE `orders` MODIFY `request_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL"
        )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        # Fails on the unique index if request ids differing only in case were stored since.
        migrator.sql("ALTER TABLE `orders` MODIFY `request_id` VARCHAR(128) NULL")
