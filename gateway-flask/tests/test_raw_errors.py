"""Which answer each error of gunicorn's request parser gets (raw_errors.refusal_for)."""

from __future__ import annotations

import ssl

import pytest
from gunicorn.http import errors as http_errors  # type: ignore[import-untyped]

from pasar_gateway.raw_errors import refusal_for


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (http_errors.LimitRequestLine(5000, 4094), 414, "URI Too Long"),
        (http_errors.LimitRequestHeaders("too many"), 431, "Request Header Fields Too Large"),
        (http_errors.InvalidHeaderName("Bad Header"), 400, "Bad Request"),
        (http_errors.InvalidRequestMethod("G@T"), 400, "Bad Request"),
        (http_errors.UnsupportedTransferCoding("gzip"), 501, "Not Implemented"),
        (http_errors.ForbiddenProxyRequest("10.0.0.1"), 403, "Forbidden"),
        (ssl.SSLError("handshake"), 403, "Forbidden"),
    ],
)
def test_a_client_error_keeps_gunicorns_status_and_names_what_it_found(
    error: BaseException, status: int, reason: str
) -> None:
    refusal = refusal_for(error)
    assert (refusal.status, refusal.reason) == (status, reason)
    assert refusal.message == str(error)


@pytest.mark.parametrize(
    "error",
    [
        http_errors.InvalidResponseHeaderName("bad name"),  # the application's fault
        http_errors.ConfigurationProblem("misconfigured"),
        RuntimeError("a secret in the text"),
    ],
)
def test_anything_else_is_a_500_that_says_nothing_more(error: BaseException) -> None:
    refusal = refusal_for(error)
    assert (refusal.status, refusal.message) == (500, "")
