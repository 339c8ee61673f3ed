"""The checks every suite runs, whatever its contract: subclass :class:`CommonChecks`.

A suite describes its contract once, as a :class:`Suite`, and gets from this module:

- health: ``grpc.health.v1`` SERVING for the server ("") and for each service;
- reflection: the services listed, each with every method of the kit's contracts;
- ``x-request-id`` accepted; a call with a too short deadline ends in DEADLINE_EXCEEDED
  within a bound, and the server answers normally afterwards;
- every case of the shared ``validation_cases.json`` whose request one of the suite's
  methods takes: INVALID_ARGUMENT with a BadRequest naming each field;
- idempotency as each method's ``idempotency_level`` declares it (read from the
  descriptors): the same request twice gives the same answer;
- internal methods refuse a call without a caller credential (CALLER_CREDENTIAL_MISSING)
  and one with an unknown token (CALLER_CREDENTIAL_INVALID);
- at the end of the run, that every reason of the suite's package (and the common ones it
  names) was asserted by some case (:data:`pasar_conformance.answers.CHECKED_REASONS`), or
  was out of reach of a case that skipped saying why (``answers.skip_unreached``).

Usage, in a suite's ``test_common.py``::

    class TestCommon(CommonChecks):
        suite = PRODUCT_SUITE

The plugin (:mod:`pasar_conformance.plugin`) parametrises ``validation_case``,
``repeatable_method`` and ``internal_method`` from the class's suite.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import grpc
import pytest
from google.protobuf import descriptor_pb2, message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar_conformance import answers, contract
from pasar_conformance.plugin import PARTIAL_RUN
from pasar_conformance.target import CALLER_TOKEN, REQUEST_ID, Target
from pasar_conformance.validation import ValidationCase, validation_cases

HEALTH_SERVICE = "grpc.health.v1.Health"
# A call given this deadline reaches the server, which may still answer it in time: gRPC
# keeps deadlines in whole milliseconds, rounded up, so a shorter one (0.1 ms, even 0) is
# the same deadline, and a server answering from a cache beats it (measured: 0.4 ms).
SHORT_DEADLINE_SECONDS = 0.001
# A fast answer can beat such a deadline: the check tries this often before it concludes.
DEADLINE_ATTEMPTS = 20
# A deadline already past: the client ends the call without waiting for any server.
EXPIRED_DEADLINE_SECONDS = -1.0
# How long the client may take to give up on such a call before it counts as hanging.
DEADLINE_BOUND_SECONDS = 5.0

RequestFactory = Callable[[Target], message.Message]


@dataclass(frozen=True)
class Suite:
    """What the common checks need to know of one contract.

    package: the protobuf package (``pasar.product.v1``); its ErrorReason values must all
    be asserted by the suite, but those in out_of_reach (reason -> why a client cannot
    provoke it), plus the common reasons in also_checks.
    services: the full names of the services the implementation serves.
    probe: a read that any healthy server answers (method full name, request), called
    with the credentials a legitimate caller sends.
    heavy: a read that keeps the server busy for some milliseconds (a full page, say), for
    the deadline check: a client's deadline is only as fine as its clock (about a
    millisecond), so a call answered faster may still succeed; the probe when unset.
    requests: a valid request for methods the common checks call, by method full name;
    the factory may seed what the request needs (through the contracts). Every repeatable
    method and every internal method needs one.
    """

    package: str
    services: tuple[str, ...]
    probe: tuple[str, Callable[[], message.Message]]
    requests: Mapping[str, RequestFactory] = field(default_factory=dict)
    heavy: tuple[str, RequestFactory] | None = None
    out_of_reach: Mapping[str, str] = field(default_factory=dict)
    also_checks: tuple[str, ...] = ()

    def methods(self) -> list[contract.Method]:
        return contract.methods(self.services)

    def repeatable_methods(self) -> list[contract.Method]:
        return [m for m in self.methods() if m.repeatable and not m.server_streaming]

    def internal_methods(self) -> list[contract.Method]:
        return [m for m in self.methods() if m.internal]

    def validation_cases(self) -> list[ValidationCase]:
        """The shared cases whose request is the input of one of the suite's methods, with violations."""
        inputs = {m.descriptor.input_type.full_name for m in self.methods()}
        return [case for case in validation_cases() if case.message_name in inputs and case.violations]

    def method_taking(self, message_name: str) -> contract.Method:
        return next(m for m in self.methods() if m.descriptor.input_type.full_name == message_name)

    def expected_reasons(self) -> list[str]:
        """The reasons the suite must assert: its package's, but out_of_reach, and also_checks."""
        own = [r.name for r in contract.reasons_of(self.package) if r.name not in self.out_of_reach]
        return [*own, *self.also_checks]

    def request_for(self, target: Target, rpc: contract.Method) -> message.Message:
        factory = self.requests.get(rpc.full_name)
        if factory is None:
            pytest.fail(f"the suite has no valid request for {rpc.full_name} (Suite.requests)")
        return factory(target)


def _reflection(
    channel: grpc.Channel, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # its stubs lack the method
    responses: Iterator[reflection_pb2.ServerReflectionResponse] = stub.ServerReflectionInfo(
        iter([request]), timeout=10
    )
    return next(responses)


def reflected_services(channel: grpc.Channel) -> set[str]:
    """The services the server lists through server reflection."""
    response = _reflection(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    return {service.name for service in response.list_services_response.service}


def reflected_methods(channel: grpc.Channel, service_name: str) -> set[str]:
    """The method names of one service, from the file descriptors reflection serves for it."""
    response = _reflection(
        channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=service_name)
    )
    package, _, name = service_name.rpartition(".")
    for data in response.file_descriptor_response.file_descriptor_proto:
        file = descriptor_pb2.FileDescriptorProto.FromString(data)
        for service in file.service:
            if file.package == package and service.name == name:
                return {method.name for method in service.method}
    return set()


class CommonChecks:
    """The checks of every suite; a subclass named ``Test...`` sets ``suite``."""

    suite: ClassVar[Suite]

    def test_health_answers_serving_for_the_server_and_each_service(self, target: Target) -> None:
        stub: Any = health_pb2_grpc.HealthStub(target.channel)  # its stubs lack the Check attribute
        for name in ("", *self.suite.services):
            answer = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, f"health of {name!r}: {answer}"

    def test_reflection_lists_the_services_with_every_method_of_the_contracts(self, target: Target) -> None:
        listed = reflected_services(target.channel)
        missing = [name for name in (*self.suite.services, HEALTH_SERVICE) if name not in listed]
        assert not missing, f"reflection lists {sorted(listed)}, without {missing}"
        for name in self.suite.services:
            served = reflected_methods(target.channel, name)
            expected = {m.name for m in contract.methods([name])}
            assert expected <= served, f"{name} lacks {sorted(expected - served)} (older contracts?)"
            if served - expected:
                warnings.warn(
                    f"{name} has methods the kit's contracts do not know: {sorted(served - expected)} "
                    "(newer contracts? use the kit of the target's contracts version)",
                    stacklevel=1,
                )

    def test_a_request_id_is_accepted(self, target: Target) -> None:
        name, request = self.suite.probe
        credentials = target.credentials_for(contract.method(name))
        target.call(name, request(), metadata=(*credentials, (REQUEST_ID, target.run.new("request"))))

    def test_a_short_deadline_ends_in_deadline_exceeded_and_never_hangs(self, target: Target) -> None:
        name, request = self.suite.heavy or (self.suite.probe[0], lambda _target: self.suite.probe[1]())
        heavy_request = request(target)
        codes = []
        # The short deadlines reach the server, and each must end in time, as OK or
        # DEADLINE_EXCEEDED; a server faster than all of them still meets the last one.
        deadlines = [SHORT_DEADLINE_SECONDS] * DEADLINE_ATTEMPTS + [EXPIRED_DEADLINE_SECONDS]
        for deadline in deadlines:
            started = time.monotonic()
            try:
                target.call(name, heavy_request, timeout=deadline)
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.append(answers.code_of(error))
            elapsed = time.monotonic() - started
            if codes[-1] == grpc.StatusCode.CANCELLED and elapsed >= deadline:
                # A server that sees the deadline pass first resets the stream (RST_STREAM
                # CANCEL), which this client reports as CANCELLED: gRPC's HTTP/2 protocol has
                # clients double-check their own deadline then, as grpc-go's does.
                codes[-1] = grpc.StatusCode.DEADLINE_EXCEEDED
            assert elapsed < DEADLINE_BOUND_SECONDS, f"a call with a short deadline took {elapsed:.1f}s"
            if codes[-1] == grpc.StatusCode.DEADLINE_EXCEEDED:
                break
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}, codes
        assert codes[-1] == grpc.StatusCode.DEADLINE_EXCEEDED, f"{name} with short deadlines: {codes}"
        target.call(name, heavy_request)  # and the server answers normally afterwards

    def test_a_request_breaking_the_rules_names_the_field(
        self, target: Target, validation_case: ValidationCase
    ) -> None:
        rpc = self.suite.method_taking(validation_case.message_name)
        answers.expect_invalid_argument(
            lambda: target.call(rpc.full_name, validation_case.request()), *validation_case.fields
        )

    def test_a_repeat_returns_the_same_answer(
        self, target: Target, repeatable_method: contract.Method
    ) -> None:
        """idempotency_level NO_SIDE_EFFECTS or IDEMPOTENT: the same request twice, the same answer."""
        request = self.suite.request_for(target, repeatable_method)
        first = target.call(repeatable_method.full_name, request)
        again = target.call(repeatable_method.full_name, request)
        assert again == first, f"a repeat of {repeatable_method.name} answered\n{again}\nafter\n{first}"

    def test_an_internal_method_refuses_callers_without_a_credential(
        self, target: Target, internal_method: contract.Method
    ) -> None:
        request = self.suite.request_for(target, internal_method)
        answers.expect_reason(
            lambda: target.call(internal_method.full_name, request, metadata=()),
            CommonReason.Name(CommonReason.CALLER_CREDENTIAL_MISSING),
        )
        answers.expect_reason(
            lambda: target.call(
                internal_method.full_name, request, metadata=((CALLER_TOKEN, target.run.new("not-a-token")),)
            ),
            CommonReason.Name(CommonReason.CALLER_CREDENTIAL_INVALID),
        )

    @pytest.mark.conformance_last
    def test_every_reason_of_the_contract_was_checked(self, request: pytest.FixtureRequest) -> None:
        if request.config.stash.get(PARTIAL_RUN, False):
            pytest.skip("only part of the suite ran")
        unchecked = [
            name
            for name in self.suite.expected_reasons()
            if name not in answers.CHECKED_REASONS and name not in answers.UNREACHED_REASONS
        ]
        assert not unchecked, f"no case of the suite asserted {unchecked}"
