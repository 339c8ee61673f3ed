"""Which calls are safe to repeat or to answer from a cache, as the contracts declare it.

Every method of the contracts states it with protobuf's standard ``idempotency_level``
option: ``NO_SIDE_EFFECTS`` (a read), ``IDEMPOTENT`` (a write that a repeat changes no
further, keyed by an id the caller chose) or nothing. Clients read it from the generated
descriptors, so that no service keeps its own list of the methods it may retry.
"""

from __future__ import annotations

from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.descriptor_pb2 import MethodOptions

# The levels whose methods may be called again after a failure whose outcome is unknown.
REPEATABLE_LEVELS = frozenset({MethodOptions.IDEMPOTENT, MethodOptions.NO_SIDE_EFFECTS})


def idempotency_level(method: MethodDescriptor) -> MethodOptions.IdempotencyLevel.ValueType:
    """The method's declared level; IDEMPOTENCY_UNKNOWN when it declares none."""
    options = method.GetOptions()
    assert isinstance(options, MethodOptions)
    return options.idempotency_level


def has_no_side_effects(method: MethodDescriptor) -> bool:
    """True for a declared read: its answer may be served again without calling it."""
    return idempotency_level(method) == MethodOptions.NO_SIDE_EFFECTS


def repeatable_methods(*services: ServiceDescriptor) -> list[tuple[str, str]]:
    """The (service full name, method name) pairs of the services' unary methods that are
    safe to repeat (IDEMPOTENT or NO_SIDE_EFFECTS), in the form pasar_kit.channels' retries
    take.

    Streams are left out although a read: their consumers reconnect and resume from their
    own cursor, while gRPC would repeat a stream that has sent nothing yet (a Python server
    sends its headers with the first message), so an idle stream is never committed and a
    restart of the server is retried underneath the consumer's own reconnecting (with it,
    the order service's catch-up-after-an-outage test failed once in 30 runs under load).
    """
    return [
        (service.full_name, method.name)
        for service in services
        for method in service.methods
        if idempotency_level(method) in REPEATABLE_LEVELS
        and not (method.client_streaming or method.server_streaming)
    ]
