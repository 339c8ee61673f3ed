"""One error shape for every failure, with the HTTP status mapped from the gRPC status.

Every error the gateway answers, whether a service's status, a bad request the gateway
catches itself, Flask's own 404/405/413 or an unexpected exception, has the body::

    {"error": {"code": "NOT_FOUND", "message": "...", "details": [...]}}

``code`` is the name of a gRPC status code, so that clients branch on the same codes
whichever side found the problem; ``details`` carries the status details the service sent
(``google.rpc.ErrorInfo`` with its reason and metadata, ``google.rpc.BadRequest`` with one
violation per field) in their proto3 JSON form, each with its ``@type``, written by the
same writer as success bodies (:mod:`pasar_gateway.json_writer`): fields with default
values are written in both, so a client reads ``"domain": ""`` or ``"metadata": {}`` the
same way wherever it meets them.

FAILED_PRECONDITION is 409 (the request conflicts with the current state of a resource:
stock ran out, the payment is already paid, the order cannot be cancelled any more),
except for the reasons in :data:`UNPROCESSABLE_REASONS`, which are 422: the request is
well-formed but names something it cannot use as given (a disabled channel, an amount
outside the channel's limits, an unknown category, a destination look-up for a product
whose destination cannot be looked up, a package whose product cannot be delivered).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import grpc
from flask import Response
from google.protobuf import any_pb2, descriptor_pool, message, message_factory
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_gateway.json_writer import message_json
from pasar_gateway.personal_data import masked_text
from pasar_kit.errors import ERROR_DOMAIN

log = logging.getLogger(__name__)

STATUS_BY_CODE: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    # OUT_OF_RANGE and UNIMPLEMENTED as google/rpc/code.proto maps them: a client's mistake
    # is never a 500, and an unimplemented method is 501.
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

# FAILED_PRECONDITION reasons answered 422 Unprocessable Content rather than 409 Conflict.
UNPROCESSABLE_REASONS = frozenset(
    {
        PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE),
        PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_DISABLED),
        ProductErrorReason.Name(ProductErrorReason.CATEGORY_NOT_FOUND),
        FulfillmentErrorReason.Name(FulfillmentErrorReason.LOOKUP_NOT_SUPPORTED),
        OrderErrorReason.Name(OrderErrorReason.PACKAGE_NOT_DELIVERABLE),
    }
)

DEPENDENCY_UNAVAILABLE = CommonErrorReason.Name(CommonErrorReason.DEPENDENCY_UNAVAILABLE)
RATE_LIMITED = CommonErrorReason.Name(CommonErrorReason.RATE_LIMITED)
RETRY_AFTER_METADATA = "retry_after_seconds"  # RATE_LIMITED's metadata: whole seconds to wait

# Codes whose message may carry a service's internals: the client gets a plain sentence.
_OPAQUE_CODES = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})

# HTTP errors raised by Flask/Werkzeug itself, and the gRPC code each one stands for.
CODE_BY_HTTP_STATUS: Mapping[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    406: grpc.StatusCode.INVALID_ARGUMENT,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    409: grpc.StatusCode.ABORTED,
    411: grpc.StatusCode.INVALID_ARGUMENT,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    414: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    416: grpc.StatusCode.OUT_OF_RANGE,
    422: grpc.StatusCode.FAILED_PRECONDITION,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    431: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}

BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"


class ApiError(Exception):
    """A failure to answer in the error shape; raised anywhere while handling a request."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.http_status = http_status or http_status_of(code, self.details)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code.name, "message": self.message, "details": self.details}}

    def response(self) -> Response:
        response = Response(
            json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")),
            status=self.http_status,
            mimetype="application/json",
        )
        for name, value in self.headers.items():
            response.headers[name] = value
        response.headers["Cache-Control"] = "no-store"
        return response


def invalid_argument(message: str, field: str = "", description: str = "") -> ApiError:
    """A 400 naming the offending field in a google.rpc.BadRequest detail."""
    details = [field_violation_detail([(field, description or message)])] if field else []
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, message, details=details)


def http_status_of(code: grpc.StatusCode, details: Sequence[Mapping[str, Any]] = ()) -> int:
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        for detail in details:
            if detail.get("@type") == ERROR_INFO_TYPE and detail.get("reason") in UNPROCESSABLE_REASONS:
                return 422
    return STATUS_BY_CODE.get(code, 500)


def dependency_unavailable(
    service_name: str, message: str, headers: Mapping[str, str] | None = None
) -> ApiError:
    """A 503 for a service the gateway cannot reach, with the ErrorInfo the contracts promise.

    service_name: the full name of the unreachable service (``pasar.order.v1.OrderService``),
    the DEPENDENCY_UNAVAILABLE reason's ``service`` metadata.
    """
    details = [error_info_detail(DEPENDENCY_UNAVAILABLE, {"service": service_name})]
    return ApiError(grpc.StatusCode.UNAVAILABLE, message, details=details, headers=headers)


def error_info_detail(reason: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    """A google.rpc.ErrorInfo detail of the shop's domain, as the services send it, in its JSON form."""
    packed = any_pb2.Any()
    packed.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata))
    return detail_json(packed)


def from_rpc_error(
    error: grpc.RpcError,
    service: str,
    *,
    answered: bool,
    service_name: str,
    request: message.Message | None = None,
) -> ApiError:
    """The ApiError for a failed call to service, keeping the status details it sent.

    answered: whether the service itself sent the status (rather than gRPC failing to reach it);
    service_name: the full name of the gRPC service called; request: the request it failed,
    whose personal data is masked wherever the service's message is logged.
    """
    call = cast(grpc.Call, error)  # a failed call's RpcError is also its Call
    code = call.code()
    message = call.details() or ""
    details = _status_details(call)
    if code in _OPAQUE_CODES:
        logged = masked_text(message, request)
        log.error(
            "service failed", extra={"service": service, "grpc_code": code.name, "grpc_message": logged}
        )
        message = f"the {service} service failed to answer; try again later"
    elif code == grpc.StatusCode.UNAVAILABLE and not answered:
        return dependency_unavailable(
            service_name, f"the {service} service is unavailable; try again shortly"
        )
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        message = f"the {service} service did not answer in time; try again shortly"
    elif code == grpc.StatusCode.UNAVAILABLE:
        message = public_message(message) or f"the {service} service is unavailable; try again shortly"
    return ApiError(code, message, details=details, headers=_retry_after(details))


def _retry_after(details: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Retry-After from a RATE_LIMITED ErrorInfo's retry_after_seconds, when a service sent one."""
    for detail in details:
        if detail.get("@type") == ERROR_INFO_TYPE and detail.get("reason") == RATE_LIMITED:
            seconds = str(detail.get("metadata", {}).get(RETRY_AFTER_METADATA, ""))
            if seconds.isdigit():
                return {"Retry-After": seconds}
    return {}


# How gRPC describes a connection failure, which services quote when a peer of theirs is down.
_QUOTED_STATUS = re.compile(r"\s*\((?:UNAVAILABLE|DEADLINE_EXCEEDED|UNKNOWN|INTERNAL): [^()]*\)")
_TRANSPORT_DETAIL = re.compile(
    r":?\s*(?:connections to all backends failing|failed to connect to all addresses|Socket closed"
    r"|Connection reset|GOAWAY received|Broken pipe|keepalive watchdog timeout).*$",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"\b(?:ipv4|ipv6|unix|dns):[^\s;,)]+")


def public_message(message: str) -> str:
    """A service's UNAVAILABLE message without the transport details it may quote (peer addresses)."""
    message = _QUOTED_STATUS.sub("", message)
    message = _TRANSPORT_DETAIL.sub("", message)
    return _ADDRESS.sub("<address>", message).strip()


def _status_details(call: grpc.Call) -> list[dict[str, Any]]:
    try:
        status: status_pb2.Status | None = rpc_status.from_call(call)
    except ValueError:  # a status whose details do not match its code: keep the code only
        return []
    if status is None:
        return []
    details = []
    for detail in status.details:
        details.append(detail_json(detail))
    return details


def detail_json(detail: any_pb2.Any) -> dict[str, Any]:
    """One status detail as proto3 JSON, ``@type`` first, by the success bodies' rule."""
    try:
        message_type = descriptor_pool.Default().FindMessageTypeByName(detail.TypeName())
    except KeyError:
        # A detail type this gateway does not know: say what it is without its content.
        return {"@type": detail.type_url}
    unpacked = message_factory.GetMessageClass(message_type)()
    try:
        detail.Unpack(unpacked)
    except message.DecodeError:
        return {"@type": detail.type_url}
    return {"@type": detail.type_url, **message_json(unpacked)}


def field_violation_detail(violations: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A google.rpc.BadRequest detail in its JSON form."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in violations
        ]
    )
    packed = any_pb2.Any()
    packed.Pack(bad_request)
    return detail_json(packed)
