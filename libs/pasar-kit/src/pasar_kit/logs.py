"""One logging set-up for every process: JSON lines on stdout, each with the request id.

The request id arrives in the ``x-request-id`` gRPC metadata (the gateway sets it from
the HTTP request, or makes one), is kept in a context variable for the duration of the
call, and is sent on to every service the call reaches (see :mod:`pasar_kit.channels`),
so one id follows a purchase through all logs. Inside a recording span (tracing on,
:mod:`pasar_kit.telemetry`) a line also carries the span's ``trace_id`` and ``span_id``, the
ids to look the call up by in the trace viewer.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pasar_kit.telemetry import log_ids

REQUEST_ID_METADATA = "x-request-id"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# Attributes every LogRecord has; anything else was passed in `extra` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "service",
    "trace_id",
    "span_id",
}


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Makes request_id the current request's id inside the block."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):  # a line may name its own (a refund's key)
            record.request_id = request_id_var.get()
        record.service = self.service
        ids = log_ids()  # None at once when tracing is off
        if ids is not None:
            record.trace_id, record.span_id = ids
        return True


# One encoder for every line: json.dumps with options builds a new one at each call.
_JSON_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_time(record.created),
            "level": record.levelname.lower(),
            "service": getattr(record, "service", ""),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := getattr(record, "request_id", ""):
            entry["request_id"] = request_id
        if trace_id := getattr(record, "trace_id", ""):
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "span_id", "")
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _JSON_ENCODER.encode(entry)


class _SecondCache(threading.local):
    """The last whole second a thread formatted, and its text up to the seconds."""

    second = -1
    text = ""


_seconds = _SecondCache()


def _utc_time(created: float) -> str:
    """created in UTC to the millisecond, as datetime.isoformat(timespec="milliseconds")
    writes it; each second's date and time is formatted once per thread (a service logs a
    line per call)."""
    second = int(created)
    microsecond = round((created - second) * 1_000_000)  # datetime's rounding, half to even
    if microsecond == 1_000_000:
        second, microsecond = second + 1, 0
    if second != _seconds.second:
        _seconds.second = second
        _seconds.text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_seconds.text}.{microsecond // 1000:03d}+00:00"


class TextFormatter(logging.Formatter):
    """A readable line for development: level, request id, the trace id's first 8 digits
    (inside a span), message and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES)
        request_id = getattr(record, "request_id", "")
        trace_id = getattr(record, "trace_id", "")
        trace = f"t:{trace_id[:8]} " if trace_id else ""
        line = f"{record.levelname.lower():<7} {request_id[:8] or '-':<8} {trace}{record.getMessage()}"
        if extras:
            line += f"  {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(service: str, level: str = "info", log_format: str = "json") -> None:
    """Sends every log record of the process to stdout, as JSON lines or readable text."""
    # No record looks its caller's file and line up (findCaller walks the stack at every
    # line): no formatter here prints them. The logging HOWTO's "Optimization" names this.
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
