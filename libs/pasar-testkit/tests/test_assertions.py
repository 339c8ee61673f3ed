"""The assertion helpers read what a real gRPC server sent, as a client would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar_kit import errors
from pasar_kit.server import OWN_PORT_OPTION
from pasar_testkit.assertions import error_metadata, eventually, reason_of, refused, violated_fields
from pasar_testkit.waiting import wait_for

CONTENTION = ErrorReason.Name(ErrorReason.CONTENTION)
FailWith = Callable[[errors.ServiceError], grpc.RpcError]


@pytest.fixture
def fail_with() -> Iterator[FailWith]:
    """Calls a method of a real server that aborts with the given error's status."""
    answers: list[errors.ServiceError] = []

    def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
        context.abort_with_status(answers[-1].to_status())
        raise AssertionError("abort_with_status raises")

    server = grpc.server(ThreadPoolExecutor(max_workers=2), options=[OWN_PORT_OPTION])
    handler = grpc.method_handlers_generic_handler(
        "pasar.test.Failing", {"Fail": grpc.unary_unary_rpc_method_handler(handle)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary("/pasar.test.Failing/Fail")

    def fail(error: errors.ServiceError) -> grpc.RpcError:
        answers.append(error)
        return refused(lambda: call(b"", timeout=5))

    yield fail
    channel.close()
    server.stop(None)


def test_a_reason_and_its_metadata_are_read_from_error_info(fail_with: FailWith) -> None:
    error = fail_with(errors.Aborted("busy", reason=CONTENTION, metadata={"order_id": "o-1"}))

    assert error.code() == grpc.StatusCode.ABORTED
    assert reason_of(error) == CONTENTION
    assert error_metadata(error) == {"order_id": "o-1"}
    assert violated_fields(error) == []


def test_violated_fields_are_read_from_bad_request_in_order(fail_with: FailWith) -> None:
    error = fail_with(
        errors.InvalidArgument("bad", field_violations=[("lines[0].quantity", "x"), ("email", "y")])
    )

    assert violated_fields(error) == ["lines[0].quantity", "email"]
    assert reason_of(error) == ""
    assert error_metadata(error) == {}


def test_an_answer_without_details_has_no_reason(fail_with: FailWith) -> None:
    error = fail_with(errors.Unavailable("down"))

    assert (reason_of(error), error_metadata(error), violated_fields(error)) == ("", {}, [])


def test_a_call_that_succeeds_is_not_refused() -> None:
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        refused(lambda: None)


def test_eventually_returns_once_background_work_is_done() -> None:
    done = threading.Event()
    threading.Timer(0.1, done.set).start()

    eventually(done.is_set, timeout=5)


def test_eventually_fails_with_the_message_when_the_check_never_holds() -> None:
    with pytest.raises(AssertionError, match="the order is paid"):
        eventually(lambda: False, timeout=0.1, message="the order is paid")


def test_wait_for_returns_the_first_true_value() -> None:
    answers = iter([None, 0, "", "ready"])

    assert wait_for(lambda: next(answers), timeout=5, interval=0.01) == "ready"
