"""Error answers written straight to a client's socket, in the one error shape.

For what gunicorn refuses before the application sees a request (a too long URI, bad
headers) and what the buffering worker refuses itself (a request that took too long to
arrive, a body over the limit): clients see the same errors whichever layer found them.
"""

from __future__ import annotations

import json
import ssl
import uuid

import grpc
from gunicorn.http import errors as http_errors  # type: ignore[import-untyped]

from pasar_gateway.errors import CODE_BY_HTTP_STATUS
from pasar_gateway.request_buffer import Refusal

INTERNAL = Refusal(500, "Internal Server Error", "")
# The errors of gunicorn's request parser (gunicorn.http.errors) that are not a plain 400.
_SERVER_FAULTS = (
    http_errors.InvalidResponseHeader,  # a header the application sent: its fault, not the client's
    http_errors.InvalidResponseHeaderName,
    http_errors.ConfigurationProblem,
)
_STATUS_BY_ERROR: tuple[tuple[type[BaseException], int, str], ...] = (
    (http_errors.LimitRequestLine, 414, "URI Too Long"),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (http_errors.ExpectationFailed, 417, "Expectation Failed"),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (ssl.SSLError, 403, "Forbidden"),
)


def refusal_for(error: BaseException) -> Refusal:
    """The answer to an error gunicorn raised while reading or serving a request.

    The statuses are gunicorn's own (``Worker.handle_error``); every other parser error is a
    400 naming what gunicorn found, and anything else a 500 that says nothing more.
    """
    if isinstance(error, _SERVER_FAULTS):
        return INTERNAL
    for kind, status, reason in _STATUS_BY_ERROR:
        if isinstance(error, kind):
            return Refusal(status, reason, str(error))
    if isinstance(error, http_errors.ParseException):
        return Refusal(400, "Bad Request", str(error))
    return INTERNAL


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
