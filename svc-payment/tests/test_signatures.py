"""Notification signatures: lower-case hexadecimal HMAC-SHA256, compared in constant time."""

from __future__ import annotations

import pytest

from pasar_payment.signatures import sign, signature_matches

PAYLOAD = b'{"payment_id":"pay_0123","status":"PAID"}'


def test_sign_is_hmac_sha256_in_lower_case_hex() -> None:
    # The example of RFC 2104's Wikipedia page.
    assert (
        sign(b"The quick brown fox jumps over the lazy dog", "key")
        == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_the_right_signature_matches() -> None:
    assert signature_matches(PAYLOAD, sign(PAYLOAD, "secret"), "secret")


@pytest.mark.parametrize(
    "signature",
    [
        sign(PAYLOAD, "another secret"),
        sign(PAYLOAD + b" ", "secret"),
        sign(PAYLOAD, "secret").upper(),  # the contract says lower case
        sign(PAYLOAD, "secret")[:-1],
        "",
        "ü" * 64,  # not even ASCII: refused, not an error
    ],
)
def test_any_other_signature_does_not(signature: str) -> None:
    assert not signature_matches(PAYLOAD, signature, "secret")


def test_a_changed_payload_does_not_match() -> None:
    assert not signature_matches(PAYLOAD.replace(b"PAID", b"PAYD"), sign(PAYLOAD, "secret"), "secret")
