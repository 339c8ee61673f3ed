"""What a service process does before it imports anything else: each service package's
``__init__`` calls :func:`prepare_service_process` first of all.

Both steps only work early: PyMySQL and its RSA modules must be deferred before peewee
imports PyMySQL (which would import them, :mod:`pasar_kit.deferred_imports`), and malloc's arenas capped
before any thread allocates (gRPC's own threads take arenas as soon as a channel or server
exists, :mod:`pasar_kit.memory`).
"""

from __future__ import annotations

from pasar_kit.deferred_imports import defer_mysql_driver, defer_mysql_rsa_support
from pasar_kit.memory import limit_malloc_arenas


def prepare_service_process() -> None:
    """Defers PyMySQL and its RSA password exchange, and caps glibc's malloc arenas."""
    defer_mysql_rsa_support()
    defer_mysql_driver()
    limit_malloc_arenas()
