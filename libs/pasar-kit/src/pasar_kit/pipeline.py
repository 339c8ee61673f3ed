"""The call pipeline: what happens around every RPC a Pasar service handles.

One server interceptor wraps each handler, in this order:

1. the request id from ``x-request-id`` metadata (or a new one) becomes the call's context,
   and the ``pasar.request_id`` attribute of the call's server span when tracing is on
   (the OpenTelemetry interceptor runs outside this one, :mod:`pasar_kit.telemetry`);
   an internal method (no HTTP annotation in its contract) is refused at once unless the
   caller is one the service accepts (:mod:`pasar_kit.callers`): UNAUTHENTICATED or
   PERMISSION_DENIED, before anything else runs;
2. an optional artificial delay (``PASAR_FAULT_DELAY_MS``, off by default) for fault tests;
3. the request is validated against the contract's protovalidate rules: a violation is
   INVALID_ARGUMENT with one ``BadRequest`` field violation per broken rule. A partial
   update (with a ``google.protobuf.FieldMask update_mask``) is held to the rules of the
   fields its mask names (:mod:`pasar_kit.partial_updates`);
4. unary handlers run inside ``database.connection_context()`` (streaming handlers manage
   their own connections, as a stream may outlive many queries);
5. a :class:`~pasar_kit.errors.ServiceError` becomes its status; a failed call to another
   service becomes UNAVAILABLE (reason DEPENDENCY_UNAVAILABLE) or INTERNAL; a database
   outage UNAVAILABLE (DATABASE_UNAVAILABLE), a deadlock or lock timeout ABORTED
   (CONTENTION); anything else is logged with its traceback and answered INTERNAL, without
   internals in the message. Every status a service sends itself carries ErrorInfo, so a
   caller can tell "the service answered UNAVAILABLE" from "the service cannot be reached";
6. one log line per call: method, status code and duration.

A single interceptor (rather than one per concern) keeps the per-call overhead to one
wrapper, which matters at the request rates the benchmarks measure.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, cast

import grpc
import peewee
import protovalidate
from google.protobuf import message

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar_kit import database as db
from pasar_kit.callers import CallerGate, InternalCallers
from pasar_kit.errors import Aborted, InvalidArgument, ServiceError, Unavailable
from pasar_kit.logs import REQUEST_ID_METADATA, request_id_var
from pasar_kit.partial_updates import violations_in_scope
from pasar_kit.telemetry import REQUEST_ID_ATTRIBUTE, annotate, record_rpc_status
from pasar_kit.wrapped_handlers import WrappedHandlers

log = logging.getLogger("pasar.rpc")

# Only the contracts' own methods are validated and given a database connection;
# health checks and reflection pass through untouched.
CONTRACT_METHOD_PREFIX = "/pasar."
PEER_FAILURES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def field_path(violation: protovalidate.Violation) -> str:
    """The violation's field as ``lines[0].quantity``; empty for a rule on the whole message."""
    path = ""
    elements = violation.proto.field.elements if violation.proto.field else []
    for element in elements:
        path += f".{element.field_name}" if path else element.field_name
        if element.subscript is not None:
            path += f"[{element.subscript.value}]"
    return path


def validate(request: message.Message) -> None:
    """Raises InvalidArgument naming every field that breaks the contract's rules.

    A partial update counts only the rules of the fields its mask names.
    """
    # protovalidate's own shared Validator: a second one would compile and keep every
    # message's rules a second time (about 2 MB in a service).
    violations = violations_in_scope(request, protovalidate.collect_violations(request))
    if not violations:
        return
    fields = [(field_path(v) or request.DESCRIPTOR.name, v.proto.message) for v in violations]
    summary = "; ".join(f"{field}: {description}" for field, description in fields)
    raise InvalidArgument(f"invalid {request.DESCRIPTOR.name}: {summary}", field_violations=fields)


def _request_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == REQUEST_ID_METADATA and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return os.urandom(16).hex()  # 32 hex digits as uuid4().hex, for a fraction of its cost


def _call_request_id(context: grpc.ServicerContext) -> str:
    """The call's request id, also set on its span (annotate costs one check when tracing is off)."""
    request_id = _request_id(context)
    annotate({REQUEST_ID_ATTRIBUTE: request_id})
    return request_id


class CallPipeline(grpc.ServerInterceptor):
    """The interceptor described in the module docstring."""

    def __init__(
        self,
        database: peewee.Database | None,
        fault_delay_seconds: float = 0.0,
        callers: CallerGate | None = None,
    ) -> None:
        """callers: who may call the internal methods; by default nobody may."""
        self.database = database
        self.fault_delay_seconds = fault_delay_seconds
        self.callers = callers or CallerGate(frozenset(), InternalCallers())
        self._wrapped = WrappedHandlers(self._wrap)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not method.startswith(CONTRACT_METHOD_PREFIX):
            return handler
        return self._wrapped.of(method, handler)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # the contracts have no client-streaming methods

    def _unary(
        self, method: str, behaviour: Callable[[Any, grpc.ServicerContext], Any]
    ) -> Callable[..., Any]:
        def handle(request: message.Message, context: grpc.ServicerContext) -> Any:
            # The request id is set and reset here rather than through logs.request_context:
            # one generator less per call.
            request_id = request_id_var.set(_call_request_id(context))
            started = time.perf_counter()
            try:
                self._before(method, request, context)
                if self.database is None:
                    return behaviour(request, context)
                with self.database.connection_context():
                    return behaviour(request, context)
            except Exception as error:  # every failure becomes a status
                _abort(error, context)
            finally:
                _log_call(method, context, started)
                request_id_var.reset(request_id)

        return handle

    def _stream(
        self, method: str, behaviour: Callable[[Any, grpc.ServicerContext], Iterator[Any]]
    ) -> Callable[..., Iterator[Any]]:
        def handle(request: message.Message, context: grpc.ServicerContext) -> Iterator[Any]:
            request_id = request_id_var.set(_call_request_id(context))
            started = time.perf_counter()
            try:
                self._before(method, request, context)
                yield from behaviour(request, context)
            except Exception as error:  # every failure becomes a status
                _abort(error, context)
            finally:
                _log_call(method, context, started)
                request_id_var.reset(request_id)

        return handle

    def _before(self, method: str, request: message.Message, context: grpc.ServicerContext) -> None:
        self.callers.check(method, context)
        if self.fault_delay_seconds:
            time.sleep(self.fault_delay_seconds)
        validate(request)


def _abort(error: Exception, context: grpc.ServicerContext) -> NoReturn:
    """Ends the call with the status that error stands for (context.abort raises)."""
    if _status_code(context) not in (None, grpc.StatusCode.OK):
        raise error  # the handler aborted the call itself
    if isinstance(error, ServiceError):
        _abort_with(context, error)
    if isinstance(error, grpc.RpcError):
        call = cast(grpc.Call, error)  # a failed call raises an RpcError that is also its Call
        peer_code = call.code()
        # The peer's details name internal addresses: they go to the log, not to the caller.
        if peer_code in PEER_FAILURES:
            log.warning(
                "a peer is unavailable", extra={"peer_code": peer_code.name, "details": call.details()}
            )
            _abort_with(
                context,
                Unavailable(
                    "a service this call needs is unavailable",
                    reason=ErrorReason.Name(ErrorReason.DEPENDENCY_UNAVAILABLE),
                ),
            )
        log.error("unexpected status from another service", extra={"peer_code": peer_code.name})
        _abort_internal(context)
    database_failure = db.classify_error(error)
    if database_failure == db.DatabaseFailure.UNAVAILABLE:
        log.error("database unavailable", exc_info=error)
        _abort_with(
            context,
            Unavailable(
                "the service's database is unavailable",
                reason=ErrorReason.Name(ErrorReason.DATABASE_UNAVAILABLE),
            ),
        )
    if database_failure == db.DatabaseFailure.CONTENTION:
        log.warning("transaction aborted by the database", exc_info=error)
        _abort_with(
            context,
            Aborted(
                "the request conflicted with another one; retry it",
                reason=ErrorReason.Name(ErrorReason.CONTENTION),
            ),
        )
    log.error("unhandled error", exc_info=error)
    _abort_internal(context)


def _abort_internal(context: grpc.ServicerContext) -> NoReturn:
    record_rpc_status(grpc.StatusCode.INTERNAL, "internal error")
    context.abort(grpc.StatusCode.INTERNAL, "internal error")
    raise AssertionError("unreachable: context.abort raises")


def _abort_with(context: grpc.ServicerContext, error: ServiceError) -> NoReturn:
    """Ends the call with error's status and details (abort_with_status raises)."""
    record_rpc_status(error.code, error.message)
    context.abort_with_status(error.to_status())
    raise AssertionError("unreachable: context.abort_with_status raises")


def _status_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The code the call was ended with so far (ServicerContext.code() is missing from the stubs)."""
    code: grpc.StatusCode | None = cast(Any, context).code()
    return code


def _log_call(method: str, context: grpc.ServicerContext, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return  # nothing to build (PASAR_LOG_LEVEL=warning and above)
    code = _status_code(context) or (grpc.StatusCode.OK if context.is_active() else grpc.StatusCode.CANCELLED)
    log.info(
        "rpc",
        extra={
            "method": method,
            "code": code.name,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
