"""Modules a service seldom needs, imported when first used rather than at start.

peewee imports PyMySQL whenever it is installed, SQLite runs included, and PyMySQL imports
the ``cryptography`` primitives for the RSA password exchange of MySQL's ``sha256_password``
and ``caching_sha2_password`` (without TLS): about 7 MB resident (cryptography's Rust
bindings and OpenSSL) in every service, for a path that a SQLite run, a MariaDB account
(``mysql_native_password``) or a TLS connection never takes.

:func:`defer_mysql_rsa_support`, called before peewee is first imported (each service
package's ``__init__``, through :mod:`pasar_kit.service_process`), puts a stand-in for each
of those modules in ``sys.modules``; the first attribute read from a stand-in imports its
real module, under a lock since a pool opens connections from several threads, and the
stand-in forwards to it from then on. Only the standard import system is used: nothing of
PyMySQL or cryptography changes. A stand-in carries its module's spec, so
``importlib.util.find_spec`` answers as before.

PyMySQL itself is deferred the same way (:func:`defer_mysql_driver`): peewee imports it at
its own import and reads it only to open a MySQL connection, so a SQLite run never needs it.
Measured on SQLite, three alternating runs of the bench's checkout load each: svc-order's
peak resident memory 82.1 -> 81.2 MB, svc-product's and svc-payment's 0.9 MB less too; on
MySQL the first connection imports it.

Not ``importlib.util.LazyLoader``: on Python 3.11 its module turns into a plain module
before the real code has run, so other threads reading it meanwhile get AttributeError (7 of
8 threads on first use of ``hashes``, measured; locked only from 3.12.3), and cryptography's
``serialization`` replaces itself in ``sys.modules``, which LazyLoader refuses (ValueError,
even from one thread).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

# What pymysql._auth imports beside cryptography.hazmat.backends (which is light: it
# loads no binding until its default_backend() is called).
MYSQL_RSA_MODULES = (
    "cryptography.hazmat.primitives.hashes",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.asymmetric.padding",
)

# The MySQL driver peewee imports whenever it is installed.
MYSQL_DRIVER = "pymysql"

# Reentrant: importing one real module may read another stand-in.
_lock = threading.RLock()


class DeferredModule(types.ModuleType):
    """Stands in for a module until an attribute is first read from it."""

    # The real module, once imported through this stand-in (a name no module it stands in
    # for has, so that none of theirs is hidden). From then on no lock is taken:
    # PyMySQL reads through its stand-ins at every RSA login, and a slow import elsewhere,
    # or a fork while another thread held the lock (a supervisor forking a worker), must
    # not hold those up.
    _imported_module: types.ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        # Called only for what the stand-in lacks: all but a new module's own few dunders.
        module = self._imported_module
        if module is None:
            module = _import_real(self)
        return getattr(module, attribute)


def defer_modules(names: tuple[str, ...]) -> list[str]:
    """Defers each of names (dotted module names) that is installed and not imported yet;
    returns the ones deferred. Their parent packages are
    imported now (a stand-in must be their attribute, as an imported submodule is).
    A stand-in for a package serves attributes only: importing one of its submodules
    imports the package itself first."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            found = importlib.util.find_spec(name)  # imports the parent packages
        except ModuleNotFoundError:
            continue
        if found is None:
            continue
        stand_in = DeferredModule(name)
        stand_in.__spec__ = found  # what find_spec answers for an imported module
        sys.modules[name] = stand_in
        _set_in_parent(name, stand_in)
        deferred.append(name)
    return deferred


def defer_mysql_rsa_support() -> list[str]:
    """Defers PyMySQL's RSA password exchange modules (the module docstring says why);
    call it before peewee or pymysql is imported."""
    return defer_modules(MYSQL_RSA_MODULES)


def defer_mysql_driver() -> list[str]:
    """Defers PyMySQL (the module docstring says why); call it before peewee is imported.
    Code that needs its submodules at import (``from pymysql.constants import ...``)
    imports it then: import them where a MySQL connection is being made instead."""
    return defer_modules((MYSQL_DRIVER,))


def is_deferred(name: str) -> bool:
    """True while name is a stand-in whose real module has not been imported."""
    return isinstance(sys.modules.get(name), DeferredModule)


def _import_real(stand_in: DeferredModule) -> types.ModuleType:
    """The real module for stand_in, imported now unless it was already."""
    with _lock:
        if stand_in._imported_module is not None:
            return stand_in._imported_module
        name = stand_in.__name__
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        try:
            module = importlib.import_module(name)
        except BaseException:
            sys.modules.setdefault(name, stand_in)  # a later use fails the same way
            raise
        _set_in_parent(name, module)
        stand_in._imported_module = module
        return module


def _set_in_parent(name: str, module: types.ModuleType) -> None:
    """module as its parent package's attribute, as the import system sets a submodule."""
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
