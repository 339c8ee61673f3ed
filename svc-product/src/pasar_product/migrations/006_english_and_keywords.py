"""The catalog in English beside Indonesian, and search keywords (contracts v1.3.0).

- ``category.display_name_en``; ``product.display_name_en``, ``description_en`` and
  ``search_keywords`` (a JSON list of strings); ``package.display_name_en`` and
  ``description_en``: empty (``[]`` for keywords) for every row stored before, which the
  contract reads as "use the Indonesian".
- ``product.search_text`` replaces ``search_name``: the folded names and keywords a search
  looks in (rows stored before have one name and no keywords, so their folded name, which
  ``search_name`` held, is their search text). ``category.search_text`` is its two names
  folded (filled here from the one name categories had).
- On MariaDB both search texts compare bytes (``utf8mb4_bin``): they hold folded text and
  are compared with folded words, so MariaDB finds exactly what SQLite finds (the server's
  ``utf8mb4_unicode_ci`` would also equate characters the folding keeps apart).

The rollback puts ``search_name`` back (each product's display name folded) and drops the
new columns, with the English text and keywords in them. Written by hand and never edited
once released; the folding below is the one of this release, copied, not imported.
"""

import unicodedata

import peewee as pw
from peewee_migrate import Migrator

BINARY_TEXT = "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
BATCH = 1000


def _text(field: type[pw.Field], default: str, **options) -> pw.Field:
    """A NOT NULL column with a default in its definition, added by one ALTER TABLE on both
    databases: peewee would add it nullable and then rebuild the table on SQLite to make it
    NOT NULL, and rebuilding a table other rows refer to fails their foreign keys."""
    return field(default=default, constraints=[pw.SQL(f"DEFAULT '{default}'")], **options)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _fill_category_search_text(database: pw.Database) -> None:
    rows = database.execute_sql("SELECT id, display_name FROM category").fetchall()
    for category_id, display_name in rows:
        database.execute_sql(
            f"UPDATE category SET search_text = {database.param} WHERE id = {database.param}",
            (_folded(display_name), category_id),
        )


def _search_text_compares_bytes(database: pw.Database) -> None:
    for table in ("category", "product"):
        database.execute_sql(f"ALTER TABLE `{table}` MODIFY `search_text` {BINARY_TEXT}")


def _fill_search_name(database: pw.Database) -> None:
    """Each product's folded display name, written back a batch at a time."""
    rows = database.execute_sql("SELECT id, display_name FROM product").fetchall()
    statement = f"UPDATE product SET search_name = {database.param} WHERE id = {database.param}"
    for start in range(0, len(rows), BATCH):
        batch = [(_folded(name), product_id) for product_id, name in rows[start : start + BATCH]]
        database.cursor().executemany(statement, batch)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "category",
        allow_not_null=True,
        display_name_en=_text(pw.CharField, "", max_length=80),
        search_text=_text(pw.TextField, ""),
    )
    migrator.add_fields(
        "product",
        allow_not_null=True,
        display_name_en=_text(pw.CharField, "", max_length=120),
        description_en=_text(pw.TextField, ""),
        search_keywords=_text(pw.TextField, "[]"),
        search_text=_text(pw.TextField, ""),
    )
    migrator.add_fields(
        "package",
        allow_not_null=True,
        display_name_en=_text(pw.CharField, "", max_length=120),
        description_en=_text(pw.CharField, "", max_length=500),
    )
    migrator.sql("UPDATE product SET search_text = search_name")
    migrator.run(_fill_category_search_text, database)
    migrator.remove_fields("product", "search_name")
    if isinstance(database, pw.MySQLDatabase):
        migrator.run(_search_text_compares_bytes, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("product", allow_not_null=True, search_name=_text(pw.TextField, ""))
    migrator.run(_fill_search_name, database)
    migrator.remove_fields("package", "display_name_en", "description_en")
    migrator.remove_fields("product", "display_name_en", "description_en", "search_keywords", "search_text")
    migrator.remove_fields("category", "display_name_en", "search_text")
