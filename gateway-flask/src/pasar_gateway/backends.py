"""The services behind the gateway: one long-lived channel, deadline and breaker each.

A :class:`Backend` is made once per application (never per request) for each service
process the routes name (``product``, ``payment``, ``order``). Its channel comes from
:func:`pasar_kit.channels.open_channel`, so a target naming several instances is balanced
with gRPC's round robin and the request id travels as ``x-request-id`` metadata; the
methods the contracts declare safe to repeat (idempotency_level NO_SIDE_EFFECTS or
IDEMPOTENT, pasar_kit.idempotency) are retried on UNAVAILABLE and ABORTED, whatever their
HTTP verb. Calls use the generated client stubs of the contracts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import grpc
from google.protobuf import message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from pasar_gateway.bindings import HttpBinding, stub_class
from pasar_gateway.breaker import BreakerState, CircuitBreaker, CircuitOpen
from pasar_gateway.errors import dependency_unavailable, from_rpc_error
from pasar_gateway.settings import BackendSettings, GatewaySettings
from pasar_kit.channels import open_channel
from pasar_kit.idempotency import repeatable_methods

log = logging.getLogger(__name__)

HEALTH_STATUS_NAMES = {
    value.number: value.name for value in health_pb2.HealthCheckResponse.ServingStatus.DESCRIPTOR.values
}


@dataclass(frozen=True)
class Health:
    """What a backend's gRPC health service says (or why it could not be asked)."""

    status: str
    detail: str = ""

    @property
    def serving(self) -> bool:
        return self.status == "SERVING"


class PendingHealth:
    """Health checks in flight to one backend."""

    def __init__(self, calls: Sequence[tuple[str, Any]]) -> None:
        self.calls = calls

    def result(self) -> Health:
        for name, call in self.calls:
            try:
                status = HEALTH_STATUS_NAMES.get(call.result().status, "UNKNOWN")
            except grpc.RpcError as error:
                code: grpc.StatusCode = error.code()
                if code == grpc.StatusCode.NOT_FOUND:
                    return Health("SERVICE_UNKNOWN", f"{name} is not served there")
                return Health("UNREACHABLE", code.name)
            if status != "SERVING":
                return Health(status, name)
        return Health("SERVING")


class Backend:
    """One service: its channel, stubs, deadline and circuit breaker."""

    def __init__(
        self,
        settings: BackendSettings,
        gateway: GatewaySettings,
        bindings: Sequence[HttpBinding],
        *,
        on_breaker_change: Callable[[str, BreakerState], None] | None = None,
        on_failure: Callable[[str, grpc.StatusCode], None] | None = None,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.service_names = sorted({binding.service.full_name for binding in bindings})
        services = {binding.service.full_name: binding.service for binding in bindings}
        self.channel = open_channel(
            settings.target,
            default_timeout=settings.deadline_seconds,
            idempotent_methods=repeatable_methods(*services.values()),
            tls=gateway.tls,
        )
        stubs = {b.service.full_name: stub_class(b.service)(self.channel) for b in bindings}
        self._methods: dict[str, Any] = {
            b.method.full_name: getattr(stubs[b.service.full_name], b.method.name) for b in bindings
        }
        # The same methods on the same channel, answering the response's serialized bytes
        # unparsed (for the rendered-responses memo, pasar_gateway.rendered_responses).
        self._serialized_methods: dict[str, Any] = {
            b.method.full_name: self.channel.unary_unary(
                f"/{b.service.full_name}/{b.method.name}",
                request_serializer=_serialize,
                response_deserializer=None,
            )
            for b in bindings
        }
        self._health: Any = health_pb2_grpc.HealthStub(self.channel)  # its stubs lack Check
        # The channel's state, kept up to date by gRPC (which also connects at once).
        self.connectivity = grpc.ChannelConnectivity.IDLE
        self.channel.subscribe(self._connectivity_changed, try_to_connect=True)
        self._on_failure = on_failure
        self.breaker = CircuitBreaker(
            gateway.breaker_failures,
            gateway.breaker_reset_seconds,
            on_change=(lambda state: on_breaker_change(self.name, state)) if on_breaker_change else None,
        )
        if on_breaker_change is not None:
            on_breaker_change(self.name, BreakerState.CLOSED)

    def call(
        self, binding: HttpBinding, request: message.Message, metadata: Sequence[tuple[str, str]] = ()
    ) -> message.Message:
        """Calls the binding's RPC; ApiError (in the error shape's terms) when it fails."""
        response: message.Message = self._call(self._methods, binding, request, metadata)
        return response

    def call_serialized(
        self, binding: HttpBinding, request: message.Message, metadata: Sequence[tuple[str, str]] = ()
    ) -> bytes:
        """As call, but answers the response's serialized bytes, unparsed."""
        answer: bytes = self._call(self._serialized_methods, binding, request, metadata)
        return answer

    def _call(
        self,
        methods: Mapping[str, Any],
        binding: HttpBinding,
        request: message.Message,
        metadata: Sequence[tuple[str, str]],
    ) -> Any:
        try:
            self.breaker.before_call()
        except CircuitOpen as refused:
            retry_after = max(1, round(refused.retry_after + 0.5))
            raise dependency_unavailable(
                binding.service.full_name,
                f"the {self.name} service is unavailable; try again in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            ) from None
        try:
            response = methods[binding.method.full_name](
                request, timeout=self.settings.deadline_seconds, metadata=tuple(metadata) or None
            )
        except grpc.RpcError as error:
            answered = self._record(error)
            raise from_rpc_error(
                error, self.name, answered=answered, service_name=binding.service.full_name, request=request
            ) from None
        except BaseException:
            self.breaker.release_probe()
            raise
        self.breaker.record_success()
        return response

    def _record(self, error: grpc.RpcError) -> bool:
        """Tells the breaker whether the service failed; returns whether it answered at all.

        A service that answers, even UNAVAILABLE because a service behind it is down, is up:
        only a service gRPC cannot reach or one that misses its deadline counts as failing.
        Otherwise the order service's breaker would open when the catalog is down, and take
        the order routes that do not need it down too. Pasar's services attach ErrorInfo to
        every status they send (pasar_kit's pipeline), while a transport failure has no
        details; the channel's state, reported asynchronously, can lag behind a crash.
        """
        code: grpc.StatusCode = error.code()
        if self._on_failure is not None:
            self._on_failure(self.name, code)
        answered = code != grpc.StatusCode.UNAVAILABLE or _sent_by_the_service(error)
        if not answered or code == grpc.StatusCode.DEADLINE_EXCEEDED:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return answered

    def _connectivity_changed(self, state: grpc.ChannelConnectivity) -> None:
        self.connectivity = state

    def start_health_check(self, timeout: float) -> PendingHealth:
        """Asks the backend's grpc.health.v1 about every service the gateway routes to it.

        The questions go out at once; :meth:`PendingHealth.result` waits for the answers, so
        that checking every backend takes as long as the slowest, not the sum. The checks
        make no spans (pasar_kit.telemetry.instrument_channel leaves health checks untraced).
        """
        return PendingHealth(
            [
                (
                    name,
                    self._health.Check.future(health_pb2.HealthCheckRequest(service=name), timeout=timeout),
                )
                for name in self.service_names
            ]
        )

    def close(self) -> None:
        self.channel.unsubscribe(self._connectivity_changed)
        self.channel.close()


def open_backends(
    gateway: GatewaySettings,
    bindings: Sequence[HttpBinding],
    *,
    on_breaker_change: Callable[[str, BreakerState], None] | None = None,
    on_failure: Callable[[str, grpc.StatusCode], None] | None = None,
) -> Mapping[str, Backend]:
    """One Backend per service process the bindings name."""
    backends = {}
    for name, settings in gateway.backends.items():
        owned = [binding for binding in bindings if binding.backend == name]
        backends[name] = Backend(
            settings, gateway, owned, on_breaker_change=on_breaker_change, on_failure=on_failure
        )
    return backends


def _serialize(request: message.Message) -> bytes:
    return request.SerializeToString()


def _sent_by_the_service(error: grpc.RpcError) -> bool:
    """Whether the status came from the service itself: it carries status details."""
    return rpc_status.from_call(cast(grpc.Call, error)) is not None
