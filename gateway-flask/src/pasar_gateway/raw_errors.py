"""Error answers written straight to a client's socket, in the one error shape.

For what gunicorn refuses before the application sees a request (a too long URI, bad
headers) and what the buffering worker refuses itself (a request that took too long to
arrive, a body over the limit): clients see the same errors whichever layer found them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
from gunicorn import util as gunicorn_util  # type: ignore[import-untyped]

from pasar_gateway.errors import CODE_BY_HTTP_STATUS


def json_error_response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response that closes the connection."""
    code = CODE_BY_HTTP_STATUS.get(
        status, grpc.StatusCode.INVALID_ARGUMENT if status < 500 else grpc.StatusCode.INTERNAL
    )
    text = f"{reason}: {message}" if message else reason
    body = json.dumps({"error": {"code": code.name, "message": text, "details": []}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {uuid.uuid4().hex}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, in the one error shape instead of its HTML page."""
    gunicorn_util.write_nonblock(sock, json_error_response(status, reason, message))
