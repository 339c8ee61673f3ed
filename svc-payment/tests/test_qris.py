"""QRIS payloads: EMVCo TLV fields and a checksum every payer's app would accept."""

from __future__ import annotations

import pytest

from pasar_payment import qris_payload
from pasar_payment.providers.sandbox import MERCHANT


def bitwise_crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written out bit by bit, independently of the implementation."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def test_crc_has_the_standard_check_value() -> None:
    assert qris_payload.crc16_ccitt(b"123456789") == 0x29B1


@pytest.mark.parametrize("data", [b"", b"000201", b"00020101021253033605802ID6304", bytes(range(256))])
def test_crc_agrees_with_a_bitwise_implementation(data: bytes) -> None:
    assert qris_payload.crc16_ccitt(data) == bitwise_crc16_ccitt_false(data)


def test_dynamic_payload_holds_the_fields_a_payer_app_reads() -> None:
    payload = qris_payload.dynamic_payload(MERCHANT, 15_105, "SBX0123456789ABCDEF0123")
    fields = qris_payload.parse_fields(payload)
    assert list(fields) == ["00", "01", "26", "51", "52", "53", "54", "58", "59", "60", "61", "62", "63"]
    assert fields["00"] == "01"
    assert fields["01"] == "12", "dynamic: one payment, one amount"
    assert fields["53"] == "360"
    assert fields["54"] == "15105"
    assert fields["58"] == "ID"
    assert fields["59"] == MERCHANT.name
    assert fields["60"] == MERCHANT.city
    assert qris_payload.parse_fields(fields["51"])["00"] == "ID.CO.QRIS.WWW"
    assert qris_payload.parse_fields(fields["51"])["02"] == MERCHANT.national_merchant_id
    assert qris_payload.parse_fields(fields["62"]) == {"05": "SBX0123456789ABCDEF0123"}
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{bitwise_crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert qris_payload.checksum_is_valid(payload)


def test_a_changed_payload_fails_its_checksum() -> None:
    payload = qris_payload.dynamic_payload(MERCHANT, 15_105, "SBX0123456789ABCDEF0123")
    tampered = payload.replace("540515105", "540515100")
    assert tampered != payload
    assert not qris_payload.checksum_is_valid(tampered)
    assert not qris_payload.checksum_is_valid(payload[:-8])


def test_field_lengths_are_bounded() -> None:
    assert qris_payload.field("59", "PASAR") == "5905PASAR"
    with pytest.raises(ValueError, match="1 to 99"):
        qris_payload.field("62", "x" * 100)
    with pytest.raises(ValueError, match="1 to 99"):
        qris_payload.field("62", "")
    with pytest.raises(ValueError, match="positive amount"):
        qris_payload.dynamic_payload(MERCHANT, 0, "SBX1")


def test_parse_rejects_what_is_not_tlv() -> None:
    with pytest.raises(ValueError, match="cut short"):
        qris_payload.parse_fields("0005ab")
    with pytest.raises(ValueError, match="no TLV header"):
        qris_payload.parse_fields("00xx")
