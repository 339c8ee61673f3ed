"""A request and a response example for every public method, kept as data and shown as HTTP.

Each method has one file, ``examples/<method's full name>.json`` (such as
``pasar.order.v1.OrderService.CreateOrder.json``), holding ``{"request": ..., "response": ...}``:
the RPC's request and response messages in proto3 JSON, read with ``ignore_unknown_fields``
off, so that an example the contracts no longer accept fails the tests and the page rather
than misleading a reader. What a route's reader sees is derived from them by the routing
rules (:func:`http_example`): the path with its variables filled in, the query string or body
for the other fields, and the answer as the gateway writes it (``response_body`` applied,
default values included). The tests send the examples to a real shop and compare.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from google.protobuf import json_format, message, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor

from pasar_gateway.bindings import HttpBinding, resolve_field_path
from pasar_gateway.transcoding import response_document

EXAMPLES_FOLDER = "examples"
ADMIN_HEADER = ("Authorization", "Bearer <admin token>")


class ExampleError(ValueError):
    """An example file the contracts do not accept (a field renamed or removed, a bad value)."""


@dataclass(frozen=True)
class MethodExample:
    """One method's example, as messages."""

    request: message.Message
    response: message.Message


@dataclass(frozen=True)
class HttpExample:
    """A route's example as a client sends and receives it."""

    http_method: str
    target: str  # the path with its variables filled in, and the query string
    path_values: tuple[tuple[str, str], ...]  # each path variable's field path and value
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: Any  # the JSON body, None when the route takes none
    response: Any  # the JSON answer of the route

    def request_text(self) -> str:
        """The request as an HTTP message (without the host): method, target, headers, body."""
        lines = [f"{self.http_method} {self.target}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body is not None:
            lines += ["Content-Type: application/json", "", pretty(self.body)]
        return "\n".join(lines)

    def response_text(self) -> str:
        return pretty(self.response)


def pretty(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


def example_file_name(method: MethodDescriptor) -> str:
    return f"{method.full_name}.json"


@cache
def example_documents() -> Mapping[str, Any]:
    """Every example file, by the method's full name, as JSON."""
    folder = resources.files(__package__).joinpath(EXAMPLES_FOLDER)
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            found[entry.name.removesuffix(".json")] = json.loads(entry.read_text(encoding="utf-8"))
    return found


def method_example(method: MethodDescriptor) -> MethodExample | None:
    """method's example as messages, None when it has none; ExampleError when it does not parse."""
    document = example_documents().get(method.full_name)
    if document is None:
        return None
    return MethodExample(
        request=parse_message(method.input_type, document.get("request"), f"{method.full_name} request"),
        response=parse_message(method.output_type, document.get("response"), f"{method.full_name} response"),
    )


def parse_message(message_type: Descriptor, value: Any, what: str) -> message.Message:
    parsed = message_factory.GetMessageClass(message_type)()
    if not isinstance(value, dict):
        raise ExampleError(f"the {what} example must be a JSON object")
    try:
        json_format.ParseDict(value, parsed, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        raise ExampleError(f"the {what} example is not a {message_type.full_name}: {error}") from None
    return parsed


def http_example(binding: HttpBinding, example: MethodExample, *, admin: bool = False) -> HttpExample:
    """The example as binding's route takes and answers it (google/api/http.proto's rules)."""
    remaining = json_format.MessageToDict(example.request)
    segments = []
    path_values = []
    for segment in binding.template.segments:
        if isinstance(segment, str):
            segments.append(segment)
            continue
        fields = resolve_field_path(binding.request_type, segment.field_path)
        value = _pop_path(remaining, [field.json_name for field in fields])
        text = "" if value is None else _query_text(value)
        path_values.append((segment.name, text))
        segments.append(urllib.parse.quote(text, safe=""))
    verb = binding.template.verb
    path = "/" + "/".join(segments) + (f":{verb}" if verb else "")
    body: Any = None
    if binding.body == "*":
        body, remaining = remaining, {}
    elif binding.body:
        body_field = binding.request_type.fields_by_name[binding.body]
        body = remaining.pop(body_field.json_name, {})
    query = list(_query_pairs(remaining, ""))
    target = path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = (ADMIN_HEADER,) if admin else ()
    return HttpExample(
        http_method=binding.http_method,
        target=target,
        path_values=tuple(path_values),
        query=tuple(query),
        headers=headers,
        body=body,
        response=response_document(binding, example.response),
    )


def _pop_path(document: dict[str, Any], path: list[str]) -> Any:
    """Removes the value at path (JSON names) from document, and the objects it leaves empty."""
    head, *rest = path
    if not rest:
        return document.pop(head, None)
    inner = document.get(head)
    if not isinstance(inner, dict):
        return None
    value = _pop_path(inner, rest)
    if not inner:
        del document[head]
    return value


def _query_pairs(document: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    """The query parameters of the fields left: dotted names for nested ones, repeated once per value."""
    for name, value in document.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _query_pairs(value, f"{key}.")
        elif isinstance(value, list):
            yield from ((key, _query_text(item)) for item in value)
        else:
            yield key, _query_text(value)


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
