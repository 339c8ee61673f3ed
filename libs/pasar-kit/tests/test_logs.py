"""The JSON log line's fields, its time in particular (formatted once per second)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from pasar_kit.logs import JsonFormatter


@pytest.mark.parametrize(
    "created",
    [
        1576859159.544,  # 0.544 is 0.54399999... as a float: still .544
        1.9999995,  # rounds to the next second, as datetime rounds it
        1.9999996,
        1313941321.7569995,
        1764940000.0,
        1764940000.0009999,
    ],
)
def test_the_time_is_utc_to_the_millisecond_as_isoformat_writes_it(created: float) -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("pasar.rpc", logging.INFO, __file__, 1, "rpc", (), None)
    record.created = created
    line = json.loads(formatter.format(record))
    assert line["time"] == datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def test_a_line_has_the_same_fields_in_the_same_order() -> None:
    record = logging.LogRecord("pasar.rpc", logging.INFO, __file__, 1, "rpc %s", ("ok",), None)
    record.created = 1764940000.25
    record.request_id, record.service = "r-1", "svc-x"
    record.method, record.code, record.duration_ms = "/pasar.x/Y", "OK", 1.5
    record.note = "naïve"  # no ASCII escapes
    line = JsonFormatter().format(record)
    assert line == (
        '{"time": "2025-12-05T13:06:40.250+00:00", "level": "info", "service": "svc-x", '
        '"logger": "pasar.rpc", "message": "rpc ok", "request_id": "r-1", "method": "/pasar.x/Y", '
        '"code": "OK", "duration_ms": 1.5, "note": "naïve"}'
    )
