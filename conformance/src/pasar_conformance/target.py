"""The implementation under test: an address, the credentials to call it, and a run's ids.

A suite talks to its target through :class:`Target` alone. Every id a suite creates comes
from :class:`RunIds`, unique to the run, so a suite runs against a fresh service or a
populated one (even one serving shoppers) without colliding with what is there.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import grpc
from google.protobuf import message

from pasar_conformance.contract import Method, method

# The metadata keys of the contracts (contracts/README.md): the administrator's bearer
# token, an internal caller's secret, and the request id that travels across services.
AUTHORIZATION = "authorization"
CALLER_TOKEN = "x-pasar-caller-token"  # noqa: S105 - a metadata key, not a secret
REQUEST_ID = "x-request-id"
# What the Python services accept in development (never in production).
DEVELOPMENT_ADMIN_TOKEN = "dev-admin-token"  # noqa: S105 - the published development default
DEVELOPMENT_CALLER_TOKEN = "dev-order-caller-token"  # noqa: S105 - the published development default
# The payment provider's HMAC secret that signs notifications (NotifyPayment), in development.
DEVELOPMENT_WEBHOOK_SECRET = "dev-webhook-secret"  # noqa: S105 - the published development default
# The biller's HMAC secret that signs fulfillment notifications (NotifyFulfillment), in development.
DEVELOPMENT_BILLER_WEBHOOK_SECRET = "dev-biller-webhook-secret"  # noqa: S105 - the published development default
# How long one call of a suite may take before it counts as hanging.
CALL_TIMEOUT_SECONDS = 10.0

# As grpc's stubs type the metadata of a call.
Metadata = tuple[tuple[str, str | bytes], ...]


class RunIds:
    """Ids unique to one run: ``cf<8 hex>-<what>-<n>``, valid for every id pattern of the
    contracts (lower-case letters, digits, single hyphens; at most 63 characters)."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"cf{secrets.token_hex(4)}"
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, what: str) -> str:
        """A new id, such as ``cf1a2b3c4d-product-7``."""
        with self._lock:
            number = next(self._counter)
        return f"{self.prefix}-{what}-{number}"


@dataclass(eq=False)
class Target:
    """A service under test, reached over one plaintext channel.

    webhook_secret: the secret that signs the notifications a suite sends (the payment
    provider's, the biller's).
    admin_services: the services whose calls carry the administrator's token (the
    contracts' ``*AdminService``); internal methods carry the caller token.
    """

    address: str
    admin_token: str = DEVELOPMENT_ADMIN_TOKEN
    caller_token: str = DEVELOPMENT_CALLER_TOKEN
    webhook_secret: str = DEVELOPMENT_WEBHOOK_SECRET
    run: RunIds = field(default_factory=RunIds)
    channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(self.address)

    def close(self) -> None:
        self.channel.close()

    @property
    def admin_metadata(self) -> Metadata:
        return ((AUTHORIZATION, f"Bearer {self.admin_token}"),)

    @property
    def caller_metadata(self) -> Metadata:
        return ((CALLER_TOKEN, self.caller_token),)

    def credentials_for(self, rpc: Method) -> Metadata:
        """The metadata a legitimate caller of rpc sends: the admin token to an admin
        service, the caller token to an internal method, nothing otherwise."""
        if rpc.service.endswith("AdminService"):
            return self.admin_metadata
        if rpc.internal:
            return self.caller_metadata
        return ()

    def call(
        self,
        full_name: str,
        request: message.Message,
        *,
        metadata: Metadata | None = None,
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> message.Message:
        """Calls a method by ``package.Service/Method`` with its request, as a legitimate
        caller (credentials_for) unless metadata is given, and returns its answer (of a
        server-streaming method: its first message, the stream then cancelled)."""
        rpc = method(full_name)
        if rpc.server_streaming:
            messages = self.stream(full_name, request, metadata=metadata, timeout=timeout)
            try:
                return next(iter(messages))
            finally:
                messages.cancel()
        callable_: grpc.UnaryUnaryMultiCallable[message.Message, message.Message] = self.channel.unary_unary(
            rpc.path,
            request_serializer=_serialize,
            response_deserializer=rpc.response_class.FromString,
        )
        sent = self.credentials_for(rpc) if metadata is None else metadata
        response: message.Message = callable_(request, metadata=sent, timeout=timeout)
        return response

    def stream(
        self,
        full_name: str,
        request: message.Message,
        *,
        metadata: Metadata | None = None,
        timeout: float | None = CALL_TIMEOUT_SECONDS,
    ) -> Stream:
        """Opens a server-streaming method: iterate the answer for its messages, cancel() it
        to end it early (its status is read with .code() once it ended)."""
        rpc = method(full_name)
        callable_: grpc.UnaryStreamMultiCallable[message.Message, message.Message] = (
            self.channel.unary_stream(
                rpc.path,
                request_serializer=_serialize,
                response_deserializer=rpc.response_class.FromString,
            )
        )
        sent = self.credentials_for(rpc) if metadata is None else metadata
        return cast(Stream, callable_(request, metadata=sent, timeout=timeout))


class Stream(grpc.Call, Iterator[message.Message]):
    """A server-streaming call as grpc returns it: an iterator of messages that is also its
    Call (a type for the checker: grpc's stubs do not name it)."""


def _serialize(request: message.Message) -> bytes:
    return request.SerializeToString()
