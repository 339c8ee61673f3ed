"""RequestBuffer: when the bytes of one request are all there, fed in any pieces."""

from __future__ import annotations

import pytest

from pasar_gateway.request_buffer import Progress, Refusal, RequestBuffer

HEAD = b"POST /api/v1/orders HTTP/1.1\r\nHost: shop.example\r\n"


def fed(data: bytes, piece: int = 1, max_body: int = 1000) -> list[Progress | Refusal]:
    """Feeds data piece bytes at a time; what each feed said."""
    buffer = RequestBuffer(max_header_bytes=2000, max_body_bytes=max_body)
    return [buffer.feed(data[i : i + piece]) for i in range(0, len(data), piece)]


@pytest.mark.parametrize("piece", [1, 3, 10_000])
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        HEAD + b"Content-Length: 5\r\n\r\nhello",
        HEAD + b"Content-Length: 0\r\n\r\n",
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n",
        HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n",
    ],
)
def test_a_request_is_whole_exactly_at_its_last_byte(request_bytes: bytes, piece: int) -> None:
    said = fed(request_bytes, piece)
    assert said[-1] is Progress.WHOLE
    assert all(progress is Progress.MORE for progress in said[:-1])


def test_a_body_over_the_limit_is_refused_with_413_by_its_length_or_its_chunks() -> None:
    (refusal,) = fed(HEAD + b"Content-Length: 1001\r\n\r\n", piece=10_000)
    assert isinstance(refusal, Refusal)
    assert refusal.status == 413
    chunks = b"".join(b"64\r\n" + b"a" * 100 + b"\r\n" for _ in range(11)) + b"0\r\n\r\n"
    said = fed(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunks, piece=50)
    refusals = [progress for progress in said if isinstance(progress, Refusal)]
    assert refusals
    assert refusals[0].status == 413


def test_a_request_line_past_the_limit_is_refused_with_414() -> None:
    said = fed(b"GET /api/v1/products/" + b"a" * 3000 + b" HTTP/1.1\r\nHost: shop.example\r\n\r\n", piece=500)
    assert isinstance(said[-1], Refusal)
    assert (said[-1].status, said[-1].reason) == (414, "URI Too Long")


def test_headers_without_an_end_are_refused_with_431_past_the_limit() -> None:
    said = fed(HEAD + b"X-Long: " + b"a" * 3000, piece=500)
    assert isinstance(said[-1], Refusal)
    assert said[-1].status == 431


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",  # both: smuggling-shaped
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Content-Length: -1\r\n",
        b"Transfer-Encoding: gzip\r\n",
    ],
)
def test_framing_gunicorn_refuses_is_handed_over_at_once(framing: bytes) -> None:
    (progress,) = fed(HEAD + framing + b"\r\n", piece=10_000)
    assert progress is Progress.WHOLE  # gunicorn's parser answers 400 without waiting


def test_expect_100_continue_is_noticed() -> None:
    buffer = RequestBuffer(max_header_bytes=2000, max_body_bytes=1000)
    assert buffer.feed(HEAD + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n") is Progress.MORE
    assert buffer.headers_complete
    assert buffer.expects_continue
    assert buffer.feed(b"abc") is Progress.WHOLE
