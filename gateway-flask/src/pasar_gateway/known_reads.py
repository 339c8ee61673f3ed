"""Catalog reads answered before Flask sees the request, once Flask has served their URL.

A catalog read needs little of what Flask does per request (a request context, routing,
parsing the path and query into the request message, the hooks): its request message
follows from the path and query string alone, and its answer is rendered JSON with a fixed
set of headers. So when Flask's path serves a catalog read, it teaches this front the read
that the request's path and query string lead to (:meth:`KnownReads.learn`): the request
message, bound to the same function the view answers it with (the catalog cache, else the
service, through the rendered-answers memo). A later request with the very same path and
query string is answered here by that function, with the headers, metrics and access log
line Flask's path gives (one list of headers built once by the same functions; a failure's
answer finished by the same function as Flask's), in a fraction of the time. Anything else
goes to Flask unchanged: a URL not learnt, a method but GET, a conditional request
(``If-None-Match``: the 304 check is Flask's), a cross-origin one (``Origin``: CORS is
flask-cors's), and every request while tracing is on (each request is a span there).

Only routes whose request message follows from the path and query alone are learnt: a GET
without a body, with no field set from a header, no rate limit and no administrator's token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from pasar_gateway.metrics import GatewayMetrics
from pasar_kit.logs import request_id_var

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# What a catalog answer carries before the security headers, in the order Flask writes them.
CATALOG_ANSWER_HEADERS = frozenset(
    {"content-type", "content-length", "etag", "cache-control", "x-request-id"}
)
# Requests Flask must see even when their URL is known.
CONDITIONAL_OR_CROSS_ORIGIN = ("HTTP_IF_NONE_MATCH", "HTTP_ORIGIN")


@dataclass(frozen=True)
class CatalogAnswer:
    """A catalog read's answer: its JSON, ETag, and how the cache gave it ("hit" or "miss")."""

    body: bytes
    etag: str
    result: str


@dataclass(frozen=True)
class KnownRead:
    """What a path and query string lead to: the read itself, the route and the path."""

    answer: Callable[[], CatalogAnswer]  # the view's own read of the request message
    route: str  # the binding's template, as metrics and the log name the route
    path: str  # the request's path as Flask gave it, for the log line


class KnownReads:
    """WSGI middleware in front of Flask answering the catalog reads whose URL it knows."""

    def __init__(
        self,
        app: WsgiApp,
        metrics: GatewayMetrics,
        *,
        fixed_headers: list[tuple[str, str]],
        request_id_of: Callable[[str], str],
        failure_answer: Callable[[Exception, str, str], Response],
        record: Callable[[KnownRead, int, float], None],
        max_known: int,
    ) -> None:
        """fixed_headers: what a catalog answer carries after X-Request-Id; failure_answer:
        the finished answer to an exception of a read (error, request id, path); record: a
        request's metrics and access log line (what was read, status, seconds)."""
        self.app = app
        self.metrics = metrics
        self.fixed_headers = fixed_headers
        self.request_id_of = request_id_of
        self.failure_answer = failure_answer
        self.record = record
        self.max_known = max(1, max_known)
        self._known: dict[tuple[str, str], KnownRead] = {}
        self._lock = threading.Lock()

    def learn(self, environ: dict[str, Any], read: Callable[[], KnownRead]) -> None:
        """Flask's path served a catalog read: its path and query string lead to read()
        (made only when not known yet). Bounded: the oldest learnt is forgotten first."""
        where = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        if where in self._known:
            return
        with self._lock:
            while len(self._known) >= self.max_known:
                del self._known[next(iter(self._known))]
            self._known[where] = read()

    def __len__(self) -> int:
        return len(self._known)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and not any(
            name in environ for name in CONDITIONAL_OR_CROSS_ORIGIN
        ):
            read = self._known.get((environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")))
            if read is not None:
                return self._answer(read, environ, start_response)
        return self.app(environ, start_response)

    def _answer(
        self, read: KnownRead, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = self.request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)  # for the service's metadata and every log line
        try:
            try:
                answer = read.answer()
            except Exception as error:  # answered as Flask's error handlers answer it
                failure = self.failure_answer(error, request_id, read.path)
                self.record(read, failure.status_code, time.perf_counter() - started)
                return failure(environ, start_response)
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(answer.body))),
                    ("ETag", answer.etag),
                    ("Cache-Control", "no-cache"),
                    ("X-Request-Id", request_id),
                    *self.fixed_headers,
                ],
            )
            self.metrics.catalog_read(answer.result)
            self.record(read, 200, time.perf_counter() - started)
            return [answer.body]
        finally:
            request_id_var.reset(token)
