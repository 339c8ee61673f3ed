"""Order numbers for people, English line names, and the count of failed look-ups.

- ``orders.order_number``: "PSR-" and six characters of an alphabet without look-alikes,
  unique. Orders placed before get one here, so that every order can be looked up; the
  column stays nullable (the contract allows an order without one).
- ``order_lines.package_display_name_en`` and ``product_display_name_en``: the catalog's
  English names at checkout (empty: none; older lines have none).
- ``order_lookup_failures``: failed LookupOrder calls per order number (known or not) in
  the current window, shared by every instance of the service.

The rollback drops them all; the numbers given to orders are lost with the column.

Released migrations are never edited.
"""

import secrets

import peewee as pw
from peewee_migrate import Migrator

# As pasar_order.order_numbers had it when this migration was written.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


class UtcDateTimeField(pw.DateTimeField):
    field_type = "DATETIME(6)"


# Orders numbered per statement: one UPDATE a batch instead of one (and one commit, as the
# ALTER TABLE before has ended MariaDB's transaction) an order; 3 parameters an order stay
# under SQLite's oldest limit of 999.
BATCH = 300


def _number_existing_orders(database: pw.Database) -> None:
    """Gives every order without a number a fresh, unique one, a batch of orders at a time."""
    numbered = database.execute_sql("SELECT order_number FROM orders WHERE order_number IS NOT NULL")
    taken = {row[0] for row in numbered}
    order_ids = [row[0] for row in database.execute_sql("SELECT id FROM orders WHERE order_number IS NULL")]
    param = database.param
    for start in range(0, len(order_ids), BATCH):
        batch = order_ids[start : start + BATCH]
        values: list[str] = []
        for order_id in batch:
            number = None
            while number is None or number in taken:
                number = "PSR-" + "".join(secrets.choice(ALPHABET) for _ in range(6))
            taken.add(number)
            values += [order_id, number]
        cases = " ".join([f"WHEN {param} THEN {param}"] * len(batch))
        placeholders = ", ".join([param] * len(batch))
        database.execute_sql(
            f"UPDATE orders SET order_number = CASE id {cases} END WHERE id IN ({placeholders})",
            (*values, *batch),
        )


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # Unique from the start (NULLs do not collide), so the numbers given below are too.
    migrator.add_fields("orders", order_number=pw.CharField(max_length=10, null=True, unique=True))
    migrator.run(_number_existing_orders, database)
    migrator.add_fields(
        "order_lines",
        package_display_name_en=pw.CharField(max_length=120, default=""),
        product_display_name_en=pw.CharField(max_length=120, default=""),
    )

    @migrator.create_model
    class OrderLookupFailures(pw.Model):
        order_number = pw.CharField(max_length=10, primary_key=True)
        failures = pw.IntegerField(default=0)
        window_start = UtcDateTimeField(index=True)

        class Meta:
            table_name = "order_lookup_failures"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("order_lookup_failures")
    migrator.remove_fields("order_lines", "package_display_name_en", "product_display_name_en")
    migrator.drop_index("orders", "order_number")
    migrator.remove_fields("orders", "order_number")
