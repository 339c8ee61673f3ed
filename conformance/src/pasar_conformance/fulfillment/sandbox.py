"""The sandbox biller as svc-fulfillment/README.md documents it, as the kit writes and
reads it: the destination endings that choose its outcome, the shape of what it delivers,
and its signed notification (a JSON object, HMAC-SHA256 under the biller's webhook secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.product.v1 import product_pb2

SANDBOX = "sandbox"

# Endings of a destination's values, and what the sandbox biller does with them.
DELIVERED = "1234"  # delivered after PASAR_SANDBOX_BILLER_DELAY_SECONDS (0.2 s by default)
LATE = "0009"  # delivered after PASAR_SANDBOX_BILLER_LATE_SECONDS (30 s by default)
NOT_FOUND_ENDING = "0000"  # FAILED, FAILURE_REASON_DESTINATION_NOT_FOUND
REFUSED_ENDING = "0001"  # FAILED, FAILURE_REASON_DESTINATION_REFUSED
UNAVAILABLE_ENDING = "0002"  # FAILED, FAILURE_REASON_PRODUCT_UNAVAILABLE

# Characters of the kit's voucher codes: none a shopper misreads (0/O, 1/I/L).
VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# What a kWh of electricity costs in the sandbox, in rupiah (R1/1300 VA): tokens' kWh follow from it.
RUPIAH_PER_KWH = "1444.70"

Kind: TypeAlias = product_pb2.DeliveryKind.ValueType


def digits(count: int) -> str:
    """count random decimal digits."""
    return f"{secrets.randbelow(10**count):0{count}d}"


def destination_for(kind: Kind, ending: str = DELIVERED) -> dict[str, str]:
    """A destination for a product of kind, its values ending in ending: a Telkomsel phone
    number, an 11-digit PLN meter number, a game's user id (and zone id)."""
    if kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN:
        return {"meter_number": digits(7) + ending}
    if kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE:
        return {"user_id": digits(4) + ending}
    if kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP:
        return {"user_id": digits(4) + ending, "zone_id": "2" + digits(3)}
    return {"phone_number": "0812" + digits(4) + ending}


def kwh_of(amount: int, quantity: int) -> str:
    """What one unit of a line of amount rupiah for quantity units is worth, in kWh with two
    decimals (rounded half up), at the sandbox's tariff."""
    worth = Decimal(amount) / (quantity * Decimal(RUPIAH_PER_KWH))
    return str(worth.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def sign(payload: bytes, secret: str) -> str:
    """The contract's signature: lower-case hex HMAC-SHA256 of the payload under the secret."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def deliveries_for(kind: Kind, quantity: int, amount: int) -> list[ful_pb.Delivery]:
    """What a biller could deliver for a line: one delivery per unit, of the kind's shape."""
    made = []
    for _unit in range(quantity):
        delivery = ful_pb.Delivery(serial_number=digits(16))
        if kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN:
            delivery.token = "-".join(digits(4) for _group in range(5))
            delivery.kwh = kwh_of(amount, quantity)
        elif kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE:
            delivery.voucher_code = "-".join(
                "".join(secrets.choice(VOUCHER_ALPHABET) for _c in range(4)) for _g in range(4)
            )
        made.append(delivery)
    return made


def delivery_fields(delivery: ful_pb.Delivery) -> dict[str, str]:
    """A delivery as a biller's notification writes it: its non-empty fields by name."""
    return {
        name: value
        for name, value in (
            ("serial_number", delivery.serial_number),
            ("token", delivery.token),
            ("kwh", delivery.kwh),
            ("voucher_code", delivery.voucher_code),
        )
        if value
    }


def notification_payload(
    fulfillment: ful_pb.Fulfillment,
    status: ful_pb.FulfillmentState.ValueType,
    *,
    deliveries: Sequence[ful_pb.Delivery] = (),
    failure_reason: ful_pb.FailureReason.ValueType = ful_pb.FAILURE_REASON_UNSPECIFIED,
    failure_message: str = "",
    biller_reference: str | None = None,
) -> bytes:
    """The sandbox biller's notification (svc-fulfillment/README.md): a JSON object naming
    the fulfillment and the biller's reference, with the status and what was delivered or
    why not; absent and empty keys are omitted."""
    body: dict[str, object] = {
        "fulfillment_id": fulfillment.id,
        "biller_reference": fulfillment.biller_reference if biller_reference is None else biller_reference,
        "status": ful_pb.FulfillmentState.Name(status).removeprefix("FULFILLMENT_STATE_"),
    }
    if deliveries:
        body["deliveries"] = [delivery_fields(d) for d in deliveries]
    if failure_reason:
        body["failure_reason"] = ful_pb.FailureReason.Name(failure_reason)
    if failure_message:
        body["failure_message"] = failure_message
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
