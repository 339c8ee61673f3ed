"""The application factory: ``create_app(config=None, *, generation=None)``.

Configuration comes from the defaults, then ``PASAR_*`` environment variables, then the
caller's overrides (a test's). Everything long-lived (one channel, breaker and deadline
per backend; the catalog cache; the metrics) is made here, once per application, and
shared by every request. The catalog's generation counter is the one input that is not
configuration: the gunicorn launcher passes one shared by all its workers
(:class:`~pasar_gateway.catalog_cache.SharedGeneration`); alone, an application counts
for itself.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any

import flask
import grpc
from flask_cors import CORS
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from pasar_gateway.api import ApiContext, register_api
from pasar_gateway.backends import Backend, open_backends
from pasar_gateway.bindings import HttpBinding, contract_bindings
from pasar_gateway.catalog_cache import Generation, LocalGeneration, ResponseCache
from pasar_gateway.docs import register_docs
from pasar_gateway.errors import CODE_BY_HTTP_STATUS, ApiError
from pasar_gateway.health import register_health
from pasar_gateway.known_reads import CATALOG_ANSWER_HEADERS, KnownRead, KnownReads
from pasar_gateway.metrics import GatewayMetrics
from pasar_gateway.rate_limits import ClientCounts
from pasar_gateway.settings import PREFIX, GatewaySettings
from pasar_gateway.storefront import register_storefront
from pasar_gateway.tracing import instrument_app, name_request
from pasar_kit.logs import request_id_var
from pasar_kit.telemetry import tracing_enabled

log = logging.getLogger("pasar.gateway")

EXTENSION = "pasar_gateway"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"  # the header, as WSGI names it
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
CORS_ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "X-Order-Token",
    REQUEST_ID_HEADER,
    # W3C Trace Context: the storefront starts each action's trace (pasar_gateway.tracing).
    "traceparent",
    "tracestate",
]
CORS_EXPOSED_HEADERS = [REQUEST_ID_HEADER, "ETag", "Retry-After"]
# Sent with every answer that does not set its own (a view may): (lower-case name, name, value).
SECURITY_HEADERS = tuple(
    (name.lower(), name, value)
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    )
)


@dataclass
class Gateway:
    """What create_app attaches to the application as ``app.extensions["pasar_gateway"]``."""

    settings: GatewaySettings
    bindings: tuple[HttpBinding, ...]
    backends: Mapping[str, Backend]
    cache: ResponseCache
    metrics: GatewayMetrics
    limiter: ClientCounts | None

    def close(self) -> None:
        """Closes every backend's channel (at once: each waits for gRPC's state watcher)."""
        closing = [threading.Thread(target=backend.close) for backend in self.backends.values()]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()


class GatewayFlask(flask.Flask):
    """Flask, asking once per function (not at every call) whether a view or hook is a
    coroutine function: Flask's ensure_sync asks inspect at each of the five or six calls a
    request makes, about 2 µs each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if func in self._plain_functions:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            self._plain_functions.add(func)
        return wrapped


def gateway_of(app: flask.Flask) -> Gateway:
    gateway: Gateway = app.extensions[EXTENSION]
    return gateway


def load_config(app: flask.Flask, overrides: Mapping[str, Any] | None) -> GatewaySettings:
    """Defaults, then the environment, then overrides; checked once."""
    app.config.from_prefixed_env(PREFIX, loads=str)  # values stay text; settings parse them
    if overrides:
        app.config.update(overrides)
    backends = sorted({binding.backend for binding in contract_bindings()})
    return GatewaySettings.from_config(app.config, backends)


def create_app(
    config: Mapping[str, Any] | None = None, *, generation: Generation | None = None
) -> flask.Flask:
    """The gateway's Flask application; ConfigError (naming the variable) when config is wrong.

    generation counts catalog changes for the catalog cache: pass one shared with the other
    processes that serve the same shop, or leave it out for a counter of this application's own.
    """
    app = GatewayFlask(__name__, static_folder=None)
    instrument_app(app)  # first: its span must be current in every hook below
    settings = load_config(app, config)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_count,
            x_proto=settings.proxy_count,
            x_host=settings.proxy_count,
        )

    bindings = contract_bindings()
    metrics = GatewayMetrics()
    backends = open_backends(
        settings, bindings, on_breaker_change=metrics.breaker_changed, on_failure=metrics.backend_failed
    )
    cache = ResponseCache(
        settings.catalog_cache_ttl_seconds if settings.catalog_cache else 0.0,
        settings.catalog_cache_entries,
        generation if generation is not None else LocalGeneration(),
    )
    # The contracts' buckets, counted by each limited view alone (rate_limits.py); None when
    # every bucket is off.
    limiter = ClientCounts() if any(settings.rate_limits.values()) else None
    gateway = Gateway(settings, bindings, backends, cache, metrics, limiter)
    app.extensions[EXTENSION] = gateway

    known = _answer_known_reads_before_flask(app, settings, metrics)
    register_api(app, bindings, ApiContext(settings, backends, cache, metrics, known=known), limiter)
    register_health(app, backends, settings.readiness_timeout_seconds)
    register_docs(app, bindings)
    register_storefront(app, settings.static_dir)
    _register_request_hooks(app, settings, metrics)
    _register_error_handlers(app)
    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {}},
            origins=list(settings.cors_origins),
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            methods=["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            max_age=600,
            supports_credentials=False,
            vary_header=True,
            always_send=False,
        )
    return app


def request_id_of(offered: str) -> str:
    """The request's id: the one it offers (X-Request-Id) when sane, else a new one."""
    return offered if offered and _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def policy_headers(settings: GatewaySettings, present: Set[str], *, html: bool) -> list[tuple[str, str]]:
    """The security headers an answer lacks (present: the lower-case names it has)."""
    added = [(name, value) for lower, name, value in SECURITY_HEADERS if lower not in present]
    if "content-security-policy" not in present:
        policy = settings.content_security_policy if html else API_CONTENT_SECURITY_POLICY
        added.append(("Content-Security-Policy", policy))
    return added


def record_request(
    metrics: GatewayMetrics, method: str, path: str, route: str, *, status: int, seconds: float
) -> None:
    """The request's metrics and its access log line (the request id comes from the context)."""
    metrics.observe_request(route, method, status, seconds)
    log.info(
        "http",
        extra={
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


def _answer_known_reads_before_flask(
    app: flask.Flask, settings: GatewaySettings, metrics: GatewayMetrics
) -> KnownReads | None:
    """Puts KnownReads in front of app's Flask unless tracing is on (each request is a span
    there, which Flask's instrumentation makes); None when it is."""
    if tracing_enabled():
        return None
    fixed = policy_headers(settings, CATALOG_ANSWER_HEADERS, html=False)
    if settings.cors_origins:
        fixed.append(("Vary", "Origin"))  # as finish_answer adds it to every API answer

    def failure_answer(error: Exception, request_id: str, path: str) -> flask.Response:
        """What Flask's error handlers and finish_request make of a read's exception."""
        response = error.response() if isinstance(error, ApiError) else internal_error(error)
        finish_answer(response, settings, request_id, path)
        return response

    def record(read: KnownRead, status: int, seconds: float) -> None:
        record_request(metrics, "GET", read.path, read.route, status=status, seconds=seconds)

    known = KnownReads(
        app.wsgi_app,
        metrics,
        fixed_headers=fixed,
        request_id_of=request_id_of,
        failure_answer=failure_answer,
        record=record,
        max_known=settings.catalog_cache_entries,
    )
    app.wsgi_app = known  # type: ignore[method-assign]
    return known


def finish_answer(response: flask.Response, settings: GatewaySettings, request_id: str, path: str) -> None:
    """The headers every answer gets: its request id, the security headers it lacks, and
    Vary: Origin on the API when CORS is on."""
    headers = response.headers
    # One pass over the few headers the answer has, not a search per header (Headers.
    # setdefault's miss raises and catches a KeyError): about 25 -> 4 µs a request.
    present = {name.lower() for name, _ in headers}
    if "x-request-id" in present:
        headers[REQUEST_ID_HEADER] = request_id
    else:
        headers.add(REQUEST_ID_HEADER, request_id)
    html = "content-security-policy" not in present and response.mimetype == "text/html"
    for name, value in policy_headers(settings, present, html=html):
        headers.add(name, value)
    if settings.cors_origins and path.startswith("/api/"):
        # Whether CORS headers are sent depends on the Origin (flask-cors adds this only
        # when several origins are allowed): shared caches must keep one copy per origin.
        response.vary.add("Origin")


def internal_error(error: Exception) -> flask.Response:
    """An unexpected exception: logged with its traceback, answered 500 "internal error"."""
    log.exception("unhandled error", exc_info=error)
    return ApiError(grpc.StatusCode.INTERNAL, "internal error", http_status=500).response()


def _register_request_hooks(app: flask.Flask, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
    @app.before_request
    def start_request() -> None:
        request_id = request_id_of(flask.request.environ.get(REQUEST_ID_ENVIRON, ""))
        g = flask.g._get_current_object()  # one proxy lookup, not one a name
        g.request_id = request_id
        g.request_id_token = request_id_var.set(request_id)
        name_request(request_id)
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response: flask.Response) -> flask.Response:
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
        g = flask.g._get_current_object()
        path = request.path
        finish_answer(response, settings, g.get("request_id", ""), path)
        route = g.get("route") or (request.url_rule.rule if request.url_rule else "unmatched")
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        record_request(metrics, request.method, path, route, status=response.status_code, seconds=seconds)
        return response

    @app.teardown_request
    def end_request(_error: BaseException | None) -> None:
        token = flask.g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def _register_error_handlers(app: flask.Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> flask.Response:
        return error.response()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> flask.Response:
        status = error.code or 500
        code = CODE_BY_HTTP_STATUS.get(status, grpc.StatusCode.UNKNOWN)
        headers: dict[str, str] = {}
        message = error.description or error.name
        if isinstance(error, MethodNotAllowed):
            if _only_the_storefront_matches(error):
                return ApiError(grpc.StatusCode.NOT_FOUND, f"no route for {flask.request.path}").response()
            allowed = sorted(error.valid_methods or [])
            headers["Allow"] = ", ".join(allowed)
            message = (
                f"{flask.request.method} is not allowed on {flask.request.path}; allowed: {headers['Allow']}"
            )
        elif isinstance(error, RequestEntityTooLarge):
            limit = flask.current_app.config["MAX_CONTENT_LENGTH"]
            message = f"the request body is larger than the {limit} bytes the gateway accepts"
        elif status == 404:
            message = f"no route for {flask.request.path}"
        elif status == 429:
            message = f"too many requests: {error.description}"
        for name in ("Retry-After",):
            if error.response is not None and name in error.response.headers:
                headers[name] = error.response.headers[name]
        return ApiError(code, message, http_status=status, headers=headers).response()

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> flask.Response:
        return internal_error(error)


def _only_the_storefront_matches(error: MethodNotAllowed) -> bool:
    """A non-GET request for an unknown API path matches only the storefront's GET fallback: 404."""
    return (
        flask.request.path.startswith("/api/")
        and set(error.valid_methods or []) <= {"GET", "HEAD", "OPTIONS"}
        and _matches_storefront()
    )


def _matches_storefront() -> bool:
    adapter = flask.current_app.url_map.bind("")
    try:
        endpoint, _ = adapter.match(flask.request.path, method="GET")
    except HTTPException:
        return False
    return str(endpoint).startswith("storefront.")
