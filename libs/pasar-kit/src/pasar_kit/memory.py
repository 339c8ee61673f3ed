"""Keeping a threaded service's resident memory flat under load.

glibc gives each thread that allocates concurrently its own malloc arena, up to eight per
core, and every arena keeps the memory it once held: a gRPC server's worker threads grow
the process by megabytes under load that it never returns. Two arenas are enough for
threads that take turns on the GIL anyway (the same advice as ``MALLOC_ARENA_MAX=2`` for
gunicorn and other threaded Python servers), set here so that it holds wherever the service
runs, not only where someone remembered the environment variable.

The cap binds only arenas made after it: a thread that allocated before keeps its own.
gRPC starts threads of its own as soon as a channel or server exists, so each service calls
:func:`limit_malloc_arenas` first of all, in its package's ``__init__``
(:mod:`pasar_kit.service_process`; measured: called
after the server was built, a busy service had six arenas, not two).

``mallopt`` is looked up among the symbols the process has loaded already (glibc's, as
CPython links it), not through ``ctypes.util.find_library``, which runs ``ldconfig -p`` in a
child process to name a library the process holds already: 29 ms of every start, against
0.2 ms. (The modules find_library imports, shutil, tempfile, bz2 and lzma, a service imports
anyway, prometheus-client among others: no memory is saved.)
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Caps glibc's malloc arenas, before any thread allocates; False off glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: the C library's among them
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(M_ARENA_MAX, arenas))
    if not applied:
        log.warning("mallopt(M_ARENA_MAX) was refused; malloc keeps its default arenas")
    return applied
