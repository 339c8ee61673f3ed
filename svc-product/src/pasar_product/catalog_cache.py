"""Catalog answers kept between calls, served while the catalog's version is unchanged.

A catalog read costs milliseconds of queries and message building; the same answer,
cached, costs one primary-key read of the version (pasar_product.catalog_version). An
answer is keyed by its method and the request's bytes, and labelled with the version read
*before* the data it was built from, so it is never older than its label; it is served
only to a call that read that same version. When a call reads another version, every
answer kept is dropped (each was built at the old one). No timer anywhere: answers go when
the catalog changes, or the least recently used when the cache is full.

A small answer (up to SERIALIZED_UP_TO bytes: a product, a few packages) is kept
serialized and parsed afresh for each call that reads it: as a message it would take about
four times its bytes (a 2.1 KB product: 8.6 KB kept as a message, 2.25 KB as bytes), and
parsing it costs about 8 µs, against 0.3 ms to build it. So a catalog's hot products fit:
the bench's 1,000 products in 2.4 MB, where as messages 400 of them filled the bound and
its ids read in turn never hit. A larger answer (a page) is kept as a message and served as
it is (parsing a 42 KB page would cost 115 µs a call): every caller (and interceptor) must
treat an answer as read-only. The bound is in bytes, estimated from each answer's
serialized size (:func:`answer_memory`, :func:`serialized_memory`). A database without a
version yet gets every answer built afresh.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar, cast

import peewee
from google.protobuf import message

from pasar_product import catalog_version

log = logging.getLogger(__name__)

# A few MB of the 80 MB a process may use: the first pages of the catalog and one or two
# thousand products (a 20-product page of the synthetic catalog holds about 110 KB, a
# product about 2.4 KB).
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
# Answers up to this size are kept serialized (a hit parses them, about 4 µs a KB).
SERIALIZED_UP_TO = 8 * 1024
# What keeping an entry costs beyond its answer's bytes: the key, tuples, the dictionary's slot,
# the allocator's rounding (measured: 1,000 products of 2.1 KB took 2.5 KB each).
ENTRY_OVERHEAD = 400

Answer = TypeVar("Answer", bound=message.Message)
# An answer kept: (the message, its memory, None) or (its bytes, their memory, its class).
Entry = tuple[message.Message | bytes, int, type[message.Message] | None]


def answer_memory(serialized_size: int) -> int:
    """The memory an answer kept as a message takes, estimated from its serialized size:
    measured with upb, a parsed or built answer takes 2.5 times its bytes, and about 5 KB
    more for a small one (a 2.4 KB product takes 11 KB)."""
    return serialized_size * 5 // 2 + 5_000


def serialized_memory(serialized_size: int) -> int:
    """The memory an answer kept serialized takes (its bytes, and the entry around them)."""
    return serialized_size + ENTRY_OVERHEAD


class CatalogAnswers:
    """The cache: thread-safe, bounded in bytes, invalidated by the catalog's version."""

    def __init__(self, database: peewee.Database, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: int | None = None
        # key -> (the answer or its bytes, the memory it takes, the class to parse bytes with)
        self._entries: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()
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
            else:
                self.misses += 1
        if found is not None:
            kept, _, kind = found
            if kind is None:
                return kept  # type: ignore[return-value]  # build() made it: an Answer
            return kind.FromString(cast(bytes, kept))  # type: ignore[return-value]  # of build()'s class
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
        serialized = answer.SerializeToString()  # cheaper than ByteSize() with upb
        entry: Entry
        if len(serialized) <= SERIALIZED_UP_TO:
            entry = (serialized, serialized_memory(len(serialized)) + len(key[1]), type(answer))
        else:
            entry = (answer, answer_memory(len(serialized)) + len(key[1]), None)
        size = entry[1]
        if size > self.max_bytes:
            return
        with self._lock:
            if version != self._version or key in self._entries:
                return  # the catalog moved on while it was built, or another call kept it
            self._entries[key] = entry
            self.bytes_used += size
            while self.bytes_used > self.max_bytes:
                _, (_, dropped, _) = self._entries.popitem(last=False)
                self.bytes_used -= dropped

    def __len__(self) -> int:
        return len(self._entries)
