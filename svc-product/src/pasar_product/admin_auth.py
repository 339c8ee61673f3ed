"""The administrator's bearer token, checked before anything else in an admin call.

ProductAdminService is served through :class:`AdminGate` instead of the generated
registration: the gate looks at the ``authorization`` metadata when a call arrives and,
without the right token, answers UNAUTHENTICATED or PERMISSION_DENIED before the request
is even parsed or validated. A caller without the token therefore learns nothing about
the request rules and costs the server no work beyond the refusal. Tokens are compared
in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from google.protobuf import descriptor, empty_pb2, message, message_factory

from pasar_kit.errors import ServiceError
from pasar_product import reasons

AUTHORIZATION_METADATA = "authorization"
BEARER_SCHEME = "bearer"

Metadata = Sequence[tuple[str, str | bytes]]


def bearer_token(metadata: Metadata | None) -> str | None:
    """The token of an ``authorization: Bearer <token>`` entry (scheme in any case), if any."""
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION_METADATA or not isinstance(value, str):
            continue
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() == BEARER_SCHEME and token.strip():
            return token.strip()
    return None


def admin_refusal(metadata: Metadata | None, admin_token: str) -> ServiceError | None:
    """Why a call with this metadata is refused, or None when it carries the admin token."""
    token = bearer_token(metadata)
    if token is None:
        return reasons.admin_token_missing()
    if not hmac.compare_digest(token.encode(), admin_token.encode()):
        return reasons.admin_token_invalid()
    return None


def _ignore_request(_: bytes) -> empty_pb2.Empty:
    """Stands in for the request of a refused call, which is never parsed."""
    return empty_pb2.Empty()


def _refuse(error: ServiceError) -> Callable[[Any, grpc.ServicerContext], Any]:
    def refuse(_request: Any, _context: grpc.ServicerContext) -> Any:
        raise error

    return refuse


class AdminGate(grpc.GenericRpcHandler):
    """Serves a service's unary methods only to calls that carry the administrator's token."""

    def __init__(self, service: descriptor.ServiceDescriptor, servicer: object, admin_token: str) -> None:
        self.admin_token = admin_token
        self.handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        for method in service.methods:
            if method.client_streaming or method.server_streaming:
                raise TypeError(f"AdminGate serves unary methods only, not {method.full_name}")
            request_class: type[message.Message] = message_factory.GetMessageClass(method.input_type)
            response_class: type[message.Message] = message_factory.GetMessageClass(method.output_type)
            self.handlers[f"/{service.full_name}/{method.name}"] = grpc.unary_unary_rpc_method_handler(
                getattr(servicer, method.name),
                request_deserializer=request_class.FromString,
                response_serializer=response_class.SerializeToString,
            )

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = self.handlers.get(handler_call_details.method)
        if handler is None:
            return None
        refusal = admin_refusal(handler_call_details.invocation_metadata, self.admin_token)
        if refusal is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _refuse(refusal),
            request_deserializer=_ignore_request,
            response_serializer=handler.response_serializer,
        )
