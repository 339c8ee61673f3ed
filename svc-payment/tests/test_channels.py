"""Payment channels: seeded by the migrations, listed enabled in display order, paged."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import grpc
import peewee
import pytest
from conftest import StartService

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.page_tokens import PageTokens
from pasar_payment.main import MIGRATIONS_DIR
from pasar_payment.models import MODELS, PaymentChannel
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

KIND = payment_pb2.PaymentChannelKind
CHANNEL_IMAGES = Path(__file__).parents[1] / "src" / "pasar_payment" / "channel_images"
SEEDED = [
    "qris", "gopay", "ovo", "dana", "shopeepay",
    "bca_va", "bni_va", "bri_va", "mandiri_va", "permata_va",
    "alfamart", "indomaret",
]  # fmt: skip


def list_all(stub: payment_service_pb2_grpc.PaymentServiceStub, page_size: int = 0) -> list[list[str]]:
    """The codes of every page, following next_page_token to the end."""
    pages: list[list[str]] = []
    token = ""
    while True:
        response = stub.ListPaymentChannels(
            payment_service_pb2.ListPaymentChannelsRequest(page_size=page_size, page_token=token), timeout=10
        )
        pages.append([channel.code for channel in response.payment_channels])
        token = response.next_page_token
        if not token:
            return pages


def test_every_fresh_database_has_the_indonesian_channels(database: peewee.Database) -> None:
    with database.connection_context():
        channels = list(PaymentChannel.select().order_by(PaymentChannel.sort_order))
    assert [channel.code for channel in channels] == SEEDED
    assert all(channel.enabled for channel in channels)
    for channel in channels:
        assert channel.logo_url == f"/images/channels/{channel.code}.svg"
        badge = ElementTree.parse(CHANNEL_IMAGES / f"{channel.code}.svg").getroot()
        assert badge.tag == "{http://www.w3.org/2000/svg}svg"
    assert sorted(path.stem for path in CHANNEL_IMAGES.glob("*.svg")) == sorted(SEEDED)


def test_migrations_are_applied_once_and_match_the_models(database: peewee.Database) -> None:
    assert db.migrate(database, MIGRATIONS_DIR) == [], "an up-to-date database needs nothing"
    with database.connection_context():
        for model in MODELS:
            stored = {column.name for column in database.get_columns(model._meta.table_name)}
            declared = {field.column_name for field in model._meta.sorted_fields}
            assert stored == declared, model.__name__


def test_channels_are_listed_in_display_order_with_their_terms(
    stub: payment_service_pb2_grpc.PaymentServiceStub,
) -> None:
    response = stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    channels = {channel.code: channel for channel in response.payment_channels}
    assert [channel.code for channel in response.payment_channels] == SEEDED
    assert response.next_page_token == ""
    bca = channels["bca_va"]
    assert bca.display_name == "BCA Virtual Account"
    assert bca.kind == KIND.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT
    assert (bca.flat_fee.currency_code, bca.flat_fee.amount, bca.percent_fee_bps) == ("IDR", 4_000, 0)
    assert (bca.min_amount.amount, bca.max_amount.amount) == (10_000, 50_000_000)
    assert bca.payment_ttl.seconds == 24 * 3600
    assert bca.logo_url == "/images/channels/bca_va.svg"
    assert bca.enabled
    assert not bca.requires_phone_number
    qris = channels["qris"]
    assert qris.kind == KIND.PAYMENT_CHANNEL_KIND_QRIS
    assert (qris.flat_fee.amount, qris.percent_fee_bps, qris.payment_ttl.seconds) == (0, 70, 900)
    assert (qris.min_amount.amount, qris.max_amount.amount) == (1_000, 10_000_000)
    for code in ("gopay", "ovo", "dana", "shopeepay"):
        assert channels[code].kind == KIND.PAYMENT_CHANNEL_KIND_EWALLET
        assert 150 <= channels[code].percent_fee_bps <= 200
        assert channels[code].payment_ttl.seconds == 30 * 60
    for code in ("alfamart", "indomaret"):
        assert channels[code].kind == KIND.PAYMENT_CHANNEL_KIND_RETAIL_OUTLET
        assert (channels[code].flat_fee.amount, channels[code].payment_ttl.seconds) == (5_000, 24 * 3600)
    assert [code for code in SEEDED if channels[code].requires_phone_number] == ["ovo", "dana"]


def test_the_common_channels_come_first(stub: payment_service_pb2_grpc.PaymentServiceStub) -> None:
    """QRIS, then the e-wallets, then the virtual accounts, then the convenience stores."""
    response = stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    kinds = [channel.kind for channel in response.payment_channels]
    assert list(dict.fromkeys(kinds)) == [
        KIND.PAYMENT_CHANNEL_KIND_QRIS,
        KIND.PAYMENT_CHANNEL_KIND_EWALLET,
        KIND.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT,
        KIND.PAYMENT_CHANNEL_KIND_RETAIL_OUTLET,
    ], "each kind together, in this order"


def test_the_capped_time_to_pay_is_the_one_listed(start_service: StartService) -> None:
    """PASAR_PAYMENT_TTL_MAX_SECONDS caps every window: a longer one is listed capped, a
    shorter one as it is."""
    running = start_service(PASAR_PAYMENT_TTL_MAX_SECONDS="1200")
    response = running.stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    windows = {channel.code: channel.payment_ttl.ToSeconds() for channel in response.payment_channels}
    assert windows == {code: 900 if code == "qris" else 1200 for code in SEEDED}


def test_pages_follow_each_other_without_gaps(stub: payment_service_pb2_grpc.PaymentServiceStub) -> None:
    pages = list_all(stub, page_size=5)
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [code for page in pages for code in page] == SEEDED
    assert list_all(stub, page_size=12) == [SEEDED]


def test_disabled_channels_are_not_listed_and_paging_stays_stable(
    stub: payment_service_pb2_grpc.PaymentServiceStub, database: peewee.Database
) -> None:
    first = stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(page_size=4), timeout=10)
    assert [channel.code for channel in first.payment_channels] == SEEDED[:4]
    with database.connection_context():
        # Between two pages: a channel already seen and one not yet seen are disabled.
        PaymentChannel.update(enabled=False).where(PaymentChannel.code.in_(["ovo", "bni_va"])).execute()
    rest = list_all_after(stub, first.next_page_token)
    assert rest == [code for code in SEEDED[4:] if code != "bni_va"]
    assert [code for page in list_all(stub) for code in page] == [
        code for code in SEEDED if code not in ("ovo", "bni_va")
    ]


def list_all_after(stub: payment_service_pb2_grpc.PaymentServiceStub, token: str) -> list[str]:
    codes: list[str] = []
    while token:
        response = stub.ListPaymentChannels(
            payment_service_pb2.ListPaymentChannelsRequest(page_size=3, page_token=token), timeout=10
        )
        codes.extend(channel.code for channel in response.payment_channels)
        token = response.next_page_token
    return codes


def forged_token(sort_order: int, code: str) -> str:
    """What the old, unsealed token of the page after (sort_order, code) looked like."""
    return base64.urlsafe_b64encode(json.dumps([sort_order, code]).encode()).decode().rstrip("=")


def edited(token: str) -> str:
    """token with one byte inside it changed."""
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def valid_token(stub: payment_service_pb2_grpc.PaymentServiceStub) -> str:
    request = payment_service_pb2.ListPaymentChannelsRequest(page_size=2)
    return str(stub.ListPaymentChannels(request, timeout=10).next_page_token)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda stub: "not-a-token", id="not-base64-json"),
        pytest.param(lambda stub: "WzEsIDJd", id="a-list-not-ours"),  # base64 of [1, 2]
        pytest.param(lambda stub: forged_token(20, "gopay"), id="forged"),
        pytest.param(lambda stub: forged_token(99_999_999_999, "x"), id="forged-beyond-any"),
        pytest.param(lambda stub: edited(valid_token(stub)), id="edited"),
        pytest.param(lambda stub: valid_token(stub)[:-4], id="cut-short"),
        pytest.param(
            lambda stub: PageTokens("product").encode("categories", [10, "pulsa"]), id="another-service"
        ),
    ],
)
def test_a_page_token_this_service_did_not_issue_is_invalid_page_token(
    stub: payment_service_pb2_grpc.PaymentServiceStub,
    make_token: Callable[[payment_service_pb2_grpc.PaymentServiceStub], str],
) -> None:
    request = payment_service_pb2.ListPaymentChannelsRequest(page_token=make_token(stub))
    error = refused(lambda: stub.ListPaymentChannels(request, timeout=10))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
        {},
    )
    assert violated_fields(error) == ["page_token"]


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "t" * 513}, "page_token"),
    ],
)
def test_bad_paging_is_invalid_argument_naming_the_field(
    stub: payment_service_pb2_grpc.PaymentServiceStub, request_fields: dict[str, object], field: str
) -> None:
    request = payment_service_pb2.ListPaymentChannelsRequest(**request_fields)  # type: ignore[arg-type]
    error = refused(lambda: stub.ListPaymentChannels(request, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error) == [field]
