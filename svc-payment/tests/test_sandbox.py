"""The sandbox provider: realistic instructions per channel kind, and signed settlements."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from pasar.payment.v1 import payment_pb2
from pasar_payment import qris_payload
from pasar_payment.models import ChannelKind
from pasar_payment.providers.base import MalformedNotification, PaymentOrder, payment_code
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_payment.signatures import sign, signature_matches

SECRET = "sandbox-test-secret"
sandbox = SandboxProvider(SECRET)


def order(
    channel_code: str, kind: ChannelKind, issuer: str, total: int = 54_000, payer_phone_number: str = ""
) -> PaymentOrder:
    return PaymentOrder(
        payment_id="pay_0123456789abcdef0123456789abcdef",
        order_id="ord_1",
        channel_code=channel_code,
        channel_kind=kind,
        issuer_name=issuer,
        total=total,
        currency_code="IDR",
        expire_time=datetime.now(UTC) + timedelta(hours=24),
        description="Pulsa 50.000",
        customer_email="siti@example.co.id",
        payer_phone_number=payer_phone_number,
    )


@pytest.mark.parametrize(
    ("channel_code", "bank", "prefix"),
    [("bca_va", "BCA", "11808"), ("bni_va", "BNI", "8808"), ("bri_va", "BRI", "12808"),
     ("mandiri_va", "Mandiri", "88908"), ("permata_va", "Permata", "8508")],
)  # fmt: skip
def test_virtual_accounts_have_the_bank_prefix_and_16_digits(
    channel_code: str, bank: str, prefix: str
) -> None:
    numbers = set()
    for _ in range(200):
        opened = sandbox.open_payment(order(channel_code, ChannelKind.VIRTUAL_ACCOUNT, bank))
        instructions = opened.instructions
        assert isinstance(instructions, payment_pb2.VirtualAccountInstructions)
        assert instructions.bank_name == bank
        assert instructions.account_name == "PASAR SANDBOX"
        assert re.fullmatch(rf"{prefix}\d{{{16 - len(prefix)}}}", instructions.account_number)
        assert payment_code(instructions) == instructions.account_number
        numbers.add(instructions.account_number)
    assert len(numbers) == 200, "random numbers; the database's unique index guards the rest"


def test_qris_is_a_dynamic_payload_for_the_total() -> None:
    opened = sandbox.open_payment(order("qris", ChannelKind.QRIS, "QRIS", total=15_105))
    instructions = opened.instructions
    assert isinstance(instructions, payment_pb2.QrisInstructions)
    assert qris_payload.checksum_is_valid(instructions.qr_string)
    fields = qris_payload.parse_fields(instructions.qr_string)
    assert fields["54"] == "15105"
    assert fields["01"] == "12"
    assert qris_payload.parse_fields(fields["62"])["05"] == opened.provider_reference
    assert payment_code(instructions) is None


def test_ewallets_get_no_placeholder_link() -> None:
    """The sandbox has no wallet app to open: no link at all, never one to a made-up host."""
    opened = sandbox.open_payment(order("gopay", ChannelKind.EWALLET, "GoPay"))
    instructions = opened.instructions
    assert isinstance(instructions, payment_pb2.EwalletInstructions)
    assert instructions.wallet_name == "GoPay"
    assert (instructions.checkout_url, instructions.phone_number) == ("", "")


@pytest.mark.parametrize(
    ("phone_number", "shown"),
    [("081234567890", "0812****7890"), ("0895123456", "08****3456"), ("085712345678901", "0857****8901")],
)
def test_a_wallet_paid_by_phone_number_shows_it_masked(phone_number: str, shown: str) -> None:
    opened = sandbox.open_payment(order("ovo", ChannelKind.EWALLET, "OVO", payer_phone_number=phone_number))
    instructions = opened.instructions
    assert isinstance(instructions, payment_pb2.EwalletInstructions)
    assert instructions.wallet_name == "OVO"
    assert (instructions.phone_number, instructions.checkout_url) == (shown, "")


def test_convenience_stores_get_a_payment_code() -> None:
    opened = sandbox.open_payment(order("alfamart", ChannelKind.RETAIL_OUTLET, "Alfamart"))
    instructions = opened.instructions
    assert isinstance(instructions, payment_pb2.RetailOutletInstructions)
    assert instructions.outlet_name == "Alfamart"
    assert re.fullmatch(r"PASAR\d{9}", instructions.payment_code)


def test_provider_references_are_unique_and_fit_a_qr_label() -> None:
    references = {
        sandbox.open_payment(order("qris", ChannelKind.QRIS, "QRIS")).provider_reference for _ in range(100)
    }
    assert len(references) == 100
    assert all(re.fullmatch(r"SBX[0-9A-F]{20}", reference) for reference in references)


def test_a_settlement_notification_is_signed_json_the_sandbox_reads_back() -> None:
    paid_time = datetime(2026, 11, 27, 3, 4, 5, 678_000, tzinfo=UTC)
    notification = sandbox.settlement_notification(
        payment_id="pay_0123456789abcdef0123456789abcdef",
        provider_reference="SBX0123456789ABCDEF0123",
        paid_amount=54_000,
        currency_code="IDR",
        paid_time=paid_time,
    )
    assert signature_matches(notification.payload, notification.signature, SECRET)
    body = json.loads(notification.payload)
    assert body["status"] == "PAID"
    assert body["paid_amount"] == 54_000
    assert body["paid_time"] == "2026-11-27T03:04:05.678000+00:00"
    assert body["notification_id"].startswith("sbxn_")
    settlement = sandbox.read_settlement(notification.payload)
    assert settlement.payment_id == "pay_0123456789abcdef0123456789abcdef"
    assert settlement.provider_reference == "SBX0123456789ABCDEF0123"
    assert settlement.paid_amount == 54_000
    assert settlement.currency_code == "IDR"
    assert settlement.paid_time == paid_time
    assert settlement.notification_id == body["notification_id"]
    again = sandbox.settlement_notification(
        payment_id="pay_0123456789abcdef0123456789abcdef",
        provider_reference="SBX0123456789ABCDEF0123",
        paid_amount=54_000,
        currency_code="IDR",
    )
    assert json.loads(again.payload)["notification_id"] != body["notification_id"]


VALID = {
    "notification_id": "sbxn_1",
    "payment_id": "pay_0123456789abcdef0123456789abcdef",
    "provider_reference": "SBX0123456789ABCDEF0123",
    "status": "PAID",
    "paid_amount": 54_000,
    "currency_code": "IDR",
    "paid_time": "2026-11-27T03:04:05+00:00",
}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({**VALID, "status": "EXPIRED"}).encode(), "only 'PAID'"),
        (json.dumps({k: v for k, v in VALID.items() if k != "payment_id"}).encode(), "payment_id"),
        (json.dumps({**VALID, "provider_reference": 7}).encode(), "provider_reference"),
        (json.dumps({**VALID, "paid_amount": "54000"}).encode(), "paid_amount"),
        (json.dumps({**VALID, "paid_amount": True}).encode(), "paid_amount"),
        (json.dumps({**VALID, "paid_amount": -1}).encode(), "paid_amount"),
        (json.dumps({**VALID, "paid_time": "yesterday"}).encode(), "paid_time"),
        (json.dumps({**VALID, "paid_time": "2026-11-27T03:04:05"}).encode(), "UTC offset"),
        (json.dumps({**VALID, "notification_id": "n" * 65}).encode(), "notification_id"),
    ],
)
def test_what_is_not_a_settlement_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedNotification, match=message):
        sandbox.read_settlement(payload)


def test_the_signature_covers_the_exact_bytes() -> None:
    payload = json.dumps(VALID).encode()
    assert signature_matches(payload, sign(payload, SECRET), SECRET)
    assert not signature_matches(json.dumps(VALID, indent=1).encode(), sign(payload, SECRET), SECRET)
