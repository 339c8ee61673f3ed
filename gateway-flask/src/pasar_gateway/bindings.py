"""The routing table, read from the contracts' ``google.api.http`` annotations.

Every method of a service in the generated modules ``pasar.<package>.v1.*_service_pb2``
that carries an HTTP rule becomes one route per binding (the rule itself and each of its
``additional_bindings``); methods without a rule are internal and get no route. Nothing
here names a particular method: a new annotated method is a new route.

Path templates follow ``google/api/http.proto``: literal segments, ``*`` and ``**``
wildcards, variables such as ``{id}`` or ``{product.id}`` (a field path into the request
message, optionally with a pattern: ``{name=shelves/*}``) and a trailing ``:verb``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor

SERVICE_MODULE_SUFFIX = "_service_pb2"
# The google.api.http option (typed loosely: its stubs do not type extensions of MethodOptions).
HTTP_OPTION: Any = annotations_pb2.http
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class ContractError(ValueError):
    """An HTTP annotation the gateway cannot serve (a mistake in the contracts)."""


@dataclass(frozen=True)
class PathVariable:
    """A ``{field.path=pattern}`` segment: the request field it sets, and what it matches."""

    field_path: tuple[str, ...]
    pattern: tuple[str, ...] = ("*",)

    @property
    def name(self) -> str:
        return ".".join(self.field_path)


Segment = str | PathVariable


@dataclass(frozen=True)
class PathTemplate:
    """A parsed path template such as ``/api/v1/payments/{id}:simulate``."""

    text: str
    segments: tuple[Segment, ...]
    verb: str = ""

    @property
    def variables(self) -> tuple[PathVariable, ...]:
        return tuple(segment for segment in self.segments if isinstance(segment, PathVariable))


def parse_template(text: str) -> PathTemplate:
    """Parses a path template; ContractError when it is malformed."""
    if not text.startswith("/"):
        raise ContractError(f"path template {text!r} must start with '/'")
    body, verb = _split_verb(text[1:], text)
    segments: list[Segment] = []
    for raw in _split_segments(body, text):
        if raw.startswith("{"):
            if not raw.endswith("}"):
                raise ContractError(f"path template {text!r}: unterminated variable {raw!r}")
            name, _, pattern = raw[1:-1].partition("=")
            field_path = tuple(name.split("."))
            if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) for part in field_path):
                raise ContractError(f"path template {text!r}: bad variable name {name!r}")
            pattern_segments = tuple(pattern.split("/")) if pattern else ("*",)
            for part in pattern_segments:
                _check_literal(part, text)
            segments.append(PathVariable(field_path, pattern_segments))
        else:
            _check_literal(raw, text)
            segments.append(raw)
    return PathTemplate(text, tuple(segments), verb)


def _split_verb(body: str, text: str) -> tuple[str, str]:
    depth, colon = 0, -1
    for index, char in enumerate(body):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            colon = -1
        elif char == ":" and depth == 0:
            colon = index
    if depth != 0:
        raise ContractError(f"path template {text!r}: unbalanced braces")
    if colon < 0:
        return body, ""
    verb = body[colon + 1 :]
    if not re.fullmatch(r"[A-Za-z0-9_.~-]+", verb):
        raise ContractError(f"path template {text!r}: bad verb {verb!r}")
    return body[:colon], verb


def _split_segments(body: str, text: str) -> list[str]:
    segments, current, depth = [], "", 0
    for char in body:
        if char == "/" and depth == 0:
            segments.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    segments.append(current)
    if any(not segment for segment in segments):
        raise ContractError(f"path template {text!r}: empty segment")
    return segments


def _check_literal(segment: str, text: str) -> None:
    if segment in ("*", "**"):
        return
    if not re.fullmatch(r"[A-Za-z0-9_.~!$&'()+,;=@-]+", segment):
        raise ContractError(f"path template {text!r}: bad segment {segment!r}")


@dataclass(frozen=True)
class HttpBinding:
    """One HTTP route of one RPC."""

    service: descriptor.ServiceDescriptor
    method: descriptor.MethodDescriptor
    http_method: str
    template: PathTemplate
    body: str
    response_body: str
    position: int  # 0 for the rule itself, 1... for its additional_bindings

    @property
    def backend(self) -> str:
        """The backend (service process) that owns the route: ``product`` for pasar.product.v1."""
        return backend_name(self.service)

    @property
    def rpc_name(self) -> str:
        """``ProductService.GetProduct``."""
        return f"{self.service.name}.{self.method.name}"

    @property
    def operation_id(self) -> str:
        suffix = f"_{self.position + 1}" if self.position else ""
        return f"{self.service.name}_{self.method.name}{suffix}"

    @property
    def request_type(self) -> descriptor.Descriptor:
        return self.method.input_type

    @property
    def body_field(self) -> descriptor.FieldDescriptor | None:
        if self.body in ("", "*"):
            return None
        return self.request_type.fields_by_name[self.body]

    @property
    def response_field(self) -> descriptor.FieldDescriptor | None:
        if not self.response_body:
            return None
        return self.method.output_type.fields_by_name[self.response_body]


def backend_name(service: descriptor.ServiceDescriptor) -> str:
    """The package component before the version: ``pasar.product.v1`` → ``product``."""
    parts = service.file.package.split(".")
    return parts[-2] if len(parts) >= 2 else parts[-1]


def resolve_field_path(
    message: descriptor.Descriptor, path: Sequence[str]
) -> list[descriptor.FieldDescriptor]:
    """The fields along a dotted path of proto field names; ContractError if one is missing."""
    fields: list[descriptor.FieldDescriptor] = []
    current: descriptor.Descriptor | None = message
    for name in path:
        if current is None or name not in current.fields_by_name:
            owner = current.full_name if current else fields[-1].full_name
            raise ContractError(f"{owner} has no field {name!r} (path {'.'.join(path)!r})")
        field = current.fields_by_name[name]
        fields.append(field)
        current = field.message_type
    return fields


def _rules(rule: http_pb2.HttpRule) -> Iterator[http_pb2.HttpRule]:
    yield rule
    yield from rule.additional_bindings


def bindings_of_service(service: descriptor.ServiceDescriptor) -> list[HttpBinding]:
    """The HTTP routes of every annotated method of service, checked against its messages."""
    found: list[HttpBinding] = []
    for method in service.methods:
        options = method.GetOptions()
        if not options.HasExtension(HTTP_OPTION):
            continue
        if method.client_streaming or method.server_streaming:
            raise ContractError(f"{method.full_name}: streaming methods cannot have HTTP routes")
        for position, rule in enumerate(_rules(options.Extensions[HTTP_OPTION])):
            found.append(_binding(service, method, rule, position))
    return found


def _binding(
    service: descriptor.ServiceDescriptor,
    method: descriptor.MethodDescriptor,
    rule: http_pb2.HttpRule,
    position: int,
) -> HttpBinding:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        raise ContractError(f"{method.full_name}: an HTTP rule without a method and path")
    if pattern == "custom":
        http_method, path = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, path = pattern.upper(), getattr(rule, pattern)
    template = parse_template(path)
    for variable in template.variables:
        fields = resolve_field_path(method.input_type, variable.field_path)
        leaf = fields[-1]
        if _is_repeated(leaf) or leaf.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            raise ContractError(
                f"{method.full_name}: path variable {variable.name} must be a singular scalar"
            )
    if rule.body not in ("", "*"):
        resolve_field_path(method.input_type, [rule.body])
    if rule.response_body:
        resolve_field_path(method.output_type, [rule.response_body])
    if http_method == "GET" and rule.body:
        raise ContractError(f"{method.full_name}: a GET route cannot have a body")
    return HttpBinding(
        service=service,
        method=method,
        http_method=http_method,
        template=template,
        body=rule.body,
        response_body=rule.response_body,
        position=position,
    )


def _is_repeated(field: descriptor.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def service_modules(package: str = "pasar") -> list[ModuleType]:
    """Every generated ``*_service_pb2`` module under package, imported."""
    root = importlib.import_module(package)
    modules = []
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if info.name.endswith(SERVICE_MODULE_SUFFIX):
            modules.append(importlib.import_module(info.name))
    return sorted(modules, key=lambda module: module.__name__)


@cache
def contract_bindings() -> tuple[HttpBinding, ...]:
    """Every HTTP route of the installed contracts, in a stable order."""
    found: list[HttpBinding] = []
    for module in service_modules():
        file_descriptor: descriptor.FileDescriptor = module.DESCRIPTOR
        for service in file_descriptor.services_by_name.values():
            found.extend(bindings_of_service(service))
    return tuple(found)


def stub_class(service: descriptor.ServiceDescriptor) -> type:
    """The generated client stub of service (``ProductServiceStub``), from its ``_pb2_grpc`` module."""
    module_name = service.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
    module = importlib.import_module(module_name)
    stub: type = getattr(module, f"{service.name}Stub")
    return stub
