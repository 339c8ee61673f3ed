"""QRIS payloads: EMVCo merchant-presented QR codes as Bank Indonesia's standard uses them.

A payload is a string of TLV fields: a two-digit tag, a two-digit length and the value,
with sub-fields encoded the same way inside templates. It ends with tag 63, a CRC-16/CCITT
(polynomial 0x1021, initial value 0xFFFF) over everything before the checksum's own four
hexadecimal digits, ``6304`` included. Any bank or e-wallet app refuses a payload whose
checksum does not match, so a sandbox payload must be as correct as a real one.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

PAYLOAD_FORMAT = "00"
POINT_OF_INITIATION = "01"
DOMESTIC_MERCHANT_ACCOUNT = "26"
QRIS_MERCHANT_ACCOUNT = "51"
MERCHANT_CATEGORY = "52"
CURRENCY = "53"
AMOUNT = "54"
COUNTRY = "58"
MERCHANT_NAME = "59"
MERCHANT_CITY = "60"
POSTAL_CODE = "61"
ADDITIONAL_DATA = "62"
CRC = "63"

# Sub-fields.
GLOBALLY_UNIQUE_ID = "00"
MERCHANT_PAN = "01"
MERCHANT_ID = "02"
MERCHANT_CRITERIA = "03"
REFERENCE_LABEL = "05"
TERMINAL_LABEL = "07"

DYNAMIC = "12"  # a QR for one payment of one amount, used once
IDR_NUMERIC_CODE = "360"  # ISO 4217 numeric code of the rupiah
QRIS_DOMAIN = "ID.CO.QRIS.WWW"
MAX_VALUE_LENGTH = 99


@dataclass(frozen=True)
class QrisMerchant:
    """The merchant a QR pays, as registered with its acquirer and the QRIS switch."""

    acquirer_domain: str  # the acquirer's reverse domain name, such as "ID.CO.BANK.WWW"
    merchant_pan: str  # the merchant's primary account number (16 to 19 digits)
    merchant_id: str
    national_merchant_id: str  # the NMID QRIS gives the merchant, "ID" and 13 digits
    criteria: str  # UMI, UKE, UME, UBE or URE: the merchant's size class
    category_code: str  # ISO 18245 merchant category code
    name: str  # at most 25 characters, shown by the payer's app
    city: str  # at most 15 characters
    postal_code: str


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of data (the check value of b"123456789" is 0x29B1)."""
    return binascii.crc_hqx(data, 0xFFFF)


def field(tag: str, value: str) -> str:
    """One TLV field."""
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError(f"a tag is two digits, not {tag!r}")
    if not value or len(value) > MAX_VALUE_LENGTH:
        raise ValueError(f"field {tag} must hold 1 to {MAX_VALUE_LENGTH} characters, not {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def with_checksum(payload_without_crc: str) -> str:
    """Appends tag 63 with the CRC of everything before it, ``6304`` included."""
    data = f"{payload_without_crc}{CRC}04"
    return f"{data}{crc16_ccitt(data.encode()):04X}"


def dynamic_payload(merchant: QrisMerchant, amount: int, reference: str) -> str:
    """A dynamic QRIS payload asking for amount rupiah, labelled with reference."""
    if amount <= 0:
        raise ValueError("a dynamic QR asks for a positive amount")
    merchant_account = (
        field(GLOBALLY_UNIQUE_ID, merchant.acquirer_domain)
        + field(MERCHANT_PAN, merchant.merchant_pan)
        + field(MERCHANT_ID, merchant.merchant_id)
        + field(MERCHANT_CRITERIA, merchant.criteria)
    )
    qris_account = (
        field(GLOBALLY_UNIQUE_ID, QRIS_DOMAIN)
        + field(MERCHANT_ID, merchant.national_merchant_id)
        + field(MERCHANT_CRITERIA, merchant.criteria)
    )
    body = (
        field(PAYLOAD_FORMAT, "01")
        + field(POINT_OF_INITIATION, DYNAMIC)
        + field(DOMESTIC_MERCHANT_ACCOUNT, merchant_account)
        + field(QRIS_MERCHANT_ACCOUNT, qris_account)
        + field(MERCHANT_CATEGORY, merchant.category_code)
        + field(CURRENCY, IDR_NUMERIC_CODE)
        + field(AMOUNT, str(amount))
        + field(COUNTRY, "ID")
        + field(MERCHANT_NAME, merchant.name[:25])
        + field(MERCHANT_CITY, merchant.city[:15])
        + field(POSTAL_CODE, merchant.postal_code)
        + field(ADDITIONAL_DATA, field(REFERENCE_LABEL, reference))
    )
    return with_checksum(body)


def parse_fields(payload: str) -> dict[str, str]:
    """The top-level fields of a payload, by tag; raises ValueError when it is not TLV."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(payload):
        header = payload[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise ValueError(f"no TLV header at position {position}")
        length = int(header[2:])
        value = payload[position + 4 : position + 4 + length]
        if len(value) != length:
            raise ValueError(f"field {header[:2]} is cut short")
        fields[header[:2]] = value
        position += 4 + length
    return fields


def checksum_is_valid(payload: str) -> bool:
    """Whether the payload ends with a tag 63 holding the CRC of what precedes it."""
    if len(payload) < 8 or payload[-8:-4] != f"{CRC}04":
        return False
    return payload[-4:] == f"{crc16_ccitt(payload[:-4].encode()):04X}"
