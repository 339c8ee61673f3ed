"""Deliberate defects, switched on by a test-only setting, that prove the conformance kit bites.

``PASAR_TEST_DEFECT=<name>`` makes a server break its contract at the RPC boundary, in one
way the conformance kit (conformance/) must catch; the mutation check in
conformance/tests starts a service with each and asserts that the suite fails. The
server's code is untouched: one interceptor, outside the call pipeline, changes answers.

- ``wrong-reason-code``: every NOT_FOUND a service sends with an ErrorInfo goes out as
  FAILED_PRECONDITION (a reason answered with another code than its contract names);
- ``repeated-page-item``: the page after a ListProducts page starts with that page's last
  product again (the keyset off-by-one of ``>=`` for ``>``);
- ``idempotent-repeat-differs``: a repeat of a request to an IDEMPOTENT method (the same
  method, the same bytes) answers with its first timestamp a second later.

Production refuses the setting at start (:func:`defect_from_env`), like any other bad one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import grpc
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message, timestamp_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from pasar_kit.config import PRODUCTION, ConfigError, Env

VARIABLE = "PASAR_TEST_DEFECT"
WRONG_REASON_CODE = "wrong-reason-code"
REPEATED_PAGE_ITEM = "repeated-page-item"
IDEMPOTENT_REPEAT_DIFFERS = "idempotent-repeat-differs"
DEFECTS = (WRONG_REASON_CODE, REPEATED_PAGE_ITEM, IDEMPOTENT_REPEAT_DIFFERS)
CONTRACT_METHOD_PREFIX = "/pasar."
STATUS_DETAILS_KEY = "grpc-status-details-bin"
# What the defects remember (pages, requests) is forgotten past this many entries.
MEMORY_LIMIT = 10_000

Behaviour = Callable[[Any, grpc.ServicerContext], Any]


def defect_from_env(env: Env) -> str | None:
    """PASAR_TEST_DEFECT: one of DEFECTS, or None when unset; ConfigError in production."""
    name = env.optional("PASAR_TEST_DEFECT")
    if name is None:
        return None
    if env.environment == PRODUCTION:
        raise ConfigError(
            f"{VARIABLE} must not be set when PASAR_ENV is {PRODUCTION!r}: it is for tests only"
        )
    if name not in DEFECTS:
        raise ConfigError(f"{VARIABLE} must be one of {', '.join(DEFECTS)}, not {name!r}")
    return name


def defect_interceptors(name: str | None) -> list[grpc.ServerInterceptor]:
    """The interceptor of the defect name, to put before the call pipeline; none without one."""
    return [] if name is None else [DefectInterceptor(name)]


class DefectInterceptor(grpc.ServerInterceptor):
    """Wraps the unary contract methods' handlers to break their answers as the defect says."""

    def __init__(self, defect: str) -> None:
        if defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}")
        self.defect = defect
        self._lock = threading.Lock()
        self._last_of_page: dict[str, message.Message] = {}  # next_page_token -> last product
        self._seen_requests: set[tuple[str, bytes]] = set()

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or handler.unary_unary is None or not method.startswith(CONTRACT_METHOD_PREFIX):
            return handler
        behaviour = self._wrap(method, handler.unary_unary)
        if behaviour is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap(self, method: str, behaviour: Behaviour) -> Behaviour | None:
        if self.defect == WRONG_REASON_CODE:
            return lambda request, context: behaviour(request, _misreporting(context))
        if self.defect == REPEATED_PAGE_ITEM and method.endswith("/ListProducts"):
            return lambda request, context: self._repeat_last_item(behaviour(request, context), request)
        if self.defect == IDEMPOTENT_REPEAT_DIFFERS and _idempotent(method):
            return lambda request, context: self._differ_on_repeat(
                method, request, behaviour(request, context)
            )
        return None

    def _repeat_last_item(self, response: Any, request: Any) -> Any:
        with self._lock:
            previous = self._last_of_page.get(request.page_token) if request.page_token else None
            if response.next_page_token and response.products:
                if len(self._last_of_page) > MEMORY_LIMIT:
                    self._last_of_page.clear()
                self._last_of_page[response.next_page_token] = response.products[-1]
        if previous is not None:
            response = _own_copy(response)
            products = [previous, *response.products]
            del response.products[:]
            response.products.extend(products)
        return response

    def _differ_on_repeat(self, method: str, request: message.Message, response: message.Message) -> Any:
        key = (method, request.SerializeToString(deterministic=True))
        with self._lock:
            repeat = key in self._seen_requests
            if len(self._seen_requests) > MEMORY_LIMIT:
                self._seen_requests.clear()
            self._seen_requests.add(key)
        if repeat:
            response = _own_copy(response)
            _shift_first_timestamp(response)
        return response


def _own_copy(response: Any) -> Any:
    """A copy of response to change: a service may hand one answer to many calls (svc-product
    serves its catalog answers from a cache), and a defect must spoil only its own call's."""
    copy = type(response)()
    copy.CopyFrom(response)
    return copy


def _idempotent(method: str) -> bool:
    """Whether the contract declares ``/package.Service/Method`` IDEMPOTENT."""
    try:
        found = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    except KeyError:
        return False
    return bool(found.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.IDEMPOTENT)


def _shift_first_timestamp(answer: message.Message) -> bool:
    """Moves the first Timestamp found in answer (depth first) a second later."""
    for field, value in answer.ListFields():
        if field.type != descriptor.FieldDescriptor.TYPE_MESSAGE:
            continue
        values = list(value) if field.is_repeated else [value]
        for item in values:
            if isinstance(item, timestamp_pb2.Timestamp):
                item.seconds += 1
                return True
            if isinstance(item, message.Message) and _shift_first_timestamp(item):
                return True
    return False


def _misreporting(context: grpc.ServicerContext) -> grpc.ServicerContext:
    return cast(grpc.ServicerContext, _MisreportingContext(context))  # it forwards everything else


class _MisreportingContext:
    """A ServicerContext that sends an answered NOT_FOUND with ErrorInfo as FAILED_PRECONDITION."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def abort_with_status(self, status: grpc.Status) -> None:
        details = dict(status.trailing_metadata or ()).get(STATUS_DETAILS_KEY)
        if status.code == grpc.StatusCode.NOT_FOUND and isinstance(details, bytes):
            answer = status_pb2.Status.FromString(details)
            answer.code = grpc.StatusCode.FAILED_PRECONDITION.value[0]
            status = rpc_status.to_status(answer)
        self._context.abort_with_status(status)
