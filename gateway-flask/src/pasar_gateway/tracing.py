"""The gateway's part of a trace: the HTTP server span each request makes, when tracing is on.

Tracing is on or off for the whole process (:mod:`pasar_kit.telemetry`; ``pasar-gateway``
turns it on in each worker after the fork). On, OpenTelemetry's Flask instrumentation makes
one SERVER span per request, the child of the caller's W3C ``traceparent`` (the storefront
sends one per shopper's action), and the gRPC calls the request makes are its children
(the backends' channels come instrumented from :func:`pasar_kit.channels.open_channel`).
Off, nothing here imports OpenTelemetry.
"""

from __future__ import annotations

import os

import flask

from pasar_kit.config import Env
from pasar_kit.telemetry import REQUEST_ID_ATTRIBUTE, annotate, configure_tracing, tracing_enabled

SERVICE_NAME = "gateway"  # OTEL_SERVICE_NAME's default

# Only the API is traced: the storefront's pages and files (a page load fetches a dozen) and
# the orchestrator's probes (/healthz, /readyz, every few seconds) would each start a trace
# no one needs. A regular expression searched in the request's URL, as the instrumentation's
# excluded_urls are; an operator's OTEL_PYTHON_FLASK_EXCLUDED_URLS (or
# OTEL_PYTHON_EXCLUDED_URLS) excludes more.
UNTRACED_URLS = r"^[a-z]+://[^/]+/(?!api/)"
EXCLUDED_URLS_VARIABLES = ("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS")
# The instrumentation's sqlcommenter (on by default) attaches a context naming the route to
# every request, for SQL run beneath it to quote: the gateway runs no SQL, so it is off
# (about 17 µs of a traced request's CPU, measured, of the instrumentation's ~210).
SQL_COMMENTER = False


def start_tracing(env: Env) -> bool:
    """Turns tracing on in this worker when env says so (pasar_kit.telemetry's rule); whether
    it is on. The gateway has no database: no database driver is instrumented."""
    return configure_tracing(SERVICE_NAME, env, database=False)


def instrument_app(app: flask.Flask) -> None:
    """Makes app's requests SERVER spans when tracing is on; nothing when off.

    Call it first thing after making app: the instrumentation starts its span in a
    before_request hook, which must run before the hook that names the request id.
    """
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor  # noqa: PLC0415 - only when on

    operators = next((value for name in EXCLUDED_URLS_VARIABLES if (value := os.environ.get(name))), "")
    excluded = ",".join(pattern for pattern in (UNTRACED_URLS, operators) if pattern)
    FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]
        app, excluded_urls=excluded, enable_commenter=SQL_COMMENTER
    )


def name_request(request_id: str) -> None:
    """Puts the request's x-request-id on its span (``pasar.request_id``); nothing when off."""
    annotate({REQUEST_ID_ATTRIBUTE: request_id})
