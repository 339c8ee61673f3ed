"""The catalog read cache: what every shopper's home page asks, answered without a gRPC call.

Catalog reads (categories, products, a product, payment channels) are the same for every
shopper and change rarely, so the gateway keeps their JSON for a short time
(``PASAR_CATALOG_CACHE_TTL_SECONDS``). Which methods those are follows from the contracts
(:func:`is_cacheable`): the reads their idempotency_level declares, less those answering
with a shopper's own order or payment and those asked about a shopper's destination (a
phone or meter number: personal data, never kept, and what a biller says of it is the
shopper's own). Entries are keyed by the method and the request
message itself (so ``/api/v1/product/x`` and ``/api/v1/products/x``, or ``pageSize`` and
``page_size``, share an entry). Each entry carries a strong ETag, the hash of its bytes, which answers
``If-None-Match`` with 304.

Staleness: a change made through the gateway's admin routes bumps the catalog's
generation, which every worker process of the gateway shares, so no worker serves an
entry from before the change. A change made past the gateway (another gateway, or a
checkout changing stock) shows after at most the TTL.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf.descriptor import Descriptor, MethodDescriptor

from pasar_gateway.personal_data import PERSONAL_FIELDS
from pasar_kit.idempotency import has_no_side_effects

# A shopper's own resources: an answer that holds one is that shopper's alone and changes
# outside the admin routes (a payment gets paid), so it is never kept.
SHOPPER_RESOURCES = frozenset({"pasar.order.v1.Order", "pasar.payment.v1.Payment"})


@functools.cache
def is_cacheable(method: MethodDescriptor) -> bool:
    """Whether the gateway may keep method's answers: the contract declares it a read
    (idempotency_level NO_SIDE_EFFECTS), its answer holds no shopper's own resource and its
    request no personal data (never a cache key). Asked on every request, and a fact of the
    contracts: worked out once per method."""
    return (
        has_no_side_effects(method)
        and not _holds_shopper_resource(method.output_type, set())
        and not _holds_personal_data(method.input_type, set())
    )


def _holds_personal_data(message: Descriptor, seen: set[str]) -> bool:
    seen.add(message.full_name)
    return any(
        field.name in PERSONAL_FIELDS
        or (
            field.message_type is not None
            and field.message_type.full_name not in seen
            and _holds_personal_data(field.message_type, seen)
        )
        for field in message.fields
    )


def _holds_shopper_resource(message: Descriptor, seen: set[str]) -> bool:
    if message.full_name in SHOPPER_RESOURCES:
        return True
    seen.add(message.full_name)
    return any(
        _holds_shopper_resource(field.message_type, seen)
        for field in message.fields
        if field.message_type is not None and field.message_type.full_name not in seen
    )


class Generation(Protocol):
    """A counter of catalog changes, possibly shared between processes."""

    def current(self) -> int: ...

    def bump(self) -> int: ...


class LocalGeneration:
    """A counter for one process."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def current(self) -> int:
        return self._value

    def bump(self) -> int:
        with self._lock:
            self._value += 1
            return self._value


class SharedGeneration:
    """A counter in shared memory, made before gunicorn forks its workers so all see it.

    Every catalog read reads it; only a bump takes its lock. A read goes to the shared
    integer itself (an aligned 8-byte load, never torn), not through the synchronized
    wrapper, which would take and release the lock (a semaphore) at every read."""

    def __init__(self) -> None:
        self._value: Any = multiprocessing.get_context("fork").Value("q", 0)
        self._shared: Any = self._value.get_obj()

    def current(self) -> int:
        return int(self._shared.value)

    def bump(self) -> int:
        with self._value.get_lock():
            self._value.value += 1
            return int(self._value.value)


def entity_tag(body: bytes) -> str:
    """A strong ETag for body."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str
    stored_at: float
    generation: int


class ResponseCache:
    """A bounded, thread-safe LRU of catalog responses with a time to live."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        generation: Generation,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.generation = generation
        self._clock = clock
        self._entries: OrderedDict[bytes, CachedResponse] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def get(self, key: bytes) -> CachedResponse | None:
        if not self.enabled:
            return None
        generation = self.generation.current()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.generation != generation or self._clock() - entry.stored_at >= self.ttl_seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: bytes, body: bytes, generation: int, *, etag: str | None = None) -> CachedResponse:
        """Stores body, read while the catalog was at generation (an older one is not kept);
        etag, when given, is body's (entity_tag), already computed."""
        entry = CachedResponse(body, etag or entity_tag(body), self._clock(), generation)
        if not self.enabled or generation != self.generation.current():
            return entry
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def invalidate(self) -> None:
        """The catalog changed: forget every entry, here and in the other worker processes."""
        self.generation.bump()
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
