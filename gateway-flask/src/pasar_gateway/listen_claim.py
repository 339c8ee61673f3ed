"""Claims a TCP address for one process and its deliberate ``SO_REUSEPORT`` siblings only.

gunicorn's workers (like gRPC's server) bind their listening sockets with
``SO_REUSEPORT``, which lets any other process of the same user bind the same port and
take a share of the connections: a second gateway started by mistake booted beside the
first without a word. :func:`claim_address` binds the address once *without*
``SO_REUSEPORT``, which fails whenever anyone already holds it, and then keeps that socket
bound (never listening, so it receives no connections) with ``SO_REUSEPORT`` turned on,
so that the process's own listeners can join it afterwards. Holding the claim leaves no
moment between the check and the listeners' bind for another process to slip in, and a
second process making the same claim fails. ``SO_REUSEADDR`` keeps connections of a
previous run in TIME_WAIT from failing the check.
"""

from __future__ import annotations

import errno
import socket


class AddressInUse(Exception):
    """The address is held by another process (or cannot be bound here)."""


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` as bind() takes it; ValueError when it is not one."""
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{address!r} is not host:port with a port from 1 to 65535")
    return host, int(port_text)


def claim_address(address: str) -> socket.socket:
    """A bound socket holding address until it is closed; AddressInUse when it is taken."""
    host, port = split_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    claim = socket.socket(family, socket.SOCK_STREAM)
    try:
        claim.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        claim.bind((host, port))
        claim.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError as error:
        claim.close()
        if error.errno == errno.EADDRINUSE:
            raise AddressInUse(f"{address} is already in use by another process") from None
        raise AddressInUse(f"{address} cannot be listened on: {error.strerror or error}") from None
    except socket.gaierror as error:  # pragma: no cover - a subclass of OSError, kept explicit
        claim.close()
        raise AddressInUse(f"{address} cannot be listened on: {error}") from None
    return claim
