"""Catalog reads the cache holds, answered before Flask sees the request.

A cache hit needs none of what Flask does per request (a request context, routing, the
request message, the hooks): its answer is bytes already rendered, with a fixed set of
headers. Flask's own path learns, for each catalog read it serves, which cache key the
request's path and query string lead to (:meth:`CacheHits.learn`); a later request with
the very same path and query string is looked up by them, and when the cache still holds
that key's entry (same TTL and generation rules: :class:`~pasar_gateway.catalog_cache.
ResponseCache`), answered here, with the headers, metrics and access log line Flask's path
gives a hit (one list of headers, built once from the same functions), in about a fifth of
the time. Anything else goes to Flask unchanged: a miss, a method but GET, a conditional
request (``If-None-Match``: the 304 check is Flask's), a cross-origin one (``Origin``: CORS
is flask-cors's), and every request while tracing is on (each request is a span there).

Only routes whose request message follows from the path and query alone are learned: a GET
without a body, with no field set from a header and no rate limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pasar_gateway.catalog_cache import ResponseCache
from pasar_gateway.metrics import GatewayMetrics

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# What a cached answer carries before the security headers, in the order Flask writes them.
CACHED_ANSWER_HEADERS = frozenset({"content-type", "content-length", "etag", "cache-control", "x-request-id"})
# Requests Flask must see even when their answer is cached.
CONDITIONAL_OR_CROSS_ORIGIN = ("HTTP_IF_NONE_MATCH", "HTTP_ORIGIN")


@dataclass(frozen=True)
class KnownRead:
    """What a path and query string lead to: the cache key, the route and the request's path."""

    key: bytes
    route: str  # the binding's template, as metrics and the log name the route
    path: str  # the request's path as Flask gave it, for the log line


class CacheHits:
    """WSGI middleware in front of Flask answering catalog reads the cache holds."""

    def __init__(
        self,
        app: WsgiApp,
        cache: ResponseCache,
        metrics: GatewayMetrics,
        *,
        fixed_headers: list[tuple[str, str]],
        request_id_of: Callable[[str], str],
        record: Callable[[KnownRead, str, float], None],
        max_known: int,
    ) -> None:
        self.app = app
        self.cache = cache
        self.metrics = metrics
        # Metrics and the access log line of a hit: (what was read, its request id, seconds).
        self.fixed_headers = fixed_headers
        self.request_id_of = request_id_of
        self.record = record
        self.max_known = max(1, max_known)
        self._known: dict[tuple[str, str], KnownRead] = {}
        self._lock = threading.Lock()

    def learn(self, environ: dict[str, Any], read: KnownRead) -> None:
        """Flask's path served a catalog read: its path and query string lead to read.key.
        Bounded: the oldest learnt is forgotten first (it is only learnt again)."""
        where = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        if self._known.get(where) == read:
            return
        with self._lock:
            while len(self._known) >= self.max_known:
                del self._known[next(iter(self._known))]
            self._known[where] = read

    def __len__(self) -> int:
        return len(self._known)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and not any(
            name in environ for name in CONDITIONAL_OR_CROSS_ORIGIN
        ):
            read = self._known.get((environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")))
            if read is not None:
                started = time.perf_counter()
                entry = self.cache.get(read.key)
                if entry is not None:
                    request_id = self.request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
                    start_response(
                        "200 OK",
                        [
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(entry.body))),
                            ("ETag", entry.etag),
                            ("Cache-Control", "no-cache"),
                            ("X-Request-Id", request_id),
                            *self.fixed_headers,
                        ],
                    )
                    self.metrics.catalog_read("hit")
                    self.record(read, request_id, time.perf_counter() - started)
                    return [entry.body]
        return self.app(environ, start_response)
