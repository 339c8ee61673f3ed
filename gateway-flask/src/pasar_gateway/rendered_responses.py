"""Catalog answers already rendered as JSON, by the exact bytes the service answered.

A catalog page is the same for every shopper, and until the catalog changes the product
service answers it with the same bytes. Parsing those bytes, writing the message as proto3
JSON, encoding it and hashing it for the ETag is most of the gateway's CPU on such a page,
and the same bytes always render the same JSON; so the rendering is kept, keyed by the
bytes. Unlike the catalog cache (:mod:`pasar_gateway.catalog_cache`), this never answers
without asking the service: it only skips rendering an answer already rendered, so what a
client sees is exactly as fresh as without it, whatever the TTL or the cache setting.

Only catalog reads are kept (never a shopper's own order or payment, never personal data:
:func:`pasar_gateway.catalog_cache.is_cacheable`). The memo is bounded in bytes, least
recently used first out, one per worker process. A lookup does not hash the whole answer:
entries are found by its length and a sample of its bytes, then every hit is confirmed by
comparing the whole bytes (a memcmp, some microseconds on a 80 KB page).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from pasar_gateway.catalog_cache import entity_tag

# Enough for the catalog's first pages and about a thousand products' own pages per worker.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# One byte in SAMPLE_STRIDE goes into the lookup key (about 850 bytes of a 80 KB page).
SAMPLE_STRIDE = 97
ENTRY_OVERHEAD_BYTES = 300  # the entry, its key and the dictionary slot, roughly


@dataclass(frozen=True)
class Rendered:
    """A service's answer (its serialized bytes) and the JSON the gateway renders of it."""

    answer: bytes
    body: bytes
    etag: str

    @property
    def size(self) -> int:
        return len(self.answer) + len(self.body) + len(self.answer) // SAMPLE_STRIDE + ENTRY_OVERHEAD_BYTES


Key = tuple[str, int, bytes]


class RenderedResponses:
    """A bounded, thread-safe memo: (route, a service's answer bytes) → the rendered JSON."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Key, Rendered] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(route: str, answer: bytes) -> Key:
        return route, len(answer), answer[::SAMPLE_STRIDE]

    def get(self, route: str, answer: bytes) -> Rendered | None:
        """The rendering of exactly these answer bytes on route, if kept."""
        key = self._key(route, answer)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.answer != answer:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, route: str, answer: bytes, body: bytes) -> Rendered:
        """Keeps body as the rendering of answer on route (replacing an entry found by the
        same sample), forgetting the least recently used entries beyond the bound."""
        entry = Rendered(answer, body, entity_tag(body))
        if entry.size > self.max_bytes:
            return entry
        key = self._key(route, answer)
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self.bytes -= replaced.size
            self._entries[key] = entry
            self.bytes += entry.size
            while self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size
        return entry

    def __len__(self) -> int:
        return len(self._entries)
