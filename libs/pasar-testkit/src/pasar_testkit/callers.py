"""Tests that call a service's internal methods directly do so as the order service would.

The order service is the one caller the catalog and the payment service accept
(pasar_kit.callers); in development it sends its development secret, which is what a
channel from :func:`as_order_service` sends too. Tests of the refusals use a plain channel.
"""

from __future__ import annotations

import grpc

from pasar_kit.callers import CALLER_TOKEN_METADATA, development_caller_token
from pasar_kit.channels import CallDefaults

ORDER_SERVICE = "order"
# For a call made without a channel of as_order_service: metadata=ORDER_SERVICE_METADATA.
ORDER_SERVICE_METADATA = ((CALLER_TOKEN_METADATA, development_caller_token(ORDER_SERVICE)),)


def as_order_service(channel: grpc.Channel) -> grpc.Channel:
    """channel, with the order service's development credential on every call."""
    return grpc.intercept_channel(channel, CallDefaults(metadata=ORDER_SERVICE_METADATA))
