"""The API routes: one Flask view per HTTP binding of the contracts.

Each view transcodes the HTTP request into the RPC's request message, checks the admin
token for admin services, answers catalog reads from the cache when it can, calls the
backend that owns the route, and transcodes the answer back (for a catalog read, unless the
service answered the very bytes it answered before: pasar_gateway.rendered_responses). Failures are raised as
:class:`~pasar_gateway.errors.ApiError` and rendered by the application's error handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import flask
import grpc
from google.protobuf import message_factory
from google.protobuf.message import Message
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, Map

from pasar_gateway.backends import Backend
from pasar_gateway.bindings import HttpBinding, PathTemplate
from pasar_gateway.catalog_cache import ResponseCache, is_cacheable
from pasar_gateway.errors import ApiError
from pasar_gateway.known_reads import CatalogAnswer, KnownRead, KnownReads
from pasar_gateway.metrics import GatewayMetrics
from pasar_gateway.rate_limits import UNLIMITED, ClientCounts, bucket_of, limited_view
from pasar_gateway.rendered_responses import RenderedResponses
from pasar_gateway.settings import GatewaySettings
from pasar_gateway.transcoding import RequestTranscoder, dumps, response_document

ADMIN_SERVICE_SUFFIX = "AdminService"
JSON_TYPES = ("application/json",)


def is_admin(binding: HttpBinding) -> bool:
    """Admin services (ProductAdminService) need the administrator's bearer token."""
    return binding.service.name.endswith(ADMIN_SERVICE_SUFFIX)


def is_catalog_read(binding: HttpBinding) -> bool:
    return is_cacheable(binding.method)


def werkzeug_rule(template: PathTemplate, arguments: Mapping[str, str], url_map: Map) -> str:
    """The werkzeug rule of a path template; variables become the given argument names."""
    parts: list[str] = []
    for index, segment in enumerate(template.segments):
        if isinstance(segment, str):
            if segment == "*":
                parts.append(f"<_wildcard{index}>")
            elif segment == "**":
                parts.append(f"<path:_wildcard{index}>")
            else:
                parts.append(segment)
            continue
        argument = arguments[segment.name]
        if segment.pattern == ("*",):
            parts.append(f"<{argument}>")
        else:
            parts.append(f"<{_pattern_converter(segment.pattern, url_map)}:{argument}>")
    rule = "/" + "/".join(parts)
    return f"{rule}:{template.verb}" if template.verb else rule


def _pattern_converter(pattern: Sequence[str], url_map: Map) -> str:
    regex = "/".join(
        "[^/]+" if part == "*" else ".+" if part == "**" else re.escape(part) for part in pattern
    )
    name = "pattern_" + hashlib.sha256(regex.encode()).hexdigest()[:12]
    if name not in url_map.converters:
        url_map.converters[name] = type(
            name, (BaseConverter,), {"regex": regex, "part_isolating": "/" not in regex}
        )
    return name


@dataclass
class ApiContext:
    """What the views share: made once by create_app."""

    settings: GatewaySettings
    backends: Mapping[str, Backend]
    cache: ResponseCache
    metrics: GatewayMetrics
    rendered: RenderedResponses = field(default_factory=RenderedResponses)
    # Answers catalog reads before Flask (pasar_gateway.known_reads) once the views taught it.
    known: KnownReads | None = None


def register_api(
    app: flask.Flask, bindings: Sequence[HttpBinding], context: ApiContext, limiter: ClientCounts | None
) -> None:
    """Adds a view for every binding to app."""
    for binding in bindings:
        transcoder = RequestTranscoder(binding)
        view = _make_view(binding, transcoder, context)
        view.__name__ = view.__qualname__ = binding.operation_id
        # The contracts' rate_limit_bucket of the method, if any.
        view = limited_view(view, binding.method, limiter, context.settings.rate_limits)
        app.add_url_rule(
            werkzeug_rule(binding.template, transcoder.rule_arguments, app.url_map),
            endpoint=f"api.{binding.operation_id}",
            view_func=view,
            methods=[binding.http_method],
        )


def _make_view(
    binding: HttpBinding, transcoder: RequestTranscoder, context: ApiContext
) -> Callable[..., flask.Response]:
    backend = context.backends[binding.backend]
    admin = is_admin(binding)
    catalog_read = is_catalog_read(binding)
    method_key = binding.method.full_name.encode() + b"\0"
    response_class = message_factory.GetMessageClass(binding.method.output_type)
    # Whether the request message follows from the path and query alone (known_reads).
    known = context.known if catalog_read and _follows_from_the_url(binding, transcoder) else None
    route = binding.template.text

    def view(**arguments: Any) -> flask.Response:
        flask.g.route = binding.template.text
        request = flask.request
        metadata: list[tuple[str, str]] = []
        if admin:
            metadata.append(("authorization", f"Bearer {_admin_token(context.settings)}"))
        body = _request_body(request) if binding.body else None
        message = transcoder.request(arguments, request.args, request.headers, body)
        if catalog_read:
            return _catalog_read(message, metadata)
        response = backend.call(binding, message, metadata)
        document = dumps(response_document(binding, response))
        if admin:
            context.cache.invalidate()
        answer = flask.Response(document, status=200, mimetype="application/json")
        answer.headers["Cache-Control"] = "no-store"
        return answer

    def _catalog_read(message: Message, metadata: Sequence[tuple[str, str]]) -> flask.Response:
        """Answers the read (answer_read), and teaches KnownReads its URL."""
        key = method_key + message.SerializeToString(deterministic=True) if context.cache.enabled else b""
        if known is not None:
            request = flask.request
            known.learn(
                request.environ, lambda: KnownRead(partial(answer_read, message, key), route, request.path)
            )
        answer = answer_read(message, key, metadata)
        return _catalog_response(answer.body, answer.etag, answer.result, context.metrics)

    def answer_read(message: Message, key: bytes, metadata: Sequence[tuple[str, str]] = ()) -> CatalogAnswer:
        """From the cache when it holds the answer (key: the method and the serialized
        message); else asks the service, and renders its answer unless these very bytes were
        rendered before (pasar_gateway.rendered_responses)."""
        cache = context.cache
        if cache.enabled:
            cached = cache.get(key)
            if cached is not None:
                return CatalogAnswer(cached.body, cached.etag, "hit")
            generation = cache.generation.current()
        answer = backend.call_serialized(binding, message, metadata)
        rendered = context.rendered.get(binding.operation_id, answer)
        if rendered is None:
            response = response_class.FromString(answer)
            body = dumps(response_document(binding, response))
            rendered = context.rendered.put(binding.operation_id, answer, body)
        if cache.enabled:
            cache.put(key, rendered.body, generation, etag=rendered.etag)
        return CatalogAnswer(rendered.body, rendered.etag, "miss")

    return view


def _follows_from_the_url(binding: HttpBinding, transcoder: RequestTranscoder) -> bool:
    """A GET whose request message the path and query string alone make (no body, no field
    from a header), with no rate limit (a read before Flask counts no call) and no token."""
    return (
        not is_admin(binding)
        and binding.http_method == "GET"
        and not binding.body
        and not transcoder.header_fields
        and bucket_of(binding.method) == UNLIMITED
    )


def _catalog_response(body: bytes, etag: str, result: str, metrics: GatewayMetrics) -> flask.Response:
    request = flask.request._get_current_object()  # type: ignore[attr-defined]  # one lookup
    if (
        "HTTP_IF_NONE_MATCH" in request.environ  # parsed only when sent
        and request.if_none_match
        and (request.if_none_match.star_tag or request.if_none_match.contains_weak(etag.strip('"')))
    ):
        metrics.catalog_read("not_modified")
        answer = flask.Response(status=304)
    else:
        metrics.catalog_read(result)
        answer = flask.Response(body, status=200, mimetype="application/json")
    answer.headers.add("ETag", etag)  # a new answer has neither: added, not searched for
    answer.headers.add("Cache-Control", "no-cache")
    return answer


def _request_body(request: flask.Request) -> bytes:
    data = request.get_data(cache=False)
    limit = request.max_content_length
    # A body without Content-Length (chunked) is read up to the limit and silently cut there
    # by Werkzeug: one byte more on the raw stream means it was longer.
    if (
        request.content_length is None
        and limit is not None
        and len(data) >= limit
        and request.input_stream.read(1)
    ):
        raise RequestEntityTooLarge()
    if (
        data.strip()
        and request.mimetype
        and request.mimetype not in JSON_TYPES
        and not request.mimetype.endswith("+json")
    ):
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the request body must be JSON (Content-Type: application/json), not {request.mimetype}",
            http_status=415,
        )
    return data


def _admin_token(settings: GatewaySettings) -> str:
    """The request's bearer token, when it is the administrator's; 401 or 403 otherwise."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            grpc.StatusCode.UNAUTHENTICATED,
            "the admin routes need the administrator's token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="pasar-admin"'},
        )
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        raise ApiError(
            grpc.StatusCode.PERMISSION_DENIED,
            "the token is not the administrator's",
            headers={"WWW-Authenticate": 'Bearer realm="pasar-admin", error="invalid_token"'},
        )
    return token
