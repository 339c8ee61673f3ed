"""The trace context of the span that wrote a row, kept for the work the row causes later.

``traceparent`` and ``tracestate`` (W3C Trace Context, as ``pasar.common.v1.TraceContext``
carries them; empty when the writer was not traced) on ``payment`` (the context of
CreatePayment, inside the checkout: the expiry sweep's span joins that trace) and on
``payment_event`` (the context of the call that caused the event: WatchPaymentEvents
hands it to consumers as ``PaymentEvent.trace_context``), so that later work joins the
purchase's trace, even after a restart.

Each column is added NOT NULL DEFAULT '' in its one ALTER TABLE: existing rows read as
untraced, MariaDB adds it without copying the table, and SQLite's migrator does not rebuild
the payment table (which refunds reference) to add the NOT NULL. The rollback drops them;
only traces lose the contexts.

Released migrations are never edited.
"""

import peewee as pw
from peewee_migrate import Migrator

TABLES = ("payment", "payment_event")


def _columns() -> dict[str, pw.Field]:
    return {
        "traceparent": pw.CharField(max_length=55, default="", constraints=[pw.SQL("DEFAULT ''")]),
        "tracestate": pw.CharField(max_length=512, default="", constraints=[pw.SQL("DEFAULT ''")]),
    }


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in TABLES:
        migrator.add_fields(table, allow_not_null=True, **_columns())


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for table in TABLES:
        migrator.remove_fields(table, "traceparent", "tracestate")
