"""gunicorn's gthread worker, reading each request whole in its event loop before a thread sees it.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as it is readable, and
the thread then parses the request with blocking reads: a client sending a byte a second
held a thread for as long as it liked, and a few such clients held them all (``/healthz``
timed out). gunicorn has no setting for a read deadline, and a deadline alone would still
let 16 slow clients hold 16 threads until it expires.

This worker does what nginx does with ``proxy_request_buffering on``: the worker's own
event loop (the selector gthread already runs for accepting and keep-alive) reads each
request without blocking until :class:`~pasar_gateway.request_buffer.RequestBuffer` says
it is whole, within ``header_seconds`` for the headers and ``body_seconds`` for the body,
and only then commits a thread, whose parser reads the bytes from memory. A request that
is too slow gets 408, a body over the limit 413, headers over the limit 431, each in the
one error shape and then a lingering close (so that the answer is not lost to a reset).
What gunicorn's own parser refuses afterwards (a bad request line or header) is answered
in the same shape by :meth:`BufferingThreadWorker.handle_error`.

gunicorn offers no public way to do this. A custom ``worker_class`` is its documented
extension point, but the methods overridden here are not public API: three methods of
``gunicorn.workers.gthread.ThreadWorker`` (``enqueue_req``, ``handle``, ``murder_pending``)
and the base worker's ``handle_error`` (gunicorn has no setting for its error page, which
is HTML: benoitc/gunicorn#993), and gunicorn's parser is fed through its unreader's
``unread``. gunicorn declined a socket read timeout (benoitc/gunicorn#2652) and advises a
buffering proxy in front (benoitc/gunicorn#2222); its own fix for exhausted gthread pools
(benoitc/gunicorn#3519) defers only clients that send nothing for 5 s, not ones that
trickle. gunicorn is pinned to one version in the lock, and the slow-client test in
tests/test_slow_clients.py and the error-shape tests in tests/test_request_reading.py fail
if that contract changes; a gunicorn with a public read deadline and buffering replaces
this module.
"""

from __future__ import annotations

import contextlib
import enum
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

from pasar_gateway.raw_errors import json_error_response, refusal_for
from pasar_gateway.request_buffer import Progress, Refusal, RequestBuffer

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
READ_SIZE = 64 * 1024
LINGER_SECONDS = 2.0  # how long a refused client may go on sending before the socket is closed


@dataclass(frozen=True)
class ReadLimits:
    """How long and how large a request may be while it is being read."""

    header_seconds: float
    body_seconds: float
    max_header_bytes: int
    max_body_bytes: int


@dataclass
class _Reading:
    conn: Any  # gunicorn's TConn
    buffer: RequestBuffer
    deadline: float
    in_body: bool = False
    registered: bool = False


class _Read(enum.Enum):
    MORE = "more"  # the request has not arrived whole: wait for the socket
    OVER = "over"  # handed to a thread, refused, or the client went away


@dataclass
class _Lingering:
    conn: Any
    deadline: float
    drained: int = field(default=0)


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """A gthread worker whose threads only ever see requests that have fully arrived."""

    limits: ClassVar[ReadLimits]

    @classmethod
    def configured(cls, limits: ReadLimits) -> type[BufferingThreadWorker]:
        """The worker class gunicorn forks, with these limits."""
        return type(cls.__name__, (cls,), {"limits": limits})

    def init_process(self) -> None:
        self._readings: dict[Any, _Reading] = {}
        self._lingering: dict[Any, _Lingering] = {}
        super().init_process()

    # -- gthread's hooks ---------------------------------------------------------------

    def enqueue_req(self, conn: Any) -> None:
        """Called for each new connection and each kept-alive one that turned readable."""
        if self.cfg.is_ssl or getattr(conn, "pasar_request", None) is not None:
            super().enqueue_req(conn)
            return
        limits = self.limits
        reading = _Reading(
            conn,
            RequestBuffer(limits.max_header_bytes, limits.max_body_bytes),
            deadline=time.monotonic() + limits.header_seconds,
        )
        # Never block the event loop: not on reading, nor on a refusal's answer or linger.
        conn.sock.setblocking(False)
        # A request the client pipelined behind the last one may already be in the parser.
        ahead = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if ahead and self._advance(reading, ahead):
            return
        self._readings[conn] = reading
        # A kept-alive connection comes here because it is readable: read now rather than
        # after one more turn of the event loop, and wait in the poller only for what has
        # not arrived (a request that came whole, the usual case, costs no epoll_ctl).
        if self._read(reading) is not _Read.MORE:
            return
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, reading))
        reading.registered = True

    def handle(self, conn: Any) -> Any:
        """In a thread: gunicorn's own handling, reading the buffered request from memory."""
        request = getattr(conn, "pasar_request", None)
        if request is not None:
            conn.pasar_request = None
            conn.data_ready = True
            conn.sock.setblocking(True)
            if not getattr(conn, "pasar_receive_timeout", False):
                # A backstop: should gunicorn's parser want more than was buffered, its blocking
                # reads still end (the thread then drops the connection). The socket keeps it
                # for its next requests.
                seconds = max(self.limits.body_seconds, 0.001)
                conn.sock.setsockopt(
                    socket.SOL_SOCKET,
                    socket.SO_RCVTIMEO,
                    struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000)),
                )
                conn.pasar_receive_timeout = True
            conn.init()
            conn.parser.unreader.unread(request)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Once per turn of the event loop: also ends readings past their deadline."""
        super().murder_pending()
        now = time.monotonic()
        for reading in list(self._readings.values()):
            if reading.deadline <= now:
                self._expire(reading)
            elif not self.alive and not reading.buffer.started:
                self._stop(reading)
                self._close(reading.conn)  # stopping: no request on it yet
        for lingering in list(self._lingering.values()):
            if lingering.deadline <= now:
                self._end_linger(lingering)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """In a thread: gunicorn's answer to a request it could not parse or serve, in the one
        error shape instead of gunicorn's HTML page; the connection is closed afterwards."""
        refusal = refusal_for(exc)
        if refusal.status >= 500:
            uri = getattr(req, "uri", None)
            self.log.exception("Error handling request %s", uri or "(no URI read)", exc_info=exc)
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            client.setblocking(False)  # a short answer: it fits in the send buffer, or is lost
            client.sendall(json_error_response(refusal.status, refusal.reason, refusal.message))
        except OSError:
            self.log.debug("Failed to send error message.")

    # -- reading -----------------------------------------------------------------------

    def _on_readable(self, reading: _Reading, _sock: Any) -> None:
        self._read(reading)

    def _read(self, reading: _Reading) -> _Read:
        """Reads what has arrived: MORE while the request is not whole yet."""
        try:
            data = reading.conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return _Read.MORE
        except OSError:
            data = b""
        if not data:  # the client went away
            self._stop(reading)
            self._close(reading.conn)
            return _Read.OVER
        return _Read.OVER if self._advance(reading, data) else _Read.MORE

    def _advance(self, reading: _Reading, data: bytes) -> bool:
        """Feeds data; True once the reading is over (handed to a thread, or refused)."""
        outcome = reading.buffer.feed(data)
        if outcome is Progress.MORE:
            if reading.buffer.headers_complete and not reading.in_body:
                reading.in_body = True
                reading.deadline = time.monotonic() + self.limits.body_seconds
                if reading.buffer.expects_continue:
                    self._send(reading.conn, CONTINUE)
            return False
        self._stop(reading)
        if isinstance(outcome, Refusal):
            self._refuse(reading.conn, outcome)
        else:
            reading.conn.pasar_request = bytes(reading.buffer.data)
            super().enqueue_req(reading.conn)
        return True

    def _expire(self, reading: _Reading) -> None:
        self._stop(reading)
        if not reading.buffer.started:
            self._close(reading.conn)  # an idle connection: nothing to answer
            return
        if reading.in_body:
            message = f"the request body did not arrive within {self.limits.body_seconds:g} s"
        else:
            message = f"the request headers did not arrive within {self.limits.header_seconds:g} s"
        self._refuse(reading.conn, Refusal(408, "Request Timeout", message))

    def _stop(self, reading: _Reading) -> None:
        self._readings.pop(reading.conn, None)
        if reading.registered:
            reading.registered = False
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(reading.conn.sock)

    # -- refusing ----------------------------------------------------------------------

    def _refuse(self, conn: Any, refusal: Refusal) -> None:
        """Answers in the error shape, then lingers so that the client can read it."""
        self.log.info(
            "request refused before a thread took it: %s %s (%s)", refusal.status, refusal.reason, conn.client
        )
        self._send(conn, json_error_response(refusal.status, refusal.reason, refusal.message))
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        lingering = _Lingering(conn, deadline=time.monotonic() + LINGER_SECONDS)
        self._lingering[conn] = lingering
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_lingering, lingering))

    def _on_lingering(self, lingering: _Lingering, _sock: Any) -> None:
        try:
            data = lingering.conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        lingering.drained += len(data)
        if not data or lingering.drained > self.limits.max_body_bytes:
            self._end_linger(lingering)

    def _end_linger(self, lingering: _Lingering) -> None:
        self._lingering.pop(lingering.conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(lingering.conn.sock)
        self._close(lingering.conn)

    def _send(self, conn: Any, data: bytes) -> None:
        """A short answer on a non-blocking socket: it fits in the send buffer, or is lost."""
        with contextlib.suppress(OSError):
            conn.sock.send(data)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()
