"""Catalog answers kept between calls, served while the catalog's version is unchanged.

A catalog read costs milliseconds of queries and message building; the same answer,
cached, costs one primary-key read of the version (pasar_product.catalog_version). An
answer is keyed by its method and the request's bytes, and labelled with the version read
*before* the data it was built from, so it is never older than its label; it is served
only to a call that read that same version. When a call reads another version, every
answer kept is dropped (each was built at the old one). No timer anywhere: answers go when
the catalog changes, or the least recently used when the cache is full.

Answers are kept as messages and served as they are: every caller (and interceptor) must
treat an answer as read-only. The bound is in bytes, estimated from each answer's
serialized size (:func:`answer_memory`; measured, a 20-product page: 110 KB kept, 110 KB
estimated). A database without a version yet gets every answer built afresh.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import peewee
from google.protobuf import message

from pasar_product import catalog_version

log = logging.getLogger(__name__)

# A few MB of the 80 MB a process may use: the first pages of the catalog and a few hundred
# products (a 20-product page of the synthetic catalog holds about 110 KB, a product 11 KB).
DEFAULT_MAX_BYTES = 4 * 1024 * 1024

Answer = TypeVar("Answer", bound=message.Message)


def answer_memory(serialized_size: int) -> int:
    """The memory an answer kept as a message takes, estimated from its serialized size:
    measured with upb, a parsed or built answer takes 2.5 times its bytes, and about 5 KB
    more for a small one (a 2.4 KB product takes 11 KB)."""
    return serialized_size * 5 // 2 + 5_000


class CatalogAnswers:
    """The cache: thread-safe, bounded in bytes, invalidated by the catalog's version."""

    def __init__(self, database: peewee.Database, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: int | None = None
        self._entries: OrderedDict[tuple[str, bytes], tuple[message.Message, int]] = OrderedDict()
        self.bytes_used = 0
        self.hits = self.misses = 0
        self._told_unversioned = False

    def answer(self, method: str, request: message.Message, build: Callable[[], Answer]) -> Answer:
        """The answer to request: kept, when it was built at the version read now; otherwise
        build()'s, kept for the next call (build raising keeps nothing)."""
        key = (method, request.SerializeToString(deterministic=True))
        version = catalog_version.current(self.database)
        if version is None:
            return self._unversioned(build)
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self.bytes_used = 0
                self._version = version
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]  # type: ignore[return-value]  # build() made it: an Answer
            self.misses += 1
        built = build()
        self._keep(key, version, built)
        return built

    def _unversioned(self, build: Callable[[], Answer]) -> Answer:
        """build()'s answer, kept nowhere: the database has no version to label it with
        (and what was kept before may no longer be what the catalog shows)."""
        with self._lock:
            self._entries.clear()
            self.bytes_used = 0
            self._version = None
            told, self._told_unversioned = self._told_unversioned, True
            self.misses += 1
        if not told:
            log.warning(
                "the catalog has no version yet (migration 007 not applied): every answer is built afresh"
            )
        return build()

    def _keep(self, key: tuple[str, bytes], version: int, answer: message.Message) -> None:
        size = answer_memory(answer.ByteSize()) + len(key[1])
        if size > self.max_bytes:
            return
        with self._lock:
            if version != self._version or key in self._entries:
                return  # the catalog moved on while it was built, or another call kept it
            self._entries[key] = (answer, size)
            self.bytes_used += size
            while self.bytes_used > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes_used -= dropped

    def __len__(self) -> int:
        return len(self._entries)
