"""The catalog's tables, as peewee models bound to the service's database at run time.

The schema itself is created and changed only by the migrations in ``migrations/``; these
models describe the current state of it for queries. Money is an integer of whole rupiah;
``stock_available`` is what can still be ordered (units held by reservations are already
taken out of it), and the database refuses a negative value as a last line of defence
behind the conditional updates in :mod:`pasar_product.stock`.
"""

from __future__ import annotations

import enum

import peewee

from pasar_kit.fields import UtcDateTimeField

database_proxy = peewee.DatabaseProxy()


class ProductState(enum.StrEnum):
    """A product's state as stored; the names of ``ProductState`` without its prefix."""

    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class DeliveryKind(enum.StrEnum):
    """What a delivery of a product hands over, as stored; the names of ``DeliveryKind``
    without its prefix. A product without one (stored as NULL) cannot be ordered."""

    PHONE_CREDIT = "PHONE_CREDIT"
    DATA_PLAN = "DATA_PLAN"
    ELECTRICITY_TOKEN = "ELECTRICITY_TOKEN"  # noqa: S105 (a kind of delivery, not a secret)
    VOUCHER_CODE = "VOUCHER_CODE"
    ACCOUNT_TOPUP = "ACCOUNT_TOPUP"


class ReservationState(enum.StrEnum):
    """A reservation's state as stored; the names of ``ReservationState`` without its prefix."""

    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Category(BaseModel):
    """A group of products shown together, such as "Pulsa"."""

    id = peewee.CharField(max_length=63, primary_key=True)
    display_name = peewee.CharField(max_length=80)
    display_name_en = peewee.CharField(max_length=80)  # "" when not given: shown in Indonesian
    # Both names folded for search (search.category_search_text); migration 006 makes it
    # compare bytes on MariaDB, like SQLite.
    search_text = peewee.TextField()
    sort_order = peewee.IntegerField()
    create_time = UtcDateTimeField()
    update_time = UtcDateTimeField()

    class Meta:
        indexes = ((("sort_order", "id"), False),)


class Product(BaseModel):
    """Something the shop sells in one or more packages; archived products stay for history."""

    id = peewee.CharField(max_length=63, primary_key=True)
    category = peewee.ForeignKeyField(Category, column_name="category_id", index=False, on_delete="RESTRICT")
    category_id: str  # the foreign key's value, read without loading the category
    display_name = peewee.CharField(max_length=120)
    display_name_en = peewee.CharField(max_length=120)  # "" when not given: shown in Indonesian
    description = peewee.TextField()
    description_en = peewee.TextField()
    # Words shoppers type for it ("pln", "game"): a JSON list of strings, as given (trimmed).
    search_keywords = peewee.TextField()
    # Its names and keywords folded for case- and accent-insensitive search
    # (search.product_search_text); compared as bytes on MariaDB too (migration 006).
    search_text = peewee.TextField()
    image_url = peewee.CharField(max_length=500)
    state = peewee.CharField(max_length=16)
    create_time = UtcDateTimeField()
    update_time = UtcDateTimeField()
    # What the shopper gives so that the product can be delivered: a JSON list of objects
    # keyed by the contract's DestinationField names, in display order (messages.py reads
    # and writes it). A column rather than a table: the list is small, read whole with its
    # product (and copied onto every package), and never queried by its content.
    destination_fields = peewee.TextField()  # "[]" for none; every insert names it
    delivery_kind = peewee.CharField(max_length=32, null=True)  # a DeliveryKind; NULL: not set

    class Meta:
        # Keyset pages of the whole catalog and of one category read an index range.
        indexes = (
            (("state", "id"), False),
            (("category", "state", "id"), False),
        )


class Package(BaseModel):
    """One way a product is sold, with its own price (whole rupiah) and stock."""

    id = peewee.CharField(max_length=63, primary_key=True)
    product = peewee.ForeignKeyField(Product, column_name="product_id", index=False, on_delete="RESTRICT")
    product_id: str  # the foreign key's value, read without loading the product
    display_name = peewee.CharField(max_length=120)
    display_name_en = peewee.CharField(max_length=120)  # "" when not given: shown in Indonesian
    description = peewee.CharField(max_length=500)
    description_en = peewee.CharField(max_length=500)
    price = peewee.BigIntegerField()
    stock_available = peewee.IntegerField(constraints=[peewee.Check("stock_available >= 0")])
    sort_order = peewee.IntegerField()
    create_time = UtcDateTimeField()
    update_time = UtcDateTimeField()

    class Meta:
        # The packages of a page of products, in display order, in one index range each.
        indexes = ((("product", "sort_order", "id"), False),)


class Reservation(BaseModel):
    """Units held for one order, all lines or none; the order id is the idempotency key."""

    order_id = peewee.CharField(max_length=64, primary_key=True)
    state = peewee.CharField(max_length=16)
    create_time = UtcDateTimeField()
    update_time = UtcDateTimeField()
    # When units still held go back to stock by themselves (the expiry sweep); null only on
    # reservations that had ended before expiry existed.
    expire_time = UtcDateTimeField(null=True)

    class Meta:
        # The expiry sweep reads the due reservations in one index range.
        indexes = ((("state", "expire_time"), False),)


class ReservationLine(BaseModel):
    """A package and how many of its units a reservation holds."""

    id = peewee.AutoField()
    reservation = peewee.ForeignKeyField(
        Reservation, column_name="order_id", index=False, on_delete="CASCADE"
    )
    order_id: str  # the foreign key's value, read without loading the reservation
    position = peewee.IntegerField()
    package = peewee.ForeignKeyField(Package, column_name="package_id", on_delete="RESTRICT")
    package_id: str  # the foreign key's value, read without loading the package
    quantity = peewee.IntegerField(constraints=[peewee.Check("quantity > 0")])

    class Meta:
        indexes = ((("reservation", "package"), True),)


class CatalogVersion(BaseModel):
    """One row whose version moves in every transaction that changes what a catalog answer
    shows (pasar_product.catalog_version): the catalog's cached answers are served while it
    stays the one they were built at."""

    id = peewee.IntegerField(primary_key=True)  # always 1
    version = peewee.BigIntegerField()


class CatalogChange(BaseModel):
    """What one version of the catalog changed (pasar_product.catalog_version): a package
    whose stock alone moved, or, with no package, anything at all. A version has one row or
    more; the last few thousand versions are kept."""

    id = peewee.AutoField()
    version = peewee.BigIntegerField(index=True)
    package_id = peewee.CharField(max_length=63, null=True)


MODELS: tuple[type[BaseModel], ...] = (
    Category,
    Product,
    Package,
    Reservation,
    ReservationLine,
    CatalogVersion,
    CatalogChange,
)
