"""LookupDestination, on products the run makes in the catalog (``--product``; skipped
without): the destination checked against the product's fields first (INVALID_DESTINATION
naming the field, with the path ``destination["name"]``), the catalog's PRODUCT_NOT_FOUND
passed through, LOOKUP_NOT_SUPPORTED for fields that cannot be looked up; with the sandbox
biller, a PLN meter's customer name, a phone number's operator, and DESTINATION_NOT_FOUND
for a meter ending in 0000."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason
from pasar_conformance.answers import expect_reason, refused, violated_fields
from pasar_conformance.fulfillment.desk import LOOKUP, FulfillmentDesk
from pasar_conformance.fulfillment.lookups import LookupCatalog, require
from pasar_conformance.fulfillment.sandbox import NOT_FOUND_ENDING, digits
from pasar_conformance.target import Target

INVALID_DESTINATION = CommonReason.Name(CommonReason.INVALID_DESTINATION)
PRODUCT_NOT_FOUND = ProductReason.Name(ProductReason.PRODUCT_NOT_FOUND)
DESTINATION_NOT_FOUND = ErrorReason.Name(ErrorReason.DESTINATION_NOT_FOUND)
LOOKUP_NOT_SUPPORTED = ErrorReason.Name(ErrorReason.LOOKUP_NOT_SUPPORTED)


def look_up(target: Target, product_id: str, destination: dict[str, str]) -> pb.LookupDestinationResponse:
    request = pb.LookupDestinationRequest(product_id=product_id, destination=destination)
    return cast(pb.LookupDestinationResponse, target.call(LOOKUP, request))


def sandbox_catalog(desk: FulfillmentDesk, *reasons: str) -> LookupCatalog:
    """The lookup catalog, for a case that also needs the sandbox biller's answers."""
    lookups = require(desk.lookups, *reasons)
    desk.require_sandbox(*reasons)
    return lookups


def meter_number(ending: str = "1234") -> str:
    return digits(7) + ending


# (case, the product, the destination, the field INVALID_DESTINATION names)
Product = Callable[[LookupCatalog], product_pb2.Product]
INVALID: list[tuple[str, Product, dict[str, str], str]] = [
    ("phone-too-short", lambda c: c.telkomsel, {"phone_number": "0812345"}, "phone_number"),
    ("phone-too-long", lambda c: c.telkomsel, {"phone_number": "08123456789012"}, "phone_number"),
    (
        "phone-another-operator-s-prefix",
        lambda c: c.telkomsel,
        {"phone_number": "081712341234"},
        "phone_number",
    ),
    ("phone-not-digits", lambda c: c.telkomsel, {"phone_number": "0812abcd1234"}, "phone_number"),
    (
        "phone-not-digits-without-prefixes",
        lambda c: c.any_operator,
        {"phone_number": "0812-34-1234"},
        "phone_number",
    ),
    (
        "phone-and-a-key-no-field-names",
        lambda c: c.telkomsel,
        {"phone_number": "081234561234", "zone_id": "2101"},
        "zone_id",
    ),
    ("meter-missing", lambda c: c.meter, {"phone_number": "081234561234"}, "meter_number"),
    ("meter-too-short", lambda c: c.meter, {"meter_number": "1234567890"}, "meter_number"),
    ("game-first-field-first", lambda c: c.game, {"user_id": "12", "zone_id": "x"}, "user_id"),
    ("game-second-field", lambda c: c.game, {"user_id": "12341234", "zone_id": "123456"}, "zone_id"),
    (
        "game-keys-no-field-names-sorted",
        lambda c: c.game,
        {"user_id": "1234", "zone_id": "1", "b": "1", "a": "1"},
        "a",
    ),
]


@pytest.mark.parametrize(
    ("product", "destination", "field"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_a_destination_breaking_its_product_s_fields_is_invalid_naming_the_field(
    target: Target, desk: FulfillmentDesk, product: Product, destination: dict[str, str], field: str
) -> None:
    made = product(require(desk.lookups, INVALID_DESTINATION))
    error = refused(lambda: look_up(target, made.id, destination))
    expect_reason(error, INVALID_DESTINATION, metadata={"product_id": made.id, "field": field})
    path = f'destination["{field}"]'
    assert path in violated_fields(error), f"the BadRequest names {violated_fields(error)}, not {path}"


def test_an_unknown_or_archived_product_is_the_catalog_s_not_found(
    target: Target, desk: FulfillmentDesk
) -> None:
    lookups = require(desk.lookups, PRODUCT_NOT_FOUND)
    unknown = target.run.new("product")
    expect_reason(
        lambda: look_up(target, unknown, {"phone_number": "081234561234"}),
        PRODUCT_NOT_FOUND,
        metadata={"product_id": unknown},
    )
    archived = lookups.make(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, list(lookups.meter.destination_fields)
    )
    lookups.seed.archive(archived.id)
    expect_reason(
        lambda: look_up(target, archived.id, {"meter_number": meter_number()}),
        PRODUCT_NOT_FOUND,
        metadata={"product_id": archived.id},
    )


def test_a_product_whose_fields_cannot_be_looked_up_is_not_supported(
    target: Target, desk: FulfillmentDesk
) -> None:
    game = require(desk.lookups, LOOKUP_NOT_SUPPORTED).game
    expect_reason(
        lambda: look_up(target, game.id, {"user_id": "12341234", "zone_id": "2101"}),
        LOOKUP_NOT_SUPPORTED,
        metadata={"product_id": game.id},
    )


def test_a_meter_number_tells_its_customer_s_name(target: Target, desk: FulfillmentDesk) -> None:
    meter = sandbox_catalog(desk).meter
    number = meter_number()
    found = look_up(target, meter.id, {"meter_number": number})
    assert found.customer_name, "a PLN meter's customer name is shown before paying"
    assert found.detail, "a meter's tariff and power, such as R1/1300 VA"
    assert found.operator_name == ""
    assert found.matches_product
    assert look_up(target, meter.id, {"meter_number": number}) == found, "the same meter, the same customer"


def test_a_meter_pln_does_not_know_is_not_found_naming_the_field(
    target: Target, desk: FulfillmentDesk
) -> None:
    meter = sandbox_catalog(desk, DESTINATION_NOT_FOUND).meter
    expect_reason(
        lambda: look_up(target, meter.id, {"meter_number": meter_number(NOT_FOUND_ENDING)}),
        DESTINATION_NOT_FOUND,
        metadata={"product_id": meter.id, "field": "meter_number"},
    )


def test_a_phone_number_of_the_product_s_operator_matches_it(target: Target, desk: FulfillmentDesk) -> None:
    telkomsel = sandbox_catalog(desk).telkomsel
    found = look_up(target, telkomsel.id, {"phone_number": "0821" + digits(4) + "1234"})
    assert (found.operator_name, found.matches_product, found.customer_name) == ("Telkomsel", True, "")


@pytest.mark.parametrize(
    ("prefix", "operator"),
    [
        ("0811", "Telkomsel"),
        ("0857", "Indosat"),
        ("0878", "XL"),
        ("0838", "Axis"),
        ("0896", "Tri"),
        ("0881", "Smartfren"),
    ],
)
def test_a_phone_number_s_operator_comes_from_its_prefix(
    target: Target, desk: FulfillmentDesk, prefix: str, operator: str
) -> None:
    """A product of any operator (no prefixes): every operator's number can receive it."""
    any_operator = sandbox_catalog(desk).any_operator
    found = look_up(target, any_operator.id, {"phone_number": prefix + digits(4) + "1234"})
    assert (found.operator_name, found.matches_product) == (operator, True)
