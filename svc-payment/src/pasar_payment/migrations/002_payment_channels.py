"""Seeds the payment channels common in Indonesia, so every fresh database has them.

Fees and limits are typical of Indonesian payment gateways: bank virtual accounts a flat
Rp 4.000 and 24 hours to pay; QRIS 0.7 % and 15 minutes; e-wallets 1.5-2 % and 30-60
minutes; convenience stores a flat Rp 5.000 and 48 hours. Amounts are whole rupiah and
limits apply to the order amount before the fee.

The rollback deletes the seeded channels. Fixed once after release: it read the code
column as ``table.c.code``, which a table with declared columns does not have, so it raised
AttributeError and could never run (the seed and its outcome are unchanged).
"""

import peewee

HOUR = 3600

# code, display name, kind, issuer, flat fee, percent fee (bps), min, max, ttl seconds, sort order
CHANNELS = [
    ("qris", "QRIS", "QRIS", "QRIS", 0, 70, 1_000, 10_000_000, 15 * 60, 10),
    ("gopay", "GoPay", "EWALLET", "GoPay", 0, 200, 1_000, 10_000_000, 30 * 60, 20),
    ("ovo", "OVO", "EWALLET", "OVO", 0, 150, 1_000, 10_000_000, 30 * 60, 30),
    ("dana", "DANA", "EWALLET", "DANA", 0, 150, 1_000, 10_000_000, 60 * 60, 40),
    ("shopeepay", "ShopeePay", "EWALLET", "ShopeePay", 0, 200, 1_000, 10_000_000, 60 * 60, 50),
    ("bca_va", "BCA Virtual Account", "VIRTUAL_ACCOUNT", "BCA", 4_000, 0, 10_000, 50_000_000, 24 * HOUR, 60),
    ("bni_va", "BNI Virtual Account", "VIRTUAL_ACCOUNT", "BNI", 4_000, 0, 10_000, 50_000_000, 24 * HOUR, 70),
    ("bri_va", "BRI Virtual Account", "VIRTUAL_ACCOUNT", "BRI", 4_000, 0, 10_000, 50_000_000, 24 * HOUR, 80),
    ("mandiri_va", "Mandiri Virtual Account", "VIRTUAL_ACCOUNT", "Mandiri", 4_000, 0, 10_000, 50_000_000, 24 * HOUR, 90),
    ("permata_va", "Permata Virtual Account", "VIRTUAL_ACCOUNT", "Permata", 4_000, 0, 10_000, 50_000_000, 24 * HOUR, 100),
    ("alfamart", "Alfamart", "RETAIL_OUTLET", "Alfamart", 5_000, 0, 10_000, 5_000_000, 48 * HOUR, 110),
    ("indomaret", "Indomaret", "RETAIL_OUTLET", "Indomaret", 5_000, 0, 10_000, 5_000_000, 48 * HOUR, 120),
]

FIELDS = (
    "code",
    "display_name",
    "kind",
    "issuer_name",
    "flat_fee",
    "percent_fee_bps",
    "min_amount",
    "max_amount",
    "payment_ttl_seconds",
    "sort_order",
)


def _channel_table(database):
    columns = (*FIELDS, "enabled", "logo_url")
    return peewee.Table("payment_channel", columns).bind(database)


def _seed(database):
    rows = []
    for values in CHANNELS:
        row = dict(zip(FIELDS, values))
        row["enabled"] = True
        row["logo_url"] = f"/images/channels/{row['code']}.svg"
        rows.append(row)
    _channel_table(database).insert(rows).execute()


def _unseed(database):
    table = _channel_table(database)
    table.delete().where(table.code.in_([values[0] for values in CHANNELS])).execute()


def migrate(migrator, database, fake=False, **kwargs):
    migrator.run(_seed, database)


def rollback(migrator, database, fake=False, **kwargs):
    migrator.run(_unseed, database)
