"""Long-lived channels to other services, opened once per process and peer.

A target may name several instances (``ipv4:127.0.0.1:50051,127.0.0.1:50061``, or a DNS
name with several addresses, ``dns:///product:50051``); calls are balanced across them with
gRPC's own ``round_robin`` policy, which skips an instance that is down. Every call gets a
deadline (the caller's, or the channel's default) and the current request id as
``x-request-id`` metadata. Calls to methods listed as idempotent are retried by gRPC itself,
with backoff, on UNAVAILABLE (the instance could not take the call) and on ABORTED (the
service's answer to contention, CONTENTION: the contract says a retry succeeds); others are
never retried. When tracing is on, each call is a client span whose W3C ``traceparent``
travels in the metadata (:func:`pasar_kit.telemetry.instrument_channel`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from pasar_kit.callers import CALLER_TOKEN_METADATA
from pasar_kit.config import ConfigError, Env
from pasar_kit.logs import REQUEST_ID_METADATA, request_id_var
from pasar_kit.telemetry import instrument_channel

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Reconnect quickly after a peer restarts, instead of gRPC's default of up to 2 minutes.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
    ("grpc.enable_retries", 1),
]


@dataclass(frozen=True)
class ClientTls:
    """Channel credentials from files: the CA that signed the servers' certificates and,
    for mutual TLS, this client's own certificate and key."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None

    @classmethod
    def from_env(cls, env: Env) -> ClientTls | None:
        """TLS when PASAR_TLS_CA is set, with this client's certificate when both
        PASAR_TLS_CLIENT_CERT and PASAR_TLS_CLIENT_KEY are. Half a configuration is an
        error, never a silent fall back to plain text or to a connection without the
        certificate a mutual-TLS server will ask for."""
        ca = env.optional("PASAR_TLS_CA")
        cert, key = env.optional("PASAR_TLS_CLIENT_CERT"), env.optional("PASAR_TLS_CLIENT_KEY")
        if not (ca or cert or key):
            return None
        if not ca:
            raise ConfigError("PASAR_TLS_CA must be set as well when a client certificate is set")
        if cert and not key:
            raise ConfigError("PASAR_TLS_CLIENT_KEY must be set as well when PASAR_TLS_CLIENT_CERT is set")
        if key and not cert:
            raise ConfigError("PASAR_TLS_CLIENT_CERT must be set as well when PASAR_TLS_CLIENT_KEY is set")
        return cls(
            _readable_file("PASAR_TLS_CA", ca),
            _readable_file("PASAR_TLS_CLIENT_CERT", cert) if cert else None,
            _readable_file("PASAR_TLS_CLIENT_KEY", key) if key else None,
        )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_file.read_bytes(),
            private_key=self.key_file.read_bytes() if self.key_file else None,
            certificate_chain=self.cert_file.read_bytes() if self.cert_file else None,
        )


def _readable_file(name: str, value: str) -> Path:
    path = Path(value)
    if not (path.is_file() and os.access(path, os.R_OK)):
        raise ConfigError(f"{name} must name a readable file, not {value!r}")
    return path


# The status codes after which repeating an idempotent call is worth it.
RETRYABLE_CODES = ("UNAVAILABLE", "ABORTED")


def service_config(idempotent_methods: Sequence[tuple[str, str]], attempts: int = 3) -> str:
    """The gRPC service config: round robin, and retries on RETRYABLE_CODES for the given
    (service full name, method) pairs, which must be safe to repeat."""
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}]}
    if idempotent_methods and attempts > 1:
        config["methodConfig"] = [
            {
                "name": [{"service": service, "method": method} for service, method in idempotent_methods],
                "retryPolicy": {
                    "maxAttempts": attempts,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": list(RETRYABLE_CODES),
                },
            }
        ]
    return json.dumps(config)


class CallDefaults(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds to every call the request id, the given metadata (a caller's credential, say)
    and, when the caller gave none and default_timeout is set, the default deadline."""

    def __init__(
        self, default_timeout: float | None = None, metadata: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.default_timeout = default_timeout
        self.metadata = tuple(metadata)
        self._fixed_keys = {key for key, _ in self.metadata}

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [entry for entry in details.metadata or () if entry[0] not in self._fixed_keys]
        metadata.extend(self.metadata)
        request_id = request_id_var.get()
        if request_id and not any(key == REQUEST_ID_METADATA for key, _ in metadata):
            metadata.append((REQUEST_ID_METADATA, request_id))
        return _ClientCallDetails(
            method=details.method,
            timeout=details.timeout if details.timeout is not None else self.default_timeout,
            metadata=tuple(metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
            compression=details.compression,
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)


@dataclass(frozen=True)
class _ClientCallDetails(grpc.ClientCallDetails):
    method: str
    timeout: float | None
    metadata: tuple[tuple[str, str | bytes], ...] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


def open_channel(
    target: str,
    *,
    default_timeout: float,
    idempotent_methods: Sequence[tuple[str, str]] = (),
    retry_attempts: int = 3,
    tls: ClientTls | None = None,
    caller_token: str | None = None,
) -> grpc.Channel:
    """A channel to target, to be kept for the life of the process.

    retry_attempts counts the first try: 1 turns retries off, for a caller (the gateway)
    that prefers answering at once to waiting out a peer's restart. caller_token: this
    caller's secret for the peers' internal methods (pasar_kit.callers), sent with every call.
    """
    options = [*CHANNEL_OPTIONS, ("grpc.service_config", service_config(idempotent_methods, retry_attempts))]
    if tls:
        channel = grpc.secure_channel(target, tls.credentials(), options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    credential = [(CALLER_TOKEN_METADATA, caller_token)] if caller_token else []
    return instrument_channel(grpc.intercept_channel(channel, CallDefaults(default_timeout, credential)))
