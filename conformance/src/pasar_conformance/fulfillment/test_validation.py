"""The protovalidate rules of the fulfillment requests, one broken rule a request:
INVALID_ARGUMENT with a BadRequest naming the field (a map's entry is named
``destination`` or by its path, such as ``destination["Phone"]``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from google.protobuf import message

from pasar.common.v1.money_pb2 import Money
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import expect_invalid_argument
from pasar_conformance.fulfillment.desk import CREATE, GET, LOOKUP, NOTIFY, WATCH, FulfillmentDesk, rupiah
from pasar_conformance.target import Target

DESTINATION = "destination"
PHONE = {"phone_number": "081234561234"}


def _create(desk: FulfillmentDesk, **change: object) -> pb.CreateFulfillmentRequest:
    request = desk.request()
    for name, value in change.items():
        if value is None:
            request.ClearField(name)  # type: ignore[arg-type]  # any field of the request
        elif isinstance(value, message.Message):
            getattr(request, name).CopyFrom(value)
        elif isinstance(value, dict):
            request.ClearField(name)  # type: ignore[arg-type]
            getattr(request, name).update(value)
        else:
            setattr(request, name, value)
    return request


def _lookup(destination: dict[str, str], product_id: str = "pulsa-telkomsel") -> pb.LookupDestinationRequest:
    return pb.LookupDestinationRequest(product_id=product_id, destination=destination)


def _notify(**change: object) -> pb.NotifyFulfillmentRequest:
    fields: dict[str, object] = {"biller": "sandbox", "payload": b"{}", "signature": "0" * 64, **change}
    return pb.NotifyFulfillmentRequest(**fields)  # type: ignore[arg-type]


FIVE_ENTRIES = {f"key_{n}": "1" for n in range(5)}

# (case, method, the field the BadRequest must name, the request)
CASES: list[tuple[str, str, str, Callable[[FulfillmentDesk], message.Message]]] = [
    ("lookup-product-empty", LOOKUP, "product_id", lambda _d: _lookup(PHONE, "")),
    ("lookup-product-pattern", LOOKUP, "product_id", lambda _d: _lookup(PHONE, "Pulsa_Telkomsel")),
    ("lookup-product-long", LOOKUP, "product_id", lambda _d: _lookup(PHONE, "p" * 64)),
    ("lookup-destination-empty", LOOKUP, DESTINATION, lambda _d: _lookup({})),
    ("lookup-destination-five-entries", LOOKUP, DESTINATION, lambda _d: _lookup(FIVE_ENTRIES)),
    ("lookup-destination-key-pattern", LOOKUP, DESTINATION, lambda _d: _lookup({"Phone": "0812"})),
    ("lookup-destination-key-long", LOOKUP, DESTINATION, lambda _d: _lookup({"k" * 33: "0812"})),
    ("lookup-destination-value-empty", LOOKUP, DESTINATION, lambda _d: _lookup({"phone_number": ""})),
    ("lookup-destination-value-long", LOOKUP, DESTINATION, lambda _d: _lookup({"phone_number": "1" * 65})),
    ("create-order-id-empty", CREATE, "order_id", lambda d: _create(d, order_id="")),
    ("create-order-id-pattern", CREATE, "order_id", lambda d: _create(d, order_id="order 1")),
    ("create-order-id-long", CREATE, "order_id", lambda d: _create(d, order_id="o" * 65)),
    ("create-package-id-pattern", CREATE, "package_id", lambda d: _create(d, package_id="Pulsa-10K")),
    ("create-package-id-empty", CREATE, "package_id", lambda d: _create(d, package_id="")),
    ("create-product-id-pattern", CREATE, "product_id", lambda d: _create(d, product_id="pulsa--x")),
    ("create-product-id-long", CREATE, "product_id", lambda d: _create(d, product_id="p" * 64)),
    (
        "create-kind-unspecified",
        CREATE,
        "delivery_kind",
        lambda d: _create(d, delivery_kind=product_pb2.DELIVERY_KIND_UNSPECIFIED),
    ),
    ("create-kind-undefined", CREATE, "delivery_kind", lambda d: _create(d, delivery_kind=99)),
    ("create-quantity-zero", CREATE, "quantity", lambda d: _create(d, quantity=0)),
    ("create-quantity-over-a-hundred", CREATE, "quantity", lambda d: _create(d, quantity=101)),
    ("create-amount-missing", CREATE, "amount", lambda d: _create(d, amount=None)),
    ("create-amount-zero", CREATE, "amount", lambda d: _create(d, amount=rupiah(0))),
    (
        "create-amount-currency-pattern",
        CREATE,
        "amount.currency_code",
        lambda d: _create(d, amount=Money(currency_code="idr", amount=20_000)),
    ),
    ("create-destination-five-entries", CREATE, DESTINATION, lambda d: _create(d, destination=FIVE_ENTRIES)),
    (
        "create-destination-key-pattern",
        CREATE,
        DESTINATION,
        lambda d: _create(d, destination={"9lives": "1"}),
    ),
    (
        "create-destination-value-empty",
        CREATE,
        DESTINATION,
        lambda d: _create(d, destination={"phone_number": ""}),
    ),
    (
        "create-destination-value-long",
        CREATE,
        DESTINATION,
        lambda d: _create(d, destination={"phone_number": "1" * 65}),
    ),
    ("get-id-pattern", GET, "id", lambda _d: pb.GetFulfillmentRequest(id="ful_XYZ")),
    ("get-id-upper-case", GET, "id", lambda _d: pb.GetFulfillmentRequest(id="ful_" + "A" * 32)),
    ("get-id-empty", GET, "id", lambda _d: pb.GetFulfillmentRequest(id="")),
    ("notify-biller-empty", NOTIFY, "biller", lambda _d: _notify(biller="")),
    ("notify-biller-pattern", NOTIFY, "biller", lambda _d: _notify(biller="Sandbox")),
    ("notify-biller-long", NOTIFY, "biller", lambda _d: _notify(biller="b" * 33)),
    ("notify-payload-empty", NOTIFY, "payload", lambda _d: _notify(payload=b"")),
    ("notify-payload-too-large", NOTIFY, "payload", lambda _d: _notify(payload=b" " * 65_537)),
    ("notify-signature-empty", NOTIFY, "signature", lambda _d: _notify(signature="")),
    ("notify-signature-long", NOTIFY, "signature", lambda _d: _notify(signature="0" * 257)),
    (
        "watch-negative-cursor",
        WATCH,
        "after_sequence",
        lambda _d: pb.WatchFulfillmentEventsRequest(after_sequence=-1),
    ),
]


@pytest.mark.parametrize(("method", "field", "build"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_request_breaking_a_rule_names_the_field(
    target: Target,
    desk: FulfillmentDesk,
    method: str,
    field: str,
    build: Callable[[FulfillmentDesk], message.Message],
) -> None:
    request = build(desk)
    named = expect_invalid_argument(lambda: target.call(method, request))
    if field == DESTINATION:
        assert any(name == DESTINATION or name.startswith(f"{DESTINATION}[") for name in named), (
            f"the BadRequest names {named}, not the destination or one of its entries"
        )
    else:
        assert field in named, f"the BadRequest names {named}, not {field}"
