"""The catalog's first schema: categories, products, packages, reservations and their lines.

Written by hand and never edited once released: the models here are a snapshot of the
schema as this migration creates it, independent of models.py as it changes later.
"""

import peewee as pw
from peewee_migrate import Migrator


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Category(pw.Model):
        id = pw.CharField(max_length=63, primary_key=True)
        display_name = pw.CharField(max_length=80)
        sort_order = pw.IntegerField()
        create_time = UtcDateTimeField()
        update_time = UtcDateTimeField()

        class Meta:
            table_name = "category"
            indexes = ((("sort_order", "id"), False),)

    @migrator.create_model
    class Product(pw.Model):
        id = pw.CharField(max_length=63, primary_key=True)
        category = pw.ForeignKeyField(Category, column_name="category_id", index=False, on_delete="RESTRICT")
        display_name = pw.CharField(max_length=120)
        search_name = pw.TextField()
        description = pw.TextField()
        image_url = pw.CharField(max_length=500)
        state = pw.CharField(max_length=16)
        create_time = UtcDateTimeField()
        update_time = UtcDateTimeField()

        class Meta:
            table_name = "product"
            indexes = (
                (("state", "id"), False),
                (("category", "state", "id"), False),
            )

    @migrator.create_model
    class Package(pw.Model):
        id = pw.CharField(max_length=63, primary_key=True)
        product = pw.ForeignKeyField(Product, column_name="product_id", index=False, on_delete="RESTRICT")
        display_name = pw.CharField(max_length=120)
        description = pw.CharField(max_length=500)
        price = pw.BigIntegerField()
        stock_available = pw.IntegerField(constraints=[pw.Check("stock_available >= 0")])
        sort_order = pw.IntegerField()
        create_time = UtcDateTimeField()
        update_time = UtcDateTimeField()

        class Meta:
            table_name = "package"
            indexes = ((("product", "sort_order", "id"), False),)

    @migrator.create_model
    class Reservation(pw.Model):
        order_id = pw.CharField(max_length=64, primary_key=True)
        state = pw.CharField(max_length=16)
        create_time = UtcDateTimeField()
        update_time = UtcDateTimeField()

        class Meta:
            table_name = "reservation"

    @migrator.create_model
    class ReservationLine(pw.Model):
        id = pw.AutoField()
        reservation = pw.ForeignKeyField(Reservation, column_name="order_id", index=False, on_delete="CASCADE")
        position = pw.IntegerField()
        package = pw.ForeignKeyField(Package, column_name="package_id", on_delete="RESTRICT")
        quantity = pw.IntegerField(constraints=[pw.Check("quantity > 0")])

        class Meta:
            table_name = "reservation_line"
            indexes = ((("reservation", "package"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in ("reservation_line", "reservation", "package", "product", "category"):
        migrator.remove_model(table)
