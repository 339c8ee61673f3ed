"""`pasar-payment` as users run it: a real process, health, reflection, graceful SIGTERM."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import create_payment
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar_payment.main import MIGRATIONS_DIR, open_database
from pasar_testkit.assertions import eventually
from pasar_testkit.callers import as_order_service
from pasar_testkit.processes import ComponentProcess, console_script
from pasar_testkit.production import assert_migrate_needs_the_database_alone

PAYMENT_SERVICE = "pasar.payment.v1.PaymentService"
GRACE_SECONDS = 30


@pytest.fixture
def payment_process(database_url: str, tmp_path: Path) -> Iterator[ComponentProcess]:
    process = ComponentProcess(
        "payment",
        command=[console_script("pasar-payment"), "serve"],
        env={
            "PASAR_ENV": "development",
            "DATABASE_URL": database_url,
            "PASAR_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
            "PASAR_PAYMENT_EVENT_POLL_SECONDS": "600",
            "PASAR_LOG_FORMAT": "json",
        },
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_the_service_serves_health_and_reflection_and_stops_gracefully(
    payment_process: ComponentProcess,
) -> None:
    with grpc.insecure_channel(payment_process.address) as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        for service in ("", PAYMENT_SERVICE):
            response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        reflection: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        services = {service.name for answer in answers for service in answer.list_services_response.service}
        assert PAYMENT_SERVICE in services

        stub = payment_service_pb2_grpc.PaymentServiceStub(as_order_service(channel))
        payment = create_payment(stub, channel_code="qris", amount=15_000)
        stream = stub.WatchPaymentEvents(payment_service_pb2.WatchPaymentEventsRequest(), timeout=120)
        received: list[str] = []
        ended: list[grpc.StatusCode] = []

        def read() -> None:
            try:
                received.extend(response.event.payment.id for response in stream)
            except grpc.RpcError as error:
                ended.append(error.code())

        reader = threading.Thread(target=read)
        reader.start()
        eventually(lambda: received, timeout=10, message="the stream delivered nothing")
        assert received == [payment.id], "the stream is open and has delivered the backlog"

        started = time.monotonic()
        status = payment_process.stop(timeout=GRACE_SECONDS + 10)
        stopped_in = time.monotonic() - started
        reader.join(10)
    assert status == 0, payment_process.log_tail()
    assert stopped_in < GRACE_SECONDS / 2, f"took {stopped_in:.1f}s: the open stream held the shutdown"
    assert ended == [grpc.StatusCode.UNAVAILABLE]
    assert '"message": "stopped"' in payment_process.log_path.read_text()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("pasar-payment"), *args],
        env={"PATH": "/usr/bin:/bin", "PASAR_LOG_FORMAT": "text", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_prepares_a_fresh_database_once(database_url: str) -> None:
    first = run_cli("migrate", env={"DATABASE_URL": database_url})
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied migrations" in first.stdout
    again = run_cli("migrate", env={"DATABASE_URL": database_url})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "applied migrations" not in again.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PASAR_PAYMENT_PROVIDER": "paypal"}, "PASAR_PAYMENT_PROVIDER must be one of sandbox"),
        ({"PASAR_ENV": "production"}, "PASAR_PAYMENT_PROVIDER is required"),
        (
            {"PASAR_ENV": "production", "PASAR_PAYMENT_PROVIDER": "sandbox"},
            "PASAR_PAYMENT_PROVIDER must not be 'sandbox'",
        ),
        (
            {"PASAR_ENV": "production", "PASAR_PAYMENT_PROVIDER": "sandbox", "PASAR_DEMO_FAKE_PAYMENTS": "1"},
            "PASAR_PAYMENT_WEBHOOK_SECRET is required",
        ),
        ({"DATABASE_URL": "postgres://db/payment"}, "DATABASE_URL must start with"),
    ],
)
def test_bad_configuration_stops_at_start_with_the_variable_named(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run_cli("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", **env})
    assert result.returncode == 2
    assert message in result.stderr


# Settings serve refuses and migrate, which needs the database alone, never reads.
UNRELATED_BAD_SETTINGS = [
    pytest.param({"PASAR_ENV": "production"}, "PASAR_PAYMENT_PROVIDER", id="production-without-secrets"),
    pytest.param({"PASAR_PAYMENT_PROVIDER": "paypal"}, "PASAR_PAYMENT_PROVIDER", id="unknown-provider"),
    pytest.param({"PASAR_TLS_CERT": "/nonexistent/cert.pem"}, "PASAR_TLS_CERT", id="tls-file-missing"),
    pytest.param({"PASAR_LISTEN_ADDRESS": "nowhere"}, "PASAR_LISTEN_ADDRESS", id="listen-address"),
]


@pytest.mark.parametrize(("bad", "variable"), UNRELATED_BAD_SETTINGS)
def test_migrate_needs_the_database_url_alone(database_url: str, bad: dict[str, str], variable: str) -> None:
    assert_migrate_needs_the_database_alone(
        "payment", database_url, bad, variable, open_database=open_database, migrations_dir=MIGRATIONS_DIR
    )
