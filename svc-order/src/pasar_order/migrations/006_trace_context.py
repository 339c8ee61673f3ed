"""The trace context of the span that wrote a row, kept for the work the row causes later.

``traceparent`` and ``tracestate`` (W3C Trace Context; empty when the writer was not
traced) on ``orders`` (the checkout's context: the settlement of the order's payment and
its deliveries join the checkout's trace) and on every outbox that svc-order works
through later (``emails``, ``reservation_tasks``, ``fulfillment_tasks``,
``refund_tasks``: the context of the change that queued the row), so that the span of
that later work joins the trace, even after a restart.

Each column is added NOT NULL DEFAULT '' in its one ALTER TABLE: existing rows read as
untraced, and SQLite's migrator does not rebuild the table to add the NOT NULL afterwards.
A rebuild drops the old ``orders`` table, and with foreign keys on, SQLite deletes every
row that references an order (lines, e-mails, tasks) in the drop.

The rollback drops them; the contexts are lost with the columns (only traces lose).

Released migrations are never edited.
"""

import peewee as pw
from peewee_migrate import Migrator

TABLES = ("orders", "emails", "reservation_tasks", "fulfillment_tasks", "refund_tasks")


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
