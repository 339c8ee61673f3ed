"""What the shopper is told about paying (contracts v1.3): one deadline, the payment's
expire_time, which the order answers as its own expire_time; the payment's instructions,
kept on the order as payment_instructions; and for an e-wallet that pushes the request to a
phone (requires_phone_number) the payer's number, refused when missing before anything is
held (PAYER_PHONE_NUMBER_REQUIRED), masked in the instructions once given.

The payment is read through the payment service (``--payment``), as the shop has it."""

from __future__ import annotations

from pasar.order.v1 import order_pb2
from pasar.payment.v1 import payment_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentReason
from pasar_conformance.answers import expect_reason, skip_unreached
from pasar_conformance.destination_fields import PHONE_EXAMPLE
from pasar_conformance.order.shop import PRICE, Shop

PAYER_PHONE_NUMBER_REQUIRED = PaymentReason.Name(PaymentReason.PAYER_PHONE_NUMBER_REQUIRED)


def channels_taking_one_package(shop: Shop) -> list[payment_pb2.PaymentChannel]:
    """One channel of each kind, and each that asks for a phone number, that takes PRICE."""
    chosen: dict[tuple[int, bool], payment_pb2.PaymentChannel] = {}
    for channel in shop.channels():
        if channel.min_amount.amount <= PRICE <= channel.max_amount.amount:
            chosen.setdefault((channel.kind, channel.requires_phone_number), channel)
    assert chosen, "no channel of the shop takes an order of one package"
    return list(chosen.values())


def instructions_of(payment: payment_pb2.Payment) -> payment_pb2.PaymentInstructions:
    """The payment's instructions oneof as the message an order keeps."""
    kept = payment_pb2.PaymentInstructions()
    kind = payment.WhichOneof("instructions")
    assert kind is not None, f"payment {payment.id} has no instructions"
    getattr(kept, kind).CopyFrom(getattr(payment, kind))
    return kept


def assert_payment_terms(order: order_pb2.Order, payment: payment_pb2.Payment, what: str) -> None:
    assert order.expire_time == payment.expire_time, (
        f"{what}: the order expires at {order.expire_time.ToJsonString()}, its payment at "
        f"{payment.expire_time.ToJsonString()}: two deadlines"
    )
    assert order.payment_instructions == instructions_of(payment), (
        f"{what}: the order keeps\n{order.payment_instructions}\nwhere the payment says\n{payment}"
    )


def test_every_channel_s_order_has_its_payment_s_deadline_and_instructions(shop: Shop) -> None:
    channels = channels_taking_one_package(shop)
    packages = shop.packages([1] * len(channels))
    for package, channel in zip(packages, channels, strict=True):
        placed = shop.place(shop.request_through(channel, (package.id, 1)))
        payment = shop.payment_of(placed.payment.id)
        assert_payment_terms(placed.order, payment, f"CreateOrder through {channel.code}")
        read = shop.get(placed.order.id, placed.access_token)
        assert_payment_terms(read, payment, f"GetOrder of an order through {channel.code}")


def test_a_retried_checkout_answers_the_same_deadline_and_instructions(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1))
    placed = shop.place(request)
    again = shop.place(request)
    assert (again.order.expire_time, again.order.payment_instructions) == (
        placed.order.expire_time,
        placed.order.payment_instructions,
    )
    assert_payment_terms(again.order, shop.payment_of(placed.payment.id), "a retried CreateOrder")


def phone_channel(shop: Shop) -> payment_pb2.PaymentChannel:
    """A channel that needs the payer's phone number and takes PRICE (the case skips without)."""
    takes_price = [c for c in shop.channels() if c.min_amount.amount <= PRICE <= c.max_amount.amount]
    channel = next((c for c in takes_price if c.requires_phone_number), None)
    if channel is None:
        skip_unreached(
            "no enabled channel of the shop requires a phone number (requires_phone_number)",
            PAYER_PHONE_NUMBER_REQUIRED,
        )
    return channel


def test_a_channel_that_pushes_to_a_phone_needs_the_payer_s_number_before_anything_is_held(
    shop: Shop,
) -> None:
    channel = phone_channel(shop)
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1), channel=channel.code)
    expect_reason(
        lambda: shop.create(request), PAYER_PHONE_NUMBER_REQUIRED, metadata={"channel_code": channel.code}
    )
    assert shop.stock(package.id) == [10]  # nothing held


def test_the_payer_s_phone_number_is_where_the_request_went_masked(shop: Shop) -> None:
    channel = phone_channel(shop)
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 1), channel=channel.code, payer_phone_number=PHONE_EXAMPLE))
    ewallet = placed.order.payment_instructions.ewallet
    assert placed.order.payment_instructions.WhichOneof("kind") == "ewallet", placed.order
    assert ewallet.phone_number.endswith(PHONE_EXAMPLE[-4:]), ewallet
    assert PHONE_EXAMPLE not in ewallet.phone_number, f"the whole number is shown: {ewallet}"
    assert ewallet.checkout_url == "", f"a push to a phone has no link: {ewallet}"
    assert_payment_terms(
        placed.order, shop.payment_of(placed.payment.id), f"CreateOrder through {channel.code}"
    )
    assert shop.stock(package.id) == [9]
