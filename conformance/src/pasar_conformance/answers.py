"""Reading a failed call as any client would, and judging it against the contracts.

:func:`expect_reason` is the one assertion for an error: the status code, the
``ErrorInfo`` (domain ``pasar.shop``, the reason) and exactly the metadata keys the
reason's comment names all come from the contracts (:mod:`pasar_conformance.contract`).
Name reasons through the generated enums, never as strings::

    expect_reason(lambda: stub.GetProduct(request), ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
                  metadata={"product_id": request.id})

Every reason asserted is recorded in :data:`CHECKED_REASONS`, so a suite can prove it
reached every reason of its package; a case that cannot reach its reasons against this
target (a peer the run was not given, a biller whose notifications the kit cannot write)
skips through :func:`skip_unreached`, which records them in :data:`UNREACHED_REASONS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NoReturn, TypeVar, cast

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar_conformance.contract import ERROR_DOMAIN, reason

T = TypeVar("T")

# How often retrying() repeats a call answered ABORTED CONTENTION.
CONTENTION_RETRIES = 10
RETRY_PAUSE_SECONDS = 0.01
# Reasons asserted by expect_reason during this run, by wire name.
CHECKED_REASONS: set[str] = set()
# Reasons a case could not reach against this target (it skipped), by wire name: why.
UNREACHED_REASONS: dict[str, str] = {}


class UnexpectedSuccess(AssertionError):
    """A call that had to fail answered OK."""


def skip_unreached(why: str, *reason_names: str) -> NoReturn:
    """Skips the case, saying why, and records that reason_names (those it would have
    asserted) are out of reach in this run, so the suite's reason coverage does not count
    them as forgotten."""
    for name in reason_names:
        UNREACHED_REASONS.setdefault(name, why)
    pytest.skip(why)


def refused(call: Callable[[], object]) -> grpc.RpcError:
    """The RpcError of a call that must fail (AssertionError if it succeeds)."""
    try:
        answer = call()
    except grpc.RpcError as error:
        return error
    raise UnexpectedSuccess(f"the call succeeded, answering {answer!r:.300}")


def status_of(error: grpc.RpcError) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` in the failed call's trailers, None without one."""
    call = cast(grpc.Call, error)  # a failed unary call's RpcError is also its Call
    try:
        status: status_pb2.Status | None = rpc_status.from_call(call)
    except ValueError as mismatch:  # grpcio-status checks the details' code against the call's
        raise AssertionError(f"the status details disagree with the call: {mismatch}") from None
    return status


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The failed call's ErrorInfo detail, None without one."""
    status = status_of(error)
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def violated_fields(error: grpc.RpcError) -> list[str]:
    """The fields a failed call's BadRequest names, in its order ([] without one)."""
    status = status_of(error)
    fields: list[str] = []
    for detail in status.details if status else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields.extend(violation.field for violation in bad_request.field_violations)
    return fields


def code_of(error: grpc.RpcError) -> grpc.StatusCode:
    return cast(grpc.Call, error).code()


def expect_reason(
    call: Callable[[], object] | grpc.RpcError,
    reason_name: str,
    *,
    metadata: Mapping[str, str] | None = None,
    package: str | None = None,
) -> dict[str, str]:
    """Asserts that call fails as the contracts say reason_name fails, and returns the
    ErrorInfo metadata.

    Checked: the status code the reason's comment names, an ErrorInfo in domain
    pasar.shop with that reason, and metadata with exactly the keys the comment names;
    metadata, when given, holds values the answer must carry. A name that two packages
    define (``BAD_SIGNATURE``) needs package: the answer is judged by that package's
    comment, never by whichever comment it happens to fit.
    """
    expected = reason(reason_name, package)
    error = call if isinstance(call, grpc.RpcError) else refused(call)
    code = code_of(error)
    info = error_info(error)
    found = f"{code.name} {info.reason if info else '(no ErrorInfo)'}"
    assert info is not None, f"expected {expected.code.name} {reason_name}, got {found}: {_details(error)}"
    assert (code, info.reason) == (expected.code, reason_name), (
        f"expected {expected.code.name} {reason_name}, got {found}: {_details(error)}"
    )
    assert info.domain == ERROR_DOMAIN, (
        f"{reason_name} in ErrorInfo domain {info.domain!r}, not {ERROR_DOMAIN!r}"
    )
    keys = set(info.metadata)
    assert keys == set(expected.metadata_keys), (
        f"{reason_name} must carry the metadata keys {sorted(expected.metadata_keys)}, not {sorted(keys)}"
    )
    for key, value in (metadata or {}).items():
        assert info.metadata[key] == value, (
            f"{reason_name} metadata {key}={info.metadata[key]!r}, not {value!r}"
        )
    CHECKED_REASONS.add(reason_name)
    return dict(info.metadata)


def expect_invalid_argument(call: Callable[[], object] | grpc.RpcError, *fields: str) -> list[str]:
    """Asserts INVALID_ARGUMENT with a BadRequest naming every one of fields (field paths
    such as ``lines[0].quantity``); returns every field the BadRequest names."""
    error = call if isinstance(call, grpc.RpcError) else refused(call)
    code = code_of(error)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (
        f"expected INVALID_ARGUMENT, got {code.name}: {_details(error)}"
    )
    named = violated_fields(error)
    assert named, f"INVALID_ARGUMENT without a BadRequest naming the field: {_details(error)}"
    missing = [field for field in fields if field not in named]
    assert not missing, f"the BadRequest names {named}, not {missing}"
    return named


def _details(error: grpc.RpcError) -> str:
    return repr(cast(grpc.Call, error).details())


def retrying(call: Callable[[], T]) -> T:
    """call's answer, repeating it while the server asks for a retry: ABORTED with reason
    CONTENTION (a collision with a concurrent request, which the contracts say a retry
    resolves), or RESOURCE_EXHAUSTED without ErrorInfo (the gRPC server shed the call,
    having reached its limit of concurrent calls), after a short, growing pause."""
    contention = CommonReason.Name(CommonReason.CONTENTION)
    for attempt in range(1, CONTENTION_RETRIES + 1):
        try:
            return call()
        except grpc.RpcError as error:
            info, code = error_info(error), code_of(error)
            collided = code == grpc.StatusCode.ABORTED and info is not None and info.reason == contention
            shed = code == grpc.StatusCode.RESOURCE_EXHAUSTED and info is None
            if not (collided or shed):
                raise
        time.sleep(RETRY_PAUSE_SECONDS * attempt)
    return call()


def answer_or_refusal(call: Callable[[], T]) -> T | grpc.RpcError:
    """call's answer (retried on contention, as :func:`retrying` does) or the RpcError that
    refused it: for calls raced in parallel, of which some must be refused."""
    try:
        return retrying(call)
    except grpc.RpcError as error:
        return error
