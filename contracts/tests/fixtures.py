"""The shared cross-language fixture: one message every language must decode identically.

``testdata/create_order_response.binpb`` is this message serialized, and
``testdata/create_order_response.json`` its proto3 JSON. The Go and TypeScript tests decode
the same bytes and compare their JSON with the same file. The message touches what differs
most between protobuf runtimes: int64 money, enums, a oneof, timestamps, repeated
messages, and non-ASCII text.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import json_format, timestamp_pb2

from pasar.common.v1 import money_pb2
from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2

FIXTURE_STEM = "create_order_response"


def rupiah(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="IDR", amount=amount)


def at(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=0)


def create_order_response() -> order_service_pb2.CreateOrderResponse:
    """A realistic checkout answer: two packages, paid by QRIS."""
    placed = 1_795_000_000
    return order_service_pb2.CreateOrderResponse(
        order=order_pb2.Order(
            id="ord_0123456789abcdef0123456789abcdef",
            state=order_pb2.ORDER_STATE_PENDING_PAYMENT,
            customer_email="budi.santoso@example.co.id",
            lines=[
                order_pb2.OrderLine(
                    package_id="pulsa-nusantara-10k",
                    package_display_name="Pulsa 10.000",
                    product_id="pulsa-nusantara",
                    product_display_name="Pulsa Nusantara — isi ulang ☎",
                    unit_price=rupiah(11_500),
                    quantity=2,
                    line_total=rupiah(23_000),
                ),
                order_pb2.OrderLine(
                    package_id="token-listrik-20k",
                    package_display_name="Token Listrik 20.000",
                    product_id="token-listrik",
                    product_display_name="Token Listrik PLN",
                    unit_price=rupiah(21_000),
                    quantity=1,
                    line_total=rupiah(21_000),
                ),
            ],
            subtotal=rupiah(44_000),
            fee=rupiah(308),
            total=rupiah(44_308),
            payment_channel_code="qris",
            payment_id="pay_fedcba9876543210fedcba9876543210",
            language_code="id",
            create_time=at(placed),
            update_time=at(placed),
            expire_time=at(placed + 900),
        ),
        access_token="q3v8Zk1tYH0mXw2nR5sL7pA9cE4uJ6dB",
        payment=payment_pb2.Payment(
            id="pay_fedcba9876543210fedcba9876543210",
            order_id="ord_0123456789abcdef0123456789abcdef",
            channel_code="qris",
            channel_kind=payment_pb2.PAYMENT_CHANNEL_KIND_QRIS,
            state=payment_pb2.PAYMENT_STATE_PENDING,
            amount=rupiah(44_000),
            fee=rupiah(308),
            total=rupiah(44_308),
            qris=payment_pb2.QrisInstructions(
                qr_string="00020101021226570011ID.PASAR.WWW5204000053033605405443085802ID6304ABCD"
            ),
            provider="sandbox",
            provider_reference="sbx_7f3a",
            create_time=at(placed),
            expire_time=at(placed + 900),
            update_time=at(placed),
        ),
    )


def fixture_json(response: order_service_pb2.CreateOrderResponse) -> str:
    """The proto3 JSON every language must produce from the fixture's bytes."""
    return json_format.MessageToJson(response, indent=2, sort_keys=True) + "\n"


def write_fixture(testdata: Path) -> None:
    """Rewrites the fixture files; run this module as a script after changing the message."""
    response = create_order_response()
    (testdata / f"{FIXTURE_STEM}.binpb").write_bytes(response.SerializeToString(deterministic=True))
    (testdata / f"{FIXTURE_STEM}.json").write_text(fixture_json(response))


if __name__ == "__main__":
    write_fixture(Path(__file__).resolve().parent.parent / "testdata")
