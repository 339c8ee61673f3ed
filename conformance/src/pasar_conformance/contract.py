"""What the contracts promise, read from their descriptors: never a hand-written list.

Everything a suite judges by comes from ``pasar_contracts`` (the descriptor set with
source comments, and the generated modules):

- :func:`reasons`: every ``ErrorReason`` value of every package, with the status code
  and the ``ErrorInfo.metadata`` keys its comment names (a name two packages define, such
  as ``BAD_SIGNATURE``, once per package). The comment's first paragraph
  reads ``CODE: when it is sent. Metadata: keys.`` (or ``No metadata.``), a shape that
  ``scripts/contracts check`` enforces; the keys are the lower-case identifiers quoted
  in backticks after ``Metadata:``.
- :func:`method`: a method by its full name (``pasar.product.v1.ProductService/GetProduct``),
  with its request and response classes, its ``idempotency_level`` and whether it is
  internal (no ``google.api.http`` route: only accepted callers may call it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message, message_factory

import pasar_contracts

# Importing the service modules registers every contract file in the default pool.
from pasar.fulfillment.v1 import fulfillment_service_pb2  # noqa: F401
from pasar.order.v1 import order_service_pb2  # noqa: F401
from pasar.payment.v1 import payment_service_pb2  # noqa: F401
from pasar.product.v1 import product_admin_service_pb2, product_service_pb2  # noqa: F401
from pasar_contracts.error_reasons import ReasonCommentError, documented_reasons

ERROR_DOMAIN = "pasar.shop"
# The google.api.http option (typed loosely: its stubs do not type extensions of MethodOptions).
_HTTP_OPTION: Any = annotations_pb2.http
IDEMPOTENT = descriptor_pb2.MethodOptions.IDEMPOTENT
NO_SIDE_EFFECTS = descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS


class ContractError(Exception):
    """The contracts do not say what the kit needs (a reason comment out of shape, an unknown name)."""


@dataclass(frozen=True)
class Reason:
    """One ErrorReason value: its wire name, its package, its status code and metadata keys."""

    name: str
    package: str
    code: grpc.StatusCode
    metadata_keys: frozenset[str]


@cache
def reasons() -> dict[str, tuple[Reason, ...]]:
    """Every ErrorReason value of the contracts but the zero ones, by wire name: one Reason
    per package that defines the name (``BAD_SIGNATURE`` is both the payment provider's,
    with ``provider``, and the biller's, with ``biller``)."""
    found: dict[str, tuple[Reason, ...]] = {}
    try:
        documented = documented_reasons(pasar_contracts.file_descriptor_set())
    except ReasonCommentError as error:
        raise ContractError(str(error)) from None
    for documented_reason in documented:
        if documented_reason.code not in grpc.StatusCode.__members__:
            raise ContractError(
                f"{documented_reason.package}.{documented_reason.name}: "
                f"{documented_reason.code!r} is not a status code"
            )
        found[documented_reason.name] = (
            *found.get(documented_reason.name, ()),
            Reason(
                documented_reason.name,
                documented_reason.package,
                grpc.StatusCode[documented_reason.code],
                documented_reason.metadata_keys,
            ),
        )
    return found


def reasons_named(name: str, package: str | None = None) -> tuple[Reason, ...]:
    """The reasons with this wire name (of package, when given): one, or one per package
    that defines the name."""
    named = tuple(r for r in reasons().get(name, ()) if package is None or r.package == package)
    if not named:
        where = f" in {package}" if package else ""
        raise ContractError(f"no ErrorReason of the contracts{where} is named {name!r}")
    return named


def reason(name: str, package: str | None = None) -> Reason:
    """The reason with this wire name (``ErrorReason.Name(ErrorReason.OUT_OF_STOCK)``); a
    name that more than one package defines needs the package."""
    named = reasons_named(name, package)
    if len(named) > 1:
        packages = ", ".join(r.package for r in named)
        raise ContractError(f"{name} is a reason of {packages}: name the package")
    return named[0]


def reasons_of(package: str) -> list[Reason]:
    """The reasons a package defines (``pasar.product.v1``), in the enum's order."""
    return [r for named in reasons().values() for r in named if r.package == package]


@dataclass(frozen=True)
class Method:
    """One RPC of the contracts."""

    descriptor: descriptor.MethodDescriptor

    @property
    def full_name(self) -> str:
        """``pasar.product.v1.ProductService/GetProduct``."""
        return f"{self.descriptor.containing_service.full_name}/{self.descriptor.name}"

    @property
    def path(self) -> str:
        """The HTTP/2 path gRPC calls: ``/pasar.product.v1.ProductService/GetProduct``."""
        return f"/{self.full_name}"

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def service(self) -> str:
        return self.descriptor.containing_service.full_name

    @property
    def internal(self) -> bool:
        """No HTTP route: only the callers the service accepts may call it."""
        return not self.descriptor.GetOptions().HasExtension(_HTTP_OPTION)

    @property
    def idempotency_level(self) -> int:
        """``descriptor_pb2.MethodOptions.IdempotencyLevel``: NO_SIDE_EFFECTS, IDEMPOTENT or unknown."""
        return self.descriptor.GetOptions().idempotency_level

    @property
    def repeatable(self) -> bool:
        """A repeat of the same request is safe and returns the same answer."""
        return self.idempotency_level in (IDEMPOTENT, NO_SIDE_EFFECTS)

    @property
    def server_streaming(self) -> bool:
        return self.descriptor.server_streaming

    @property
    def request_class(self) -> type[message.Message]:
        return message_factory.GetMessageClass(self.descriptor.input_type)

    @property
    def response_class(self) -> type[message.Message]:
        return message_factory.GetMessageClass(self.descriptor.output_type)


def service(full_name: str) -> descriptor.ServiceDescriptor:
    """A contract service by its full name (``pasar.product.v1.ProductService``)."""
    try:
        return descriptor_pool.Default().FindServiceByName(full_name)
    except KeyError:
        raise ContractError(f"the contracts have no service {full_name!r}") from None


def methods(services: Iterable[str]) -> list[Method]:
    """Every method of the named services, in the contract's order."""
    return [Method(m) for name in services for m in service(name).methods]


def method(full_name: str) -> Method:
    """A method by ``package.Service/Method``."""
    service_name, _, method_name = full_name.partition("/")
    found = service(service_name).methods_by_name.get(method_name)
    if found is None:
        raise ContractError(f"{service_name} has no method {method_name!r}")
    return Method(found)


def message_class(full_name: str) -> type[message.Message]:
    """The generated class of a contract message (``pasar.product.v1.GetProductRequest``)."""
    try:
        return message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(full_name))
    except KeyError:
        raise ContractError(f"the contracts have no message {full_name!r}") from None
