"""The schema comes from the migrations alone, and it is the schema the models describe."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest
from peewee_migrate import Router

from pasar_kit import database as db
from pasar_kit.leases import JobLease, JobLeaseRow
from pasar_kit.timestamps import utc_now
from pasar_product import catalog
from pasar_product.main import MIGRATIONS_DIR
from pasar_product.models import (
    MODELS,
    Category,
    Product,
    ProductState,
    Reservation,
    ReservationState,
    database_proxy,
)
from pasar_product.search import search_key
from pasar_testkit.mariadb import MariaDBServer


@pytest.fixture
def fresh_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second fresh, empty database of the kind under test."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'models.db'}"
        return
    server: MariaDBServer = request.getfixturevalue("mariadb")
    url = server.create_database("pasar_models")
    try:
        yield url
    finally:
        server.drop_database(url)


def schema(database: peewee.Database) -> dict[str, Any]:
    """Tables with their columns, indexes (by columns) and foreign keys, as the database reports them."""
    with database.connection_context():
        tables = sorted(table for table in database.get_tables() if table != "migratehistory")
        return {
            table: {
                "columns": sorted(
                    (column.name, column.data_type.lower(), column.null, column.primary_key)
                    for column in database.get_columns(table)
                ),
                "indexes": sorted(
                    (tuple(index.columns), index.unique)
                    for index in database.get_indexes(table)
                    if index.name != "PRIMARY" and not index.name.startswith("sqlite_autoindex")
                ),
                "foreign_keys": sorted(
                    (key.column, key.dest_table, key.dest_column) for key in database.get_foreign_keys(table)
                ),
            }
            for table in tables
        }


def test_migrating_applies_each_migration_once(database_url: str) -> None:
    database = db.connect(database_url, max_connections=2)
    try:
        assert db.migrate(database, MIGRATIONS_DIR) == [
            "001_initial",
            "002_reservation_expiry",
            "003_upper_case_states",
            "004_case_sensitive_order_ids",
            "005_destination_fields",
            "006_english_and_keywords",
            "007_catalog_version",
            "008_job_leases",
            "009_catalog_changes",
        ]
        assert db.migrate(database, MIGRATIONS_DIR) == []
    finally:
        db.close_pool(database)


def test_the_migrated_schema_is_the_one_the_models_describe(database_url: str, fresh_url: str) -> None:
    migrated = db.connect(database_url, max_connections=2)
    from_models = db.bind(database_proxy, fresh_url, max_connections=2)
    try:
        db.migrate(migrated, MIGRATIONS_DIR)
        with from_models.connection_context(), from_models.bind_ctx([JobLeaseRow]):
            from_models.create_tables([*MODELS, JobLeaseRow])
        expected = schema(from_models)
        assert set(expected) == {
            "category",
            "product",
            "package",
            "reservation",
            "reservation_line",
            "catalog_version",
            "catalog_change",
            "job_leases",
        }
        assert schema(migrated) == expected
    finally:
        db.close_pool(migrated)
        db.close_pool(from_models)


def test_an_existing_database_keeps_its_data_when_migrated_again(database: peewee.Database) -> None:
    from pasar_product.demo import load_demo_catalog

    load_demo_catalog(database)
    before = schema(database)
    assert db.migrate(database, MIGRATIONS_DIR) == []
    assert schema(database) == before
    with database.connection_context():
        assert database.execute_sql("SELECT COUNT(*) FROM package").fetchone()[0] > 0


def test_list_and_get_read_through_indexes(database: peewee.Database) -> None:
    indexes = schema(database)
    assert (("state", "id"), False) in indexes["product"]["indexes"]
    assert (("category_id", "state", "id"), False) in indexes["product"]["indexes"]
    assert (("product_id", "sort_order", "id"), False) in indexes["package"]["indexes"]
    assert (("sort_order", "id"), False) in indexes["category"]["indexes"]
    assert (("order_id", "package_id"), True) in indexes["reservation_line"]["indexes"]


def insert_product_before_6(
    database: peewee.Database, product_id: str, display_name: str, state: str = ProductState.ACTIVE
) -> None:
    """A product of category "pulsa" as migrations 1 to 5 stored it: with its folded name in
    search_name, which migration 6 replaced (so the model cannot write it)."""
    now = Product.create_time.db_value(utc_now())
    columns = (
        "id, category_id, display_name, search_name, description, image_url, state, create_time, update_time"
    )
    database.execute_sql(
        f"INSERT INTO product ({columns}) VALUES ({', '.join([database.param] * 9)})",
        (product_id, "pulsa", display_name, search_key(display_name), "", "", state, now, now),
    )


def stored_states(database: peewee.Database) -> tuple[list[str], list[str]]:
    """The states of the products and of the reservations, as stored (exact bytes: MariaDB's
    default collation would find "active" equal to "ACTIVE")."""
    with database.connection_context():
        products = [row[0] for row in database.execute_sql("SELECT state FROM product ORDER BY id")]
        reservations = [
            row[0] for row in database.execute_sql("SELECT state FROM reservation ORDER BY order_id")
        ]
    return products, reservations


def test_states_stored_before_migration_3_are_rewritten_upper_case_and_back(database_url: str) -> None:
    """Migration 3 rewrites the lower-case states of existing rows to the contract's names
    without their prefix (every service stores those), and its rollback writes them back."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("002_reservation_expiry")
            now = utc_now()
            times = {"create_time": now, "update_time": now}
            Category.insert(id="pulsa", display_name="Pulsa", sort_order=0, **times).execute()
            for product_id, state in (("a-dijual", "active"), ("b-diarsipkan", "archived")):
                insert_product_before_6(database, product_id, product_id, state)
            for order_id, state in (("ord-1", "reserved"), ("ord-2", "committed"), ("ord-3", "released")):
                Reservation.insert(order_id=order_id, state=state, expire_time=now, **times).execute()
            lower_case = stored_states(database)

            router.run("003_upper_case_states")
            assert stored_states(database) == (
                [ProductState.ACTIVE, ProductState.ARCHIVED],
                [ReservationState.RESERVED, ReservationState.COMMITTED, ReservationState.RELEASED],
            )
            router.rollback()
            assert (
                stored_states(database)
                == lower_case
                == (
                    ["active", "archived"],
                    ["reserved", "committed", "released"],
                )
            )
    finally:
        db.close_pool(database)


def test_order_ids_become_case_sensitive_and_back(database_url: str) -> None:
    """Migration 4 lets two reservations' order ids differ only in case (the binary collation
    on MariaDB; SQLite always compared bytes), keeps the lines' foreign key, and rolls back
    while no such pair is stored."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("004_case_sensitive_order_ids")
            now = utc_now()
            times = {"create_time": now, "update_time": now, "expire_time": now}
            for order_id in ("ORD-abc", "ord-ABC"):
                Reservation.insert(order_id=order_id, state=ReservationState.RESERVED, **times).execute()
            assert Reservation.get_by_id("ord-ABC").order_id == "ord-ABC"
            Reservation.delete().where(Reservation.order_id == "ord-ABC").execute()
            router.rollback()
            assert database.get_foreign_keys("reservation_line")
            assert [row.order_id for row in Reservation.select()] == ["ORD-abc"]
            router.run("004_case_sensitive_order_ids")
            assert router.done[-1] == "004_case_sensitive_order_ids"
    finally:
        db.close_pool(database)


def product_columns(database: peewee.Database) -> list[str]:
    return sorted(column.name for column in database.get_columns("product"))


def test_products_stored_before_migration_5_have_no_destination_and_it_rolls_back(database_url: str) -> None:
    """Migration 5 gives every product stored before an empty list of destination fields and
    no delivery kind (it cannot be ordered until an administrator or the demo loader says
    what it delivers); its rollback drops both columns, and it runs again after."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("004_case_sensitive_order_ids")
            before = product_columns(database)
            now = utc_now()
            times = {"create_time": now, "update_time": now}
            Category.insert(id="pulsa", display_name="Pulsa", sort_order=0, **times).execute()
            insert_product_before_6(database, "lama", "Lama")
            router.run("005_destination_fields")
            stored = database.execute_sql("SELECT destination_fields, delivery_kind FROM product").fetchall()
            assert [tuple(row) for row in stored] == [("[]", None)]
            assert Product.select(Product.delivery_kind).where(Product.id == "lama").scalar() is None
            router.rollback()
            assert product_columns(database) == before
            assert [row.id for row in Product.select(Product.id)] == ["lama"]
            router.run("005_destination_fields")
            assert router.done[-1] == "005_destination_fields"
    finally:
        db.close_pool(database)


def column_names(database: peewee.Database, table: str) -> list[str]:
    return sorted(column.name for column in database.get_columns(table))


def test_a_catalog_with_packages_migrates_to_6_findable_with_no_english_and_rolls_back(
    database_url: str,
) -> None:
    """A catalog stored at migration 4 (products with packages) takes migrations 5 and 6:
    (5 once failed there on SQLite: it rebuilt the product table, which the packages' foreign
    key refused). Migration 6 adds the English text (empty: "use the Indonesian") and the
    keywords (none), makes each product's search text its folded name (search_name held it)
    and each category's its folded name, so search finds products by name and by category.
    Its rollback gives search_name back, and it runs again after."""
    database = db.bind(database_proxy, database_url, max_connections=2)
    try:
        with database.connection_context():
            router = Router(database, migrate_dir=MIGRATIONS_DIR)
            router.run("004_case_sensitive_order_ids")
            now = utc_now()
            times = {"create_time": now, "update_time": now}
            Category.insert(id="pulsa", display_name="Vóucher Game", sort_order=0, **times).execute()
            insert_product_before_6(database, "token-listrik", "Token Listrík Prabayar")
            insert_product_before_6(database, "koin-petualang", "Koin Petualang")
            stamp = Product.create_time.db_value(now)
            database.execute_sql(
                "INSERT INTO package (id, product_id, display_name, description, price, stock_available,"
                f" sort_order, create_time, update_time) VALUES ({', '.join([database.param] * 9)})",
                ("koin-60", "koin-petualang", "60 Koin", "", 15_000, 5, 0, stamp, stamp),
            )
            router.run("005_destination_fields")
            before = {table: column_names(database, table) for table in ("category", "product", "package")}

            router.run("006_english_and_keywords")
            stored = database.execute_sql(
                "SELECT id, display_name_en, description_en, search_keywords, search_text"
                " FROM product ORDER BY id"
            ).fetchall()
            assert [tuple(row) for row in stored] == [
                ("koin-petualang", "", "", "[]", "koin petualang"),
                ("token-listrik", "", "", "[]", "token listrik prabayar"),
            ]
            categories = database.execute_sql("SELECT display_name_en, search_text FROM category").fetchall()
            assert [tuple(row) for row in categories] == [("", "voucher game")]
            if isinstance(database, peewee.MySQLDatabase):  # folded text against folded words, as bytes
                collations = database.execute_sql(
                    "SELECT TABLE_NAME, COLLATION_NAME FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'search_text' ORDER BY TABLE_NAME"
                ).fetchall()
                assert [tuple(row) for row in collations] == [
                    ("category", "utf8mb4_bin"),
                    ("product", "utf8mb4_bin"),
                ]
            packages = database.execute_sql("SELECT display_name_en, description_en FROM package").fetchall()
            assert [tuple(row) for row in packages] == [("", "")]
            found = catalog.list_products(10, "", query="LISTRIK")
            assert [listing.product.id for listing in found.products] == ["token-listrik"]
            by_category = catalog.list_products(10, "", query="game")
            assert [listing.product.id for listing in by_category.products] == [
                "koin-petualang",
                "token-listrik",
            ]

            router.rollback()
            assert {table: column_names(database, table) for table in before} == before
            names = database.execute_sql("SELECT id, search_name FROM product ORDER BY id").fetchall()
            assert [tuple(row) for row in names] == [
                ("koin-petualang", "koin petualang"),
                ("token-listrik", "token listrik prabayar"),
            ]
            router.run()
            assert "006_english_and_keywords" in router.done
            assert catalog.list_products(10, "", query="prabayar").products[0].product.id == "token-listrik"
    finally:
        db.close_pool(database)


def test_job_leases_come_with_migration_8_after_or_before_7_and_go_with_its_rollback(
    database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    """Migration 8 adds job_leases (pasar_kit.leases), where the reservation expiry sweep takes
    its lease. It was written beside 7 (the catalog version): a database that got 8 first gets 7
    at its next migrate, to the same schema. The rollback drops job_leases; it applies again."""
    without_7 = tmp_path / "migrations-without-7"
    without_7.mkdir()
    for migration in MIGRATIONS_DIR.glob("00[1-8]_*.py"):  # the migrations of that release
        if not migration.name.startswith("007_"):
            shutil.copy(migration, without_7)
    eight_first = db.connect(database_url, max_connections=2)
    in_order = db.connect(fresh_url, max_connections=2)
    try:
        assert db.migrate(eight_first, without_7)[-1] == "008_job_leases"
        assert db.migrate(eight_first, MIGRATIONS_DIR) == ["007_catalog_version", "009_catalog_changes"]
        db.migrate(in_order, MIGRATIONS_DIR)
        assert schema(eight_first) == schema(in_order)

        with in_order.connection_context():
            assert JobLease(in_order, "reservation-expiry", 60).hold()
            router = Router(in_order, migrate_dir=MIGRATIONS_DIR)
            router.rollback()  # 009
            router.rollback()  # 008
            assert router.done[-1] == "007_catalog_version"
            assert "job_leases" not in in_order.get_tables()
            router.run()
            assert JobLease(in_order, "reservation-expiry", 60).hold()
    finally:
        db.close_pool(eight_first)
        db.close_pool(in_order)
