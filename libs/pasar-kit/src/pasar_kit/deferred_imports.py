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
    imported now (a stand-in must be their attribute, as an imported submodule is)."""
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
        parent, _, child = name.rpartition(".")
        stand_in = DeferredModule(name)
        stand_in.__spec__ = found  # what find_spec answers for an imported module
        sys.modules[name] = stand_in
        setattr(sys.modules[parent], child, stand_in)
        deferred.append(name)
    return deferred


def defer_mysql_rsa_support() -> list[str]:
    """Defers PyMySQL's RSA password exchange modules (the module docstring says why);
    call it before peewee or pymysql is imported."""
    return defer_modules(MYSQL_RSA_MODULES)


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
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
        stand_in._imported_module = module
        return module
