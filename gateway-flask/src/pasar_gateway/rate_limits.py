"""Per-client rate limits, on the methods the contracts put in a bucket.

A method's bucket is its ``(pasar.common.v1.rate_limit_bucket)`` option (CreateOrder:
ORDER_CREATION, LookupOrder: ORDER_LOOKUP); the methods of one bucket share one count per
client address, at the rate the bucket's setting gives (settings.RATE_LIMIT_SETTINGS). No
method or bucket is named here: a method the contracts put in a bucket is limited, and a
bucket the gateway has no setting for stops it at start-up rather than leaving it open.

A refused call answers 429 in the one error shape, as a service would refuse it:
RESOURCE_EXHAUSTED with the common reason RATE_LIMITED, metadata ``retry_after_seconds``
(whole seconds), and the same number in ``Retry-After``. Counts are kept in memory and per
worker (the effective rate is the setting times the number of workers), in a moving window,
by the ``limits`` library (flask-limiter's own). Only a limited view counts: flask-limiter's
extension would also run three hooks on every request of every route (some 50 µs of CPU a
request, for routes with no limit), and has no public way to leave them out
(alisaifee/flask-limiter#489).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flask
import grpc
from google.protobuf.descriptor import MethodDescriptor
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from pasar.common.v1 import options_pb2
from pasar_gateway.bindings import ContractError
from pasar_gateway.errors import RATE_LIMITED, RETRY_AFTER_METADATA, ApiError, error_info_detail
from pasar_gateway.settings import RATE_LIMIT_SETTINGS

# The method option (typed loosely: its stubs do not type extensions of MethodOptions).
RATE_LIMIT_OPTION: Any = options_pb2.rate_limit_bucket
UNLIMITED = options_pb2.RATE_LIMIT_BUCKET_UNSPECIFIED

View = Callable[..., flask.Response]


def bucket_of(method: MethodDescriptor) -> int:
    """The method's rate-limit bucket, UNLIMITED when the contracts give it none."""
    options = method.GetOptions()
    if not options.HasExtension(RATE_LIMIT_OPTION):
        return UNLIMITED
    bucket: int = options.Extensions[RATE_LIMIT_OPTION]
    return bucket


def bucket_scope(bucket: int) -> str:
    """The bucket's name in the counts: ``RATE_LIMIT_BUCKET_ORDER_LOOKUP`` → ``order-lookup``."""
    name = options_pb2.RateLimitBucket.Name(bucket)  # type: ignore[arg-type]
    return name.removeprefix("RATE_LIMIT_BUCKET_").lower().replace("_", "-")


def rate_limited(retry_after_seconds: int, message: str) -> ApiError:
    """The 429 of a refused call: RATE_LIMITED with retry_after_seconds, and Retry-After."""
    return ApiError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        message,
        details=[error_info_detail(RATE_LIMITED, {RETRY_AFTER_METADATA: str(retry_after_seconds)})],
        http_status=429,
        headers={"Retry-After": str(retry_after_seconds)},
    )


class ClientCounts:
    """Every bucket's calls per client address, in this process's memory (a moving window)."""

    def __init__(self) -> None:
        self.strategy = MovingWindowRateLimiter(MemoryStorage())

    def refusal_wait(self, items: Sequence[RateLimitItem], client: str, scope: str) -> int | None:
        """Counts a call of client in the bucket scope: None when every limit of items allows
        it, else the whole seconds until the oldest counted call of the first limit it would
        break leaves the window (the call is then not counted against the later limits)."""
        for item in items:
            if not self.strategy.hit(item, client, scope):
                reset_time, _ = self.strategy.get_window_stats(item, client, scope)
                return max(1, math.ceil(reset_time - time.time()))
        return None


def client_address() -> str:
    """The client's address as the request gives it (PASAR_PROXY_COUNT's ProxyFix applied)."""
    return flask.request.remote_addr or "127.0.0.1"


def limited_view(
    view: View, method: MethodDescriptor, counts: ClientCounts | None, rates: Mapping[int, str]
) -> View:
    """view with its method's bucket limit, or view itself for an unlimited method or bucket
    turned off (counts is None when every bucket is): a bucket without a setting is refused
    either way."""
    bucket = bucket_of(method)
    if bucket == UNLIMITED:
        return view
    setting = RATE_LIMIT_SETTINGS.get(bucket)
    if setting is None:
        raise ContractError(
            f"{method.full_name} is in the rate-limit bucket {options_pb2.RateLimitBucket.Name(bucket)},"  # type: ignore[arg-type]
            " which the gateway has no setting for (settings.RATE_LIMIT_SETTINGS)"
        )
    rate = rates[bucket]
    if counts is None or not rate:
        return view
    items = sorted(parse_many(rate))  # the strictest first, as flask-limiter checked them
    scope = bucket_scope(bucket)

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> flask.Response:
        wait = counts.refusal_wait(items, client_address(), scope)
        if wait is not None:
            return rate_limited(
                wait, f"too many {setting.calls} from this address; try again in {wait} seconds"
            ).response()
        return view(*args, **kwargs)

    return limited
