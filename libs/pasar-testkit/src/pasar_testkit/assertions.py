"""What a failed gRPC call told its caller, read the way a client reads it, and waiting for
work that happens in the background.

Tests assert on the status code and the ``ErrorInfo`` reason (compared with the generated
enum's name), never on message text::

    error = refused(lambda: stub.CreateOrder(request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from pasar_kit.errors import ERROR_DOMAIN, error_info
from pasar_testkit.waiting import wait_for


def refused(call: Callable[[], object]) -> grpc.RpcError:
    """The RpcError of a call that must fail (the test fails if the call succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def _checked_error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    info = error_info(error)
    if info is not None:
        assert info.domain == ERROR_DOMAIN, f"ErrorInfo domain {info.domain!r}, not {ERROR_DOMAIN!r}"
    return info


def reason_of(error: grpc.RpcError) -> str:
    """The failed call's ErrorInfo reason ("" when the answer carries no ErrorInfo).

    An ErrorInfo from another domain fails the test: every Pasar reason is in one domain."""
    info = _checked_error_info(error)
    return info.reason if info else ""


def error_metadata(error: grpc.RpcError) -> dict[str, str]:
    """The failed call's ErrorInfo metadata ({} when the answer carries no ErrorInfo)."""
    info = _checked_error_info(error)
    return dict(info.metadata) if info else {}


def violated_fields(error: grpc.RpcError) -> list[str]:
    """The fields named by the failed call's BadRequest detail, in its order ([] without one)."""
    status = rpc_status.from_call(cast(grpc.Call, error))  # a failed call's RpcError is its Call
    fields: list[str] = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields.extend(violation.field for violation in bad_request.field_violations)
    return fields


def eventually(check: Callable[[], object], timeout: float = 10.0, message: str = "") -> None:
    """Waits until check() is true (background work is asynchronous), or fails the test
    after timeout seconds saying message (or naming check); wait_for returns the value."""
    wait_for(check, timeout, message, interval=0.02)
