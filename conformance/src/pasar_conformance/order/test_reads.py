"""GetOrder: the order for its access token, and the same ORDER_NOT_FOUND for an unknown id,
a wrong token and another order's token, so that ids cannot be probed."""

from __future__ import annotations

import secrets
from functools import partial

from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import error_info, expect_reason, refused
from pasar_conformance.order.shop import Shop

ORDER_NOT_FOUND = ErrorReason.Name(ErrorReason.ORDER_NOT_FOUND)


def unknown_order_id() -> str:
    return f"ord_{secrets.token_hex(16)}"


def test_an_order_is_read_with_its_access_token(shop: Shop) -> None:
    placed = shop.placed()
    assert shop.get(placed.order.id, placed.access_token) == placed.order


def test_an_unknown_id_a_wrong_token_and_another_order_s_token_are_alike_not_found(shop: Shop) -> None:
    placed, other = shop.placed(), shop.placed()
    attempts = {
        "an unknown id": (unknown_order_id(), placed.access_token),
        "a wrong token": (placed.order.id, placed.access_token[::-1]),
        "another order's token": (placed.order.id, other.access_token),
    }
    infos = []
    for order_id, token in attempts.values():
        expect_reason(partial(shop.get, order_id, token), ORDER_NOT_FOUND)
        infos.append(error_info(refused(partial(shop.get, order_id, token))))
    assert all(info == infos[0] for info in infos), f"the answers tell the cases apart: {infos}"


def test_an_unknown_id_or_a_wrong_token_cannot_cancel_an_order(shop: Shop) -> None:
    placed = shop.placed()
    expect_reason(lambda: shop.cancel(unknown_order_id(), placed.access_token), ORDER_NOT_FOUND)
    expect_reason(lambda: shop.cancel(placed.order.id, placed.access_token[::-1]), ORDER_NOT_FOUND)
    assert shop.get(placed.order.id, placed.access_token) == placed.order  # untouched
