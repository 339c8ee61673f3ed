"""E-wallets paid by a push to a phone number, and times to pay shoppers can rely on.

``payment_channel.requires_phone_number``: OVO and DANA send the payment request to the
wallet registered to the payer's phone number, so CreatePayment needs it (the other
channels are paid by a link, a code or a QR: false).

The channel's payment_ttl is the one deadline of a payment and its order, so the seeded
windows are those Indonesian gateways commonly give: QRIS 15 minutes (unchanged), every
e-wallet 30 minutes (DANA and ShopeePay had an hour), virtual accounts a day (unchanged)
and convenience stores a day (they had 48 hours). The display order is unchanged: it
already puts the common ones first (QRIS, e-wallets, virtual accounts, retail outlets).

A channel is changed only while it still has the value 002 seeded (and rolled back only
while it has the value set here), so a deployment's own change to a channel survives both.
"""

import peewee as pw
from peewee_migrate import Migrator

PHONE_WALLETS = ("ovo", "dana")
MINUTE = 60
HOUR = 3600
# code: (payment_ttl_seconds seeded by 002, payment_ttl_seconds from here on)
WINDOWS = {
    "dana": (60 * MINUTE, 30 * MINUTE),
    "shopeepay": (60 * MINUTE, 30 * MINUTE),
    "alfamart": (48 * HOUR, 24 * HOUR),
    "indomaret": (48 * HOUR, 24 * HOUR),
}


def _channels(database: pw.Database) -> pw.Table:
    return pw.Table("payment_channel", ("code", "payment_ttl_seconds", "requires_phone_number")).bind(database)


def _set_windows(database: pw.Database, *, forward: bool) -> None:
    table = _channels(database)
    for code, (seeded, new) in WINDOWS.items():
        old, value = (seeded, new) if forward else (new, seeded)
        table.update(payment_ttl_seconds=value).where(
            (table.code == code) & (table.payment_ttl_seconds == old)
        ).execute()


def _mark_phone_wallets(database: pw.Database) -> None:
    table = _channels(database)
    table.update(requires_phone_number=True).where(table.code.in_(PHONE_WALLETS)).execute()


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # NOT NULL DEFAULT 0 in the one ALTER TABLE: without it, SQLite's migrator would rebuild
    # the table to add NOT NULL, which the payments' foreign key to it forbids.
    migrator.add_fields(
        "payment_channel",
        allow_not_null=True,
        requires_phone_number=pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT 0")]),
    )
    migrator.run(_mark_phone_wallets, database)
    migrator.run(_set_windows, database, forward=True)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_set_windows, database, forward=False)
    migrator.remove_fields("payment_channel", "requires_phone_number")
