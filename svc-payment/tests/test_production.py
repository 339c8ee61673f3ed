"""``pasar-payment serve`` in production: the sandbox, which marks payments paid for anyone
who asks, is refused unless a demo shop says its payments are fake; the webhook secret is
refused when anyone could know or guess it. Each started as users start it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar_testkit.processes import ComponentProcess, console_script
from pasar_testkit.production import (
    GOOD_SECRET,
    REFUSED_SECRETS,
    assert_refused,
    refused_secret_ids,
    with_secret,
)

SERVE = [console_script("pasar-payment"), "serve"]


def production_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'payment.db'}",
        "PASAR_PAYMENT_PROVIDER": "sandbox",
        "PASAR_PAYMENT_WEBHOOK_SECRET": GOOD_SECRET,
        # The order service's credential for the internal methods (pasar_kit.callers).
        "PASAR_ORDER_CALLER_TOKEN": GOOD_SECRET[::-1],
        **values,
    }


@pytest.mark.parametrize("demo", [None, "false", "no"])
def test_serve_refuses_the_sandbox_in_production(tmp_path: Path, demo: str | None) -> None:
    env = with_secret(production_env(tmp_path), "PASAR_DEMO_FAKE_PAYMENTS", demo)
    result = assert_refused(SERVE, env, "PASAR_PAYMENT_PROVIDER", "must not be 'sandbox'")
    assert "PASAR_DEMO_FAKE_PAYMENTS=true" in result.stderr, "it names the way out, for a demo"


@pytest.mark.parametrize(("value", "says"), REFUSED_SECRETS, ids=refused_secret_ids())
def test_serve_refuses_a_public_or_short_webhook_secret(tmp_path: Path, value: str | None, says: str) -> None:
    env = with_secret(
        production_env(tmp_path, PASAR_DEMO_FAKE_PAYMENTS="true"), "PASAR_PAYMENT_WEBHOOK_SECRET", value
    )
    result = assert_refused(SERVE, env, "PASAR_PAYMENT_WEBHOOK_SECRET", says)
    assert result.stderr.startswith("pasar-payment: ")


@pytest.fixture
def demo_shop(tmp_path: Path) -> Iterator[ComponentProcess]:
    """A production payment service that a demo deployment opted into fake payments."""
    process = ComponentProcess(
        "payment",
        command=SERVE,
        env={
            "PASAR_ENV": "production",
            "PASAR_LOG_FORMAT": "json",
            **production_env(tmp_path, PASAR_DEMO_FAKE_PAYMENTS="true"),
        },
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_a_demo_shop_settles_by_the_sandbox_and_says_so(demo_shop: ComponentProcess) -> None:
    with grpc.insecure_channel(demo_shop.address) as channel:
        stub = payment_service_pb2_grpc.PaymentServiceStub(channel)
        channels = stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
        assert channels.sandbox is True, "the storefront learns it is a demo"
    assert demo_shop.stop() == 0
    log = demo_shop.log_path.read_text()
    warnings = [line for line in log.splitlines() if '"level": "warning"' in line]
    assert any("a demo shop" in line for line in warnings), log
