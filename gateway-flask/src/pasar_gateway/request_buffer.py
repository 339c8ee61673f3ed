"""Knows when the bytes of one HTTP/1.1 request are all there, without parsing it for use.

The buffering worker (:mod:`pasar_gateway.buffering_worker`) feeds a :class:`RequestBuffer`
what a client sends, from its event loop, and hands the request to a thread only once it
is whole: the header block up to its empty line, then the body its framing announces
(``Content-Length`` bytes, or chunks up to the last one and its trailers). gunicorn's own
parser then reads the same bytes from memory. Whatever this module cannot frame (conflicting
or malformed framing headers) is handed over as it is, for gunicorn to refuse with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

HEADER_END = b"\r\n\r\n"
CRLF = b"\r\n"
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


@dataclass(frozen=True)
class Refusal:
    """A request this worker answers itself, in the one error shape, before any thread sees it."""

    status: int
    reason: str
    message: str


class Progress(Enum):
    MORE = "more"  # keep reading
    WHOLE = "whole"  # hand the request to a thread


class _Body(Enum):
    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"


class RequestBuffer:
    """One request's bytes as they arrive; :meth:`feed` says when to stop reading."""

    def __init__(self, max_header_bytes: int, max_body_bytes: int) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.data = bytearray()
        self.header_length: int | None = None  # the header block's length, once it has ended
        self.expects_continue = False
        self._body = _Body.NONE
        self._body_length = 0
        self._chunk_position = 0  # where the next chunk's size line starts (chunked bodies)
        self._chunked_bytes = 0

    @property
    def headers_complete(self) -> bool:
        return self.header_length is not None

    @property
    def started(self) -> bool:
        return bool(self.data)

    def feed(self, data: bytes) -> Progress | Refusal:
        """Adds what the client sent; WHOLE once the request is complete."""
        searched_from = max(len(self.data) - 3, 0)
        self.data += data
        if self.header_length is None:
            end = self.data.find(HEADER_END, searched_from)
            if (end < 0 and len(self.data) > self.max_header_bytes) or end > self.max_header_bytes:
                return self._too_long_head()
            if end < 0:
                return Progress.MORE
            self.header_length = end + len(HEADER_END)
            framing = self._read_framing(bytes(self.data[:end]))
            if framing is not None:
                return framing
        return self._body_progress()

    def _too_long_head(self) -> Refusal:
        """414 when the request line alone is past the limit (a huge URL), as gunicorn answers
        a long request line; 431 when the header fields are."""
        line_end = self.data.find(CRLF)
        if line_end < 0 or line_end > self.max_header_bytes:
            return Refusal(
                414, "URI Too Long", f"the request line is longer than {self.max_header_bytes} bytes"
            )
        return Refusal(
            431,
            "Request Header Fields Too Large",
            f"the request's headers are longer than {self.max_header_bytes} bytes",
        )

    def _read_framing(self, head: bytes) -> Progress | Refusal | None:
        """None to go on reading the body; WHOLE to hand the request over as it is."""
        lengths: list[bytes] = []
        codings: list[bytes] = []
        for line in head.split(CRLF)[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                continue  # gunicorn refuses it
            name = name.lower()
            if name == b"content-length":
                lengths.append(value.strip())
            elif name == b"transfer-encoding":
                codings.extend(coding.strip().lower() for coding in value.split(b","))
            elif name == b"expect":
                self.expects_continue = value.strip().lower() == b"100-continue"
        if codings:
            if lengths or codings[-1] != b"chunked":
                return Progress.WHOLE  # ambiguous or unsupported framing: gunicorn answers 400
            self._body = _Body.CHUNKED
            self._chunk_position = self.header_length or 0
            return None
        if not lengths:
            return Progress.WHOLE
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            return Progress.WHOLE
        length = int(lengths[0])
        if length > self.max_body_bytes:
            return self._too_large()
        self._body = _Body.LENGTH
        self._body_length = length
        return None

    def _body_progress(self) -> Progress | Refusal:
        start = self.header_length or 0
        if self._body == _Body.NONE:
            return Progress.WHOLE
        if self._body == _Body.LENGTH:
            return Progress.WHOLE if len(self.data) - start >= self._body_length else Progress.MORE
        return self._chunked_progress()

    def _chunked_progress(self) -> Progress | Refusal:
        data = self.data
        while True:
            line_end = data.find(CRLF, self._chunk_position)
            if line_end < 0:
                if len(data) - self._chunk_position > 1024:  # a size line is a few bytes
                    return Progress.WHOLE  # gunicorn refuses it
                return Progress.MORE
            size_text = bytes(data[self._chunk_position : line_end]).split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                return Progress.WHOLE  # gunicorn refuses it
            size = int(size_text, 16)
            if size == 0:
                return self._trailers_progress(line_end)
            if self._chunked_bytes + size > self.max_body_bytes:
                return self._too_large()
            chunk_end = line_end + 2 + size + 2
            if len(data) < chunk_end:
                return Progress.MORE
            self._chunked_bytes += size
            self._chunk_position = chunk_end

    def _trailers_progress(self, last_chunk_line_end: int) -> Progress | Refusal:
        """After the last chunk: trailer fields, then an empty line."""
        data = self.data
        if data.startswith(CRLF, last_chunk_line_end + 2) or data.find(HEADER_END, last_chunk_line_end) >= 0:
            return Progress.WHOLE
        if len(data) - last_chunk_line_end > self.max_header_bytes:
            return self._too_large()
        return Progress.MORE

    def _too_large(self) -> Refusal:
        return Refusal(
            413,
            "Content Too Large",
            f"the request body is larger than the {self.max_body_bytes} bytes the gateway accepts",
        )
