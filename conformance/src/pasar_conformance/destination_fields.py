"""The destination fields the kit's products declare (contracts v1.2 DestinationField),
one definition for every suite: the product suite stores them, the order suite checks
destinations against them at CreateOrder, the fulfillment suite looks destinations up for
them. Their values follow the sandbox biller's documented look-ups (svc-fulfillment/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pasar.product.v1 import product_pb2

# Telkomsel's prefixes (the sandbox's operator table, svc-fulfillment/README.md).
TELKOMSEL_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853")
# A phone number every phone field below accepts (Telkomsel's 0812).
PHONE_EXAMPLE = "081234561234"


def phone_field(prefixes: Sequence[str] = ()) -> product_pb2.DestinationField:
    """A phone number to top up (looked up: its operator), of the operators with prefixes
    (any operator without)."""
    return product_pb2.DestinationField(
        name="phone_number",
        label="Nomor HP",
        label_en="Phone number",
        hint="Nomor yang akan diisi",
        hint_en="The number to top up",
        pattern="08[0-9]{8,11}",
        min_length=10,
        max_length=13,
        prefixes=list(prefixes),
        example=PHONE_EXAMPLE,
        lookup_supported=True,
    )


def meter_field() -> product_pb2.DestinationField:
    """A PLN meter number (looked up: its customer's name)."""
    return product_pb2.DestinationField(
        name="meter_number",
        label="Nomor meter",
        label_en="Meter number",
        hint="Tertera pada meteran listrik",
        hint_en="Printed on the electricity meter",
        pattern="[0-9]{11,12}",
        min_length=11,
        max_length=12,
        example="12345671234",
        lookup_supported=True,
    )


def game_fields() -> list[product_pb2.DestinationField]:
    """A game account: a user id and a zone id, neither of which can be looked up."""
    return [
        product_pb2.DestinationField(
            name="user_id",
            label="User ID",
            label_en="User ID",
            pattern="[0-9]{4,12}",
            min_length=4,
            max_length=12,
            example="12341234",
        ),
        product_pb2.DestinationField(
            name="zone_id",
            label="Zone ID",
            label_en="Zone ID",
            pattern="[0-9]{1,5}",
            min_length=1,
            max_length=5,
            example="2101",
        ),
    ]
