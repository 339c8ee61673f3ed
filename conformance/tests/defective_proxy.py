"""A proxy that breaks a service's answers as one deliberate defect of pasar_kit.defects says,
for the mutation check of a service that has no ``PASAR_TEST_DEFECT`` of its own
(svc-fulfillment, in Go): the suite judges the proxy, which forwards every call to the
service byte for byte (metadata, deadline, cancellation, status details) and changes only
what the defect names:

- ``wrong-reason-code``: a NOT_FOUND with status details goes out as FAILED_PRECONDITION;
- ``idempotent-repeat-differs``: a repeat of a request to an IDEMPOTENT contract method
  (the same method, the same bytes) answers with its first timestamp a second later.

Health and reflection pass through untouched, so the kit sees the service itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import (
    descriptor,
    descriptor_pb2,
    descriptor_pool,
    message,
    message_factory,
    timestamp_pb2,
)
from google.rpc import status_pb2
from grpc_health.v1 import health_pb2  # noqa: F401 - registers grpc.health.v1 in the default pool
from grpc_reflection.v1alpha import reflection_pb2  # noqa: F401 - registers the reflection service
from grpc_status import rpc_status

import pasar_conformance.contract  # noqa: F401 - registers every contract service in the default pool
from pasar_kit.defects import IDEMPOTENT_REPEAT_DIFFERS, WRONG_REASON_CODE
from pasar_kit.server import OWN_PORT_OPTION

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# Metadata gRPC sets itself, which a proxy must not send again.
RESERVED_PREFIXES = ("grpc-", ":")
RESERVED_KEYS = {"user-agent", "content-type", "te"}

Metadata = tuple[tuple[str, str | bytes], ...]


def _forwardable(metadata: Any) -> Metadata:
    return tuple(
        (key, value)
        for key, value in metadata
        if key not in RESERVED_KEYS and not key.startswith(RESERVED_PREFIXES)
    )


def _method(path: str) -> descriptor.MethodDescriptor:
    return descriptor_pool.Default().FindMethodByName(path.lstrip("/").replace("/", "."))


def _shift_first_timestamp(answer: message.Message) -> bool:
    """Moves the first Timestamp found in answer (depth first) a second later."""
    for field, value in answer.ListFields():
        if field.type != descriptor.FieldDescriptor.TYPE_MESSAGE:
            continue
        for item in list(value) if field.is_repeated else [value]:
            if isinstance(item, timestamp_pb2.Timestamp):
                item.seconds += 1
                return True
            if isinstance(item, message.Message) and _shift_first_timestamp(item):
                return True
    return False


class DefectiveProxy:
    """Serves on a free loopback port; forwards to upstream, breaking answers as defect says."""

    def __init__(self, upstream: str, defect: str) -> None:
        if defect not in (WRONG_REASON_CODE, IDEMPOTENT_REPEAT_DIFFERS):
            raise ValueError(f"the proxy has no defect {defect!r}")
        self.defect = defect
        self.channel = grpc.insecure_channel(upstream)
        self._lock = threading.Lock()
        self._seen: set[tuple[str, bytes]] = set()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=[OWN_PORT_OPTION])
        self.server.add_generic_rpc_handlers([_Forwarder(self)])
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop(grace=0).wait()
        self.channel.close()

    # What the defects change.
    def answer(self, path: str, request: bytes, response: bytes) -> bytes:
        rpc = _method(path)
        idempotent = rpc.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.IDEMPOTENT
        if self.defect != IDEMPOTENT_REPEAT_DIFFERS or not idempotent:
            return response
        with self._lock:
            repeat = (path, request) in self._seen
            self._seen.add((path, request))
        if not repeat:
            return response
        answer = message_factory.GetMessageClass(rpc.output_type).FromString(response)
        _shift_first_timestamp(answer)
        return answer.SerializeToString()

    def relay(self, error: grpc.RpcError, context: grpc.ServicerContext) -> None:
        """Ends the call as the upstream call ended (its status and details), or misreported."""
        call: Any = error  # a failed call's RpcError is also its Call
        details = dict(call.trailing_metadata() or ()).get(STATUS_DETAILS_KEY)
        if isinstance(details, bytes):
            status = status_pb2.Status.FromString(details)
            if self.defect == WRONG_REASON_CODE and status.code == grpc.StatusCode.NOT_FOUND.value[0]:
                status.code = grpc.StatusCode.FAILED_PRECONDITION.value[0]
            context.abort_with_status(rpc_status.to_status(status))
        context.abort(call.code(), call.details() or "")


class _Forwarder(grpc.GenericRpcHandler):
    def __init__(self, proxy: DefectiveProxy) -> None:
        self.proxy = proxy

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        path: str = handler_call_details.method
        try:
            rpc = _method(path)
        except KeyError:
            return None
        if rpc.client_streaming and rpc.server_streaming:
            return grpc.stream_stream_rpc_method_handler(self._bidi(path))
        if rpc.server_streaming:
            return grpc.unary_stream_rpc_method_handler(self._stream(path))
        return grpc.unary_unary_rpc_method_handler(self._unary(path))

    def _unary(self, path: str) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        proxy = self.proxy

        def forward(request: bytes, context: grpc.ServicerContext) -> bytes:
            upstream: Any = proxy.channel.unary_unary(path)
            try:
                response: bytes = upstream(
                    request,
                    metadata=_forwardable(context.invocation_metadata()),
                    timeout=context.time_remaining(),
                )
            except grpc.RpcError as error:
                proxy.relay(error, context)
                raise  # abort raised already
            return proxy.answer(path, request, response)

        return forward

    def _stream(self, path: str) -> Callable[[bytes, grpc.ServicerContext], Iterator[bytes]]:
        return self._streaming(self.proxy.channel.unary_stream(path))

    def _bidi(self, path: str) -> Callable[[Iterator[bytes], grpc.ServicerContext], Iterator[bytes]]:
        return self._streaming(self.proxy.channel.stream_stream(path))

    def _streaming(self, open_stream: Any) -> Callable[[Any, grpc.ServicerContext], Iterator[bytes]]:
        """Relays a server stream as it comes (its request, or stream of requests, passed on
        as is); the upstream stream is cancelled when the caller's call ends."""
        proxy = self.proxy

        def forward(request: Any, context: grpc.ServicerContext) -> Iterator[bytes]:
            upstream = open_stream(
                request,
                metadata=_forwardable(context.invocation_metadata()),
                timeout=context.time_remaining(),
            )
            context.add_callback(upstream.cancel)
            try:
                yield from upstream
            except grpc.RpcError as error:
                proxy.relay(error, context)

        return forward
