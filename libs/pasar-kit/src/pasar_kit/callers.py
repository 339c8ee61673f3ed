"""Who may call a service's internal methods, and how a caller proves who it is.

A contract method without a ``google.api.http`` annotation is internal (contracts/README.md):
the gateway never exposes it, and only the services that call it may. Which methods those
are is read from the descriptors of the services a server hosts, never listed by hand.

A caller's identity comes from one of two places:

- with mutual TLS (the server has ``PASAR_TLS_CLIENT_CA``), its client certificate: the
  DNS names of its subjectAltName, or its common name when it has none
  (``docker/certs/make-dev-certs`` issues ``order-client.crt`` with both set to ``order``);
- without it, a per-caller secret in the ``x-pasar-caller-token`` metadata: the order
  service sends ``PASAR_ORDER_CALLER_TOKEN``, and the services it calls know the same
  secret under the same name. ``authorization`` stays the administrator's.

A server accepts the identities its setting names (``PASAR_INTERNAL_CALLERS``, each
service's default in its config). A call without a credential, or with one the server
does not know, is UNAUTHENTICATED; a known caller that is not accepted is
PERMISSION_DENIED. Public methods, admin methods (they have their own token), health and
reflection are not concerned.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar_kit.config import ConfigError, Env
from pasar_kit.errors import PermissionDenied, ServiceError, Unauthenticated

if TYPE_CHECKING:
    from pasar_kit.server import ServerSettings

log = logging.getLogger("pasar.callers")

CALLER_TOKEN_METADATA = "x-pasar-caller-token"  # noqa: S105 - a metadata key, not a secret
INTERNAL_CALLERS_VARIABLE = "PASAR_INTERNAL_CALLERS"
# The google.api.http option (typed loosely: its stubs do not type extensions of MethodOptions).
HTTP_OPTION: Any = annotations_pb2.http
CALLER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def internal_methods(services: Iterable[descriptor.ServiceDescriptor]) -> frozenset[str]:
    """The ``/package.Service/Method`` paths of the methods without an HTTP annotation."""
    return frozenset(
        f"/{service.full_name}/{method.name}"
        for service in services
        for method in service.methods
        if not method.GetOptions().HasExtension(HTTP_OPTION)
    )


def caller_token(env: Env, caller: str) -> str:
    """caller's secret, PASAR_<CALLER>_CALLER_TOKEN: for it to send and the services it calls to check."""
    # The name is spelled out in the call, so that a reader (and docker/tests' scan of what
    # each component reads) finds it.
    return env.secret(
        f"PASAR_{caller.upper().replace('-', '_')}_CALLER_TOKEN", development_caller_token(caller)
    )


def development_caller_token(caller: str) -> str:
    """caller's secret in development (Env.secret refuses it in production)."""
    return f"dev-{caller}-caller-token"


def caller_token_from_env(env: Env, caller: str, *, client_certificate: bool) -> str | None:
    """The secret caller sends, or None when it has a client certificate (PASAR_TLS_CLIENT_CERT)
    that says who it is."""
    if client_certificate:
        return None
    return caller_token(env, caller)


@dataclass(frozen=True)
class InternalCallers:
    """The callers a server accepts on its internal methods, and how it recognises them.

    accepted: the identities let in. tokens: the secret of each caller the server can
    recognise by token (identity -> secret); empty with mutual TLS, where the client
    certificate is the credential.
    """

    accepted: frozenset[str] = frozenset()
    tokens: Mapping[str, str] = field(default_factory=dict)
    mutual_tls: bool = False

    @classmethod
    def from_env(cls, env: Env, default_callers: Sequence[str], *, mutual_tls: bool) -> InternalCallers:
        """PASAR_INTERNAL_CALLERS (comma-separated names, default default_callers) and,
        without mutual TLS, each one's PASAR_<NAME>_CALLER_TOKEN."""
        raw = env.string(INTERNAL_CALLERS_VARIABLE, ",".join(default_callers))
        names = [name.strip() for name in raw.split(",") if name.strip()]
        for name in names:
            if not CALLER_NAME.match(name):
                raise ConfigError(
                    f"{INTERNAL_CALLERS_VARIABLE} must list caller names such as 'order', not {name!r}"
                )
        tokens = {} if mutual_tls else {name: caller_token(env, name) for name in names}
        return cls(frozenset(names), tokens, mutual_tls)

    @classmethod
    def for_server(cls, env: Env, server: ServerSettings, default_callers: Sequence[str]) -> InternalCallers:
        """from_env, with mutual TLS when the server asks its clients for certificates."""
        mutual_tls = server.tls is not None and server.tls.client_ca_file is not None
        return cls.from_env(env, default_callers, mutual_tls=mutual_tls)

    def identify(self, context: grpc.ServicerContext) -> str:
        """The accepted identity of the caller; raises the refusal otherwise."""
        if self.mutual_tls:
            names = certificate_names(context.auth_context())
            if not names:
                raise Unauthenticated(
                    "this method needs a client certificate",
                    reason=ErrorReason.Name(ErrorReason.CALLER_UNAUTHENTICATED),
                )
        else:
            token = _metadata_value(context.invocation_metadata(), CALLER_TOKEN_METADATA)
            if token is None:
                raise Unauthenticated(
                    "this method is internal: the caller's credential is missing",
                    reason=ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_MISSING),
                )
            names = [name for name, secret in self.tokens.items() if _same(token, secret)]
            if not names:
                raise Unauthenticated(
                    "this method is internal: the caller's credential is not valid",
                    reason=ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_INVALID),
                )
        for name in names:
            if name in self.accepted:
                return name
        raise PermissionDenied(
            f"{names[0]!r} may not call this method",
            reason=ErrorReason.Name(ErrorReason.CALLER_NOT_ALLOWED),
            metadata={"caller": names[0]},
        )


def certificate_names(auth_context: Mapping[str, Any]) -> list[str]:
    """The names a verified client certificate gives: its subjectAltNames, else its common name."""
    # grpc's stubs type the values as bytes; they are lists of bytes.
    values = auth_context.get("x509_subject_alternative_name") or auth_context.get("x509_common_name") or []
    return [value.decode(errors="replace") if isinstance(value, bytes) else str(value) for value in values]


def _same(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode(), secret.encode())


def _metadata_value(metadata: Sequence[tuple[str, str | bytes]] | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key and isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class CallerGate:
    """What the call pipeline asks before an internal method runs."""

    methods: frozenset[str]
    callers: InternalCallers

    def check(self, method: str, context: grpc.ServicerContext) -> None:
        """Raises the refusal (and logs it, without the credential) when the caller may not call method."""
        if method not in self.methods:
            return
        try:
            self.callers.identify(context)
        except ServiceError as refusal:
            log.warning(
                "internal call refused",
                extra={"method": method, "peer": context.peer(), "reason": refusal.reason},
            )
            raise
