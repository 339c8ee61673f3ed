"""Catalog answers kept between calls, served while nothing they show has changed.

A catalog read costs milliseconds of queries and message building; the same answer,
cached, costs one primary-key read of the version (pasar_product.catalog_version). An
answer is keyed by its method and the request's bytes, labelled with the version read
*before* the data it was built from (so it is never older than its label), and with the
packages whose stock it shows. When a call reads a newer version, the cache reads once what
the versions since changed: an answer stays current while no version after its label
changed the stock of a package it shows, and while no version changed anything else (an
admin write, a load, or a version the log cannot account for: then every answer kept is
dropped). So a purchase drops the answers that show the package bought, not the whole
catalog. No timer anywhere: answers go when what they show changes, or the least recently
used when the cache is full.

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

Once the cache is full, a small answer is kept compressed (zlib's fastest level): a product
takes about a quarter of its bytes then (2.1 KB: 0.55 KB; the demo catalog's, written by
hand, 2.8 KB: 0.76 KB), so about 4,000 products fit in place of 1,600. A hit on it costs
about 8 µs more (the decompression), against a millisecond to build it again: a catalog
whose hot products outgrow the bound keeps serving them from the cache (the bench's 2,000
products read at random from 100,000: svc-product's CPU per read 0.64 -> 0.46 ms), while
one whose hot products fit pays nothing.
"""

from __future__ import annotations

import logging
import sys
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import NamedTuple, TypeVar, cast

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

# What remembering which packages an answer shows costs, per package (a tuple slot; the ids
# themselves are the interned ones the change records share).
PACKAGE_OVERHEAD = 16
# The most packages whose last change the cache remembers; beyond, it starts afresh.
MAX_CHANGED_PACKAGES = 100_000

Answer = TypeVar("Answer", bound=message.Message)


# zlib's fastest level: on a product, within 3% of the default level's size, and no slower.
COMPRESSION_LEVEL = 1


class Entry(NamedTuple):
    """An answer kept: the message (kind None) or its bytes (kind: the class to parse them
    with), the memory it takes, the version it was built at, the packages it shows, and
    whether its bytes are compressed."""

    kept: message.Message | bytes
    size: int
    kind: type[message.Message] | None
    built_at: int
    stock_of: tuple[str, ...]
    compressed: bool = False

    def answer(self) -> message.Message:
        """The answer kept: the message itself, or a fresh one parsed from the bytes."""
        if self.kind is None:
            return cast(message.Message, self.kept)
        kept = cast(bytes, self.kept)
        return self.kind.FromString(zlib.decompress(kept) if self.compressed else kept)


def answer_memory(serialized_size: int) -> int:
    """The memory an answer kept as a message takes, estimated from its serialized size:
    measured with upb, a parsed or built answer takes 2.5 times its bytes, and about 5 KB
    more for a small one (a 2.4 KB product takes 11 KB)."""
    return serialized_size * 5 // 2 + 5_000


def serialized_memory(serialized_size: int) -> int:
    """The memory an answer kept serialized takes (its bytes, and the entry around them)."""
    return serialized_size + ENTRY_OVERHEAD


class CatalogAnswers:
    """The cache: thread-safe, bounded in bytes, invalidated by what each version changed."""

    def __init__(self, database: peewee.Database, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.database = database
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the entries and what the cache knows of the versions
        self._advancing = threading.Lock()  # one call at a time reads what a version changed
        self._entries: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()
        self.bytes_used = 0
        self.hits = self.misses = 0
        self._told_unversioned = False
        # What the cache knows, up to _version: answers built before _valid_from are stale;
        # _stock_changed[package] is the last version that changed the package's stock.
        self._version: int | None = None
        self._valid_from = 0
        self._stock_changed: dict[str, int] = {}

    def answer(
        self,
        method: str,
        request: message.Message,
        build: Callable[[], Answer],
        stock_of: Callable[[Answer], Iterable[str]],
    ) -> Answer:
        """The answer to request: kept, when nothing it shows changed since it was built;
        otherwise build()'s, kept for the next call (build raising keeps nothing).
        stock_of: the packages whose stock an answer shows (everything else it shows
        changes only with the catalog itself)."""
        key = (method, request.SerializeToString(deterministic=True))
        version = catalog_version.current(self.database)
        if version is not None and self._version is not None and version < self._version:
            # A version behind the cache's: a write landed since this call read it (read
            # again), or the database went back (a restore), where nothing kept is current.
            version = catalog_version.current(self.database)
            if version is not None and version < self._version:
                self._went_back(version)
        if version is None:
            return self._unversioned(build)
        if self._version is None or version > self._version:
            self._advance(version)
        with self._lock:
            found = self._entries.get(key)
            if found is not None and self._current(found):
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                found = None
                self.misses += 1
        if found is not None:
            return found.answer()  # type: ignore[return-value]  # build() made it, or its class parsed it
        built = build()
        self._keep(key, version, built, tuple(sys.intern(package) for package in stock_of(built)))
        return built

    def _current(self, entry: Entry) -> bool:
        """Whether nothing entry shows changed after it was built, as far as the cache knows
        (a call that read an older version than the cache knows is served what is current
        at the newer one); call it holding the lock."""
        if entry.built_at < self._valid_from:
            return False
        changed = self._stock_changed
        return all(changed.get(package, 0) <= entry.built_at for package in entry.stock_of)

    def _advance(self, version: int) -> None:
        """Learns what the versions up to version changed (one read of the log, by one
        call while the others wait for it), dropping what it makes stale. A call that found
        another one had learnt as much or more meanwhile learns nothing."""
        with self._advancing:
            known = self._version
            if known is not None and version <= known:
                return
            changed = (
                None
                if known is None
                else catalog_version.stock_changed_between(self.database, known, version)
            )
            with self._lock:
                if changed is None or len(self._stock_changed) + len(changed) > MAX_CHANGED_PACKAGES:
                    self._start_afresh(version)
                else:
                    for package, at in changed.items():
                        self._stock_changed[sys.intern(package)] = at
                    self._version = version

    def _went_back(self, version: int) -> None:
        """The database shows a version behind the cache's, read twice (a restored backup):
        nothing kept is known to be what it holds."""
        with self._advancing, self._lock:
            if self._version is not None and version < self._version:
                self._start_afresh(version)

    def _start_afresh(self, version: int | None) -> None:
        """Drops every answer: none is known to be current at version (None: the database
        has none). Holding the lock."""
        self._entries.clear()
        self.bytes_used = 0
        self._stock_changed.clear()
        self._version = version
        self._valid_from = version or 0

    def _unversioned(self, build: Callable[[], Answer]) -> Answer:
        """build()'s answer, kept nowhere: the database has no version to label it with
        (and what was kept before may no longer be what the catalog shows)."""
        with self._lock:
            self._start_afresh(None)
            told, self._told_unversioned = self._told_unversioned, True
            self.misses += 1
        if not told:
            log.warning(
                "the catalog has no version yet (migration 007 not applied): every answer is built afresh"
            )
        return build()

    def _keep(
        self, key: tuple[str, bytes], version: int, answer: message.Message, stock_of: tuple[str, ...]
    ) -> None:
        serialized = answer.SerializeToString()  # cheaper than ByteSize() with upb
        size = len(serialized)
        extra = len(key[1]) + PACKAGE_OVERHEAD * len(stock_of)
        entry: Entry
        if size <= SERIALIZED_UP_TO:
            if self.bytes_used + serialized_memory(size) + extra > self.max_bytes:  # full: compressed
                serialized = zlib.compress(serialized, COMPRESSION_LEVEL)
                entry = Entry(
                    serialized,
                    serialized_memory(len(serialized)) + extra,
                    type(answer),
                    version,
                    stock_of,
                    compressed=True,
                )
            else:
                entry = Entry(serialized, serialized_memory(size) + extra, type(answer), version, stock_of)
        else:
            entry = Entry(answer, answer_memory(size) + extra, None, version, stock_of)
        if entry.size > self.max_bytes:
            return
        with self._lock:
            if not self._current(entry):
                return  # the catalog moved on while it was built
            kept = self._entries.get(key)
            if kept is not None:
                if kept.built_at >= version and self._current(kept):
                    return  # another call kept one as new
                self.bytes_used -= kept.size
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self.bytes_used += entry.size
            while self.bytes_used > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes_used -= dropped.size

    def __len__(self) -> int:
        return len(self._entries)
