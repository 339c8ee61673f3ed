"""Listen addresses: checked as they are read, and refused at start when taken.

gRPC takes ``127.0.0.1:99999`` as port 34463, and with SO_REUSEPORT (grpcio's default)
binds a port another process listens on; its own error says only "Failed to bind" and
logs more lines of its own. These checks name the address and the cause in one line.

A server whose own processes share their port on purpose (gunicorn's workers, each on its
own ``SO_REUSEPORT`` socket) holds a claim instead (:func:`claim_address`): the address
bound once *without* ``SO_REUSEPORT``, which fails whenever anyone already holds it, then
kept bound (never listening, so it takes no connections) with ``SO_REUSEPORT`` turned on,
so that the process's own listeners can join it. Holding the claim leaves no moment
between the check and the listeners' bind for another process to slip in.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass

from pasar_kit.config import DEVELOPMENT, ConfigError, Env


class ListenError(Exception):
    """The server cannot listen on its address (taken, not local, refused); the message names it."""


@dataclass(frozen=True)
class ListenAddress:
    """host:port as gRPC takes it: an IPv4 address or host name, or [IPv6], and a port."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Raises ValueError saying what is wrong: gRPC itself would take port 99999 as 34463."""
        host, colon, port = text.rpartition(":")
        if not colon or not host:
            raise ValueError(f"must be host:port (as 127.0.0.1:50051 or [::]:50051), not {text!r}")
        if host.startswith("[") != host.endswith("]") or (":" in host and not host.startswith("[")):
            raise ValueError(f"must write an IPv6 host in brackets ([::1]:50051), not {text!r}")
        if not (port.isascii() and port.isdigit()) or int(port) > 65535:
            raise ValueError(f"must end with a port from 1 to 65535, not {text!r}")
        return cls(host, int(port))

    @property
    def bare_host(self) -> str:
        """The host without the brackets of an IPv6 address, as sockets take it."""
        return self.host[1:-1] if self.host.startswith("[") else self.host


def listen_address_from_env(env: Env, default: str) -> str:
    """PASAR_LISTEN_ADDRESS, checked as it is read.

    Port 0 (the system picks a free port) is how tests start servers in process; it is
    refused in production, where callers could never find the port.
    """
    value = env.string("PASAR_LISTEN_ADDRESS", default)
    try:
        address = ListenAddress.parse(value)
    except ValueError as error:
        raise ConfigError(f"PASAR_LISTEN_ADDRESS {error}") from None
    if address.port == 0 and env.environment != DEVELOPMENT:
        raise ConfigError(
            f"PASAR_LISTEN_ADDRESS must name a port from 1 to 65535 in production, not {value!r}"
        )
    return value


def claim_address(text: str) -> socket.socket:
    """A bound socket that holds text for this process and its SO_REUSEPORT siblings until
    it is closed; ListenError when another process holds it or it cannot be bound here."""
    address = _parsed(text)
    family = socket.AF_INET6 if ":" in address.bare_host else socket.AF_INET
    claim = socket.socket(family, socket.SOCK_STREAM)
    try:
        claim.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        claim.bind((address.bare_host, address.port))
        claim.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError as error:
        claim.close()
        raise _bind_failure(text, error) from None
    return claim


def claimed_address(text: str, claim: socket.socket) -> str:
    """text with the port claim holds: the one the system picked for port 0, which the
    process's own listeners must then bind (each would get a port of its own for 0)."""
    address = _parsed(text)
    return f"{address.host}:{claim.getsockname()[1]}" if address.port == 0 else text


def _parsed(text: str) -> ListenAddress:
    try:
        return ListenAddress.parse(text)
    except ValueError as error:
        raise ListenError(f"cannot listen on {text!r}: the address {error}") from None


def _bind_failure(text: str, error: OSError) -> ListenError:
    if error.errno == errno.EADDRINUSE:
        return ListenError(f"cannot listen on {text}: the address is already in use")
    reason = os.strerror(error.errno) if error.errno else str(error)
    return ListenError(f"cannot listen on {text}: {reason.lower()}")


def ensure_address_free(text: str) -> None:
    """Raises ListenError if any address text resolves to cannot be bound by this process.

    gRPC would log its own multi-line error and say only "Failed to bind"; a plain socket
    tells why (in use, not an address of this machine, a privileged port). SO_REUSEADDR, as
    gRPC sets it, keeps a port whose old connections linger in TIME_WAIT usable.
    """
    address = _parsed(text)
    if address.port == 0:
        return
    try:
        candidates = socket.getaddrinfo(
            address.bare_host, address.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise ListenError(
            f"cannot listen on {text}: {address.host} does not resolve ({error.strerror})"
        ) from None
    failures: list[OSError] = []
    for family, kind, protocol, _, socket_address in candidates:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(socket_address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise _bind_failure(text, error) from None
                failures.append(error)
    if len(failures) == len(candidates):
        raise _bind_failure(text, failures[0])
