"""The order service's contract as the common checks see it: a service, a probe, valid requests."""

from __future__ import annotations

from google.protobuf import message

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason
from pasar_conformance.common import Suite
from pasar_conformance.order.shop import CANCEL_ORDER, CREATE_ORDER, GET_ORDER, ORDER_SERVICE, current
from pasar_conformance.target import Target

PACKAGE = "pasar.order.v1"


def _get_order(_target: Target) -> message.Message:
    return current().readable()


def _cancel_order(_target: Target) -> message.Message:
    placed = current().placed()
    return order_pb.CancelOrderRequest(id=placed.order.id, token=placed.access_token)


def _checkout(_target: Target) -> message.Message:
    """A checkout without request_id (each call a new order): reading an order takes well
    under the short deadline, a checkout calls two services."""
    shop = current()
    [package] = shop.packages((100,))
    return shop.request((package.id, 1), request_id="")


ORDER_SUITE = Suite(
    package=PACKAGE,
    services=(ORDER_SERVICE,),
    probe=(GET_ORDER, lambda: current().readable()),
    heavy=(CREATE_ORDER, _checkout),
    requests={GET_ORDER: _get_order, CANCEL_ORDER: _cancel_order},
    out_of_reach={
        ErrorReason.Name(ErrorReason.MIXED_CURRENCIES): (
            "it needs packages priced in two currencies, and a catalog may refuse any but one "
            "(svc-product sells in IDR only); test_checkout tries, and asserts it when the catalog "
            "takes a second currency"
        ),
    },
    # CreateOrder checks destinations against the catalog's destination fields, and passes
    # the catalog's and the payment service's refusals through unchanged.
    also_checks=(
        CommonReason.Name(CommonReason.INVALID_DESTINATION),
        ProductReason.Name(ProductReason.OUT_OF_STOCK),
        ProductReason.Name(ProductReason.PACKAGE_NOT_FOUND),
        PaymentReason.Name(PaymentReason.CHANNEL_NOT_FOUND),
        PaymentReason.Name(PaymentReason.AMOUNT_OUT_OF_RANGE),
        # v1.3: the payer's phone number a phone-push e-wallet needs (checked at checkout),
        # and LookupOrder's limit on failed look-ups of one number.
        PaymentReason.Name(PaymentReason.PAYER_PHONE_NUMBER_REQUIRED),
        CommonReason.Name(CommonReason.RATE_LIMITED),
    ),
)
