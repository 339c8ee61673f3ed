"""The lock every change of an order takes first, on MariaDB: its row, by primary key.

A change of an order conditional on its state (or its lease) locks the row by its key
first, then decides the condition on the locked row and writes by key alone. An UPDATE
or DELETE of the id and one state is planned by MariaDB, on a table with few orders in
that state, through the (state, expire_time) index: it locks the index entry before the
row, the opposite order to a writer holding the row and changing that entry, and one of
the two dies in a deadlock (tests/test_lock_order.py). On SQLite, atomic_write's write
lock already serialises every writer, and the read takes no lock.
"""

from __future__ import annotations

from pasar_kit.prepared import LockedRow
from pasar_order.models import Order, database_proxy

_LOCKED_ORDER = LockedRow(database_proxy, Order)


def locked_order(order_id: str) -> Order | None:
    """The order, locked for this transaction on MariaDB (the first read of the transaction,
    so that what follows sees every change committed before the lock was granted)."""
    return _LOCKED_ORDER(order_id)
