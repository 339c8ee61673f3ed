"""Order ids are compared byte for byte.

The contract's order ids allow both cases (``^[A-Za-z0-9_-]+$``): "ORD-abc" and "ord-ABC"
are two orders, with two reservations. MariaDB/MySQL compare text by the database's
collation, which ignores case by default, so the second order was answered with the first's
reservation (or RESERVATION_CONFLICT), and committing or releasing one touched the other.
The reservation's key and the lines' reference to it take the binary collation together:
a foreign key joins columns of one collation, and MariaDB refuses to change either while
the key exists, so the lines' foreign key is dropped, both columns change, and the key is
made again under the name MariaDB gave it (the stored values are unchanged, and every line
names its reservation exactly). SQLite compares bytes already.

Written by hand and never edited once released.
"""

import peewee as pw
from peewee_migrate import Migrator

# (table, column) of every order_id column: both VARCHAR(64) NOT NULL.
COLUMNS = (("reservation", "order_id"), ("reservation_line", "order_id"))
BINARY = "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
DEFAULT = "VARCHAR(64) NOT NULL"


def _line_foreign_key(database: pw.Database) -> str:
    """The name MariaDB gave the lines' foreign key to their reservation (001 left it unnamed)."""
    cursor = database.execute_sql(
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'reservation_line'"
        " AND REFERENCED_TABLE_NAME = 'reservation'"
    )
    (name,) = cursor.fetchone()
    return str(name)


def _modify(database: pw.Database, definition: str) -> None:
    foreign_key = _line_foreign_key(database)
    database.execute_sql(f"ALTER TABLE `reservation_line` DROP FOREIGN KEY `{foreign_key}`")
    for table, column in COLUMNS:
        database.execute_sql(f"ALTER TABLE `{table}` MODIFY `{column}` {definition}")
    database.execute_sql(
        f"ALTER TABLE `reservation_line` ADD CONSTRAINT `{foreign_key}` FOREIGN KEY (`order_id`)"
        " REFERENCES `reservation` (`order_id`) ON DELETE CASCADE"
    )


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        migrator.run(_modify, database, BINARY)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    if isinstance(database, pw.MySQLDatabase):
        # Fails on the primary key if order ids differing only in case were stored since.
        migrator.run(_modify, database, DEFAULT)
