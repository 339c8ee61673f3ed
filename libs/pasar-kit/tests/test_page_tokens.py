"""Page tokens: they lead to the right place, and only for the service, list and filters
that issued them."""

from __future__ import annotations

import base64

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar_kit.errors import InvalidArgument
from pasar_kit.page_tokens import PageTokens

FILTERS = ("pulsa", "nusantara")
TOKENS = PageTokens("product")


def test_a_token_names_the_position_it_was_issued_for() -> None:
    token = TOKENS.encode("products", ["pulsa-nusantara"], FILTERS)
    assert TOKENS.decode(token, "products", FILTERS) == ["pulsa-nusantara"]
    assert TOKENS.decode(TOKENS.encode("categories", [30, "token-listrik"]), "categories") == [
        30,
        "token-listrik",
    ]


def test_tokens_are_opaque_url_safe_and_short() -> None:
    token = TOKENS.encode("products", ["p" * 63], ("c" * 63, "q" * 400))
    assert "pulsa" not in TOKENS.encode("products", ["pulsa"], FILTERS)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) <= 512  # the contracts' limit on page_token


def refusal(call: object) -> InvalidArgument:
    assert callable(call)
    with pytest.raises(InvalidArgument) as caught:
        call()
    assert caught.value.reason == ErrorReason.Name(ErrorReason.INVALID_PAGE_TOKEN)
    assert [field for field, _ in caught.value.field_violations] == ["page_token"]
    return caught.value


def test_a_token_used_with_other_filters_is_refused() -> None:
    token = TOKENS.encode("products", ["pulsa-nusantara"], FILTERS)
    error = refusal(lambda: TOKENS.decode(token, "products", ("pulsa", "samudra")))
    assert "other filters" in error.message
    refusal(lambda: TOKENS.decode(token, "products", ("", "nusantara")))


def test_a_token_of_another_list_is_refused() -> None:
    categories_token = TOKENS.encode("categories", [10, "pulsa"])
    refusal(lambda: TOKENS.decode(categories_token, "products"))


def test_a_token_of_another_service_is_refused() -> None:
    payment_token = PageTokens("payment").encode("products", ["pulsa"])
    refusal(lambda: TOKENS.decode(payment_token, "products"))


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "%%%",
        "AAAA",
        "",
        base64.urlsafe_b64encode(b'[1,"products","x","pulsa"]').decode(),
        "Zm9vYmFy" * 10,
    ],
)
def test_made_up_tokens_are_refused(token: str) -> None:
    refusal(lambda: TOKENS.decode(token, "products", FILTERS))


def test_an_edited_token_is_refused() -> None:
    token = TOKENS.encode("products", ["pulsa-nusantara"], FILTERS)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01  # change one letter of the product id inside
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    refusal(lambda: TOKENS.decode(edited, "products", FILTERS))
