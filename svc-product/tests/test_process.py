"""``pasar-product`` as users run it: its commands, and ``serve`` as a real process with health,
reflection, a database outage it survives, and a graceful exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit.readiness import grpc_health
from pasar_product.main import MIGRATIONS_DIR, open_database
from pasar_testkit.assertions import reason_of, refused
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.processes import ComponentProcess, console_script
from pasar_testkit.production import assert_migrate_needs_the_database_alone

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICES = ("pasar.product.v1.ProductService", "pasar.product.v1.ProductAdminService")


def run_command(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("pasar-product"), *arguments],
        env={**os.environ, "PASAR_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for_health(address: str, expected: int, timeout: float = 30.0) -> float:
    """Seconds until the server at address reports expected."""
    started = time.monotonic()
    while True:
        try:
            if grpc_health(address) == expected:
                return time.monotonic() - started
        except grpc.RpcError:
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{address} did not report {expected} within {timeout}s")
        time.sleep(0.1)


def get_product(address: str, product_id: str) -> Any:
    with grpc.insecure_channel(address) as channel:
        stub = product_service_pb2_grpc.ProductServiceStub(channel)
        return stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10).product


def test_the_commands_load_catalogs_on_a_fresh_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'product.db'}"}
    first = run_command("load-demo", env=env)  # on a fresh database: it migrates first
    assert first.returncode == 0, first.stderr
    assert '"added_products": 11' in first.stdout
    second = run_command("load-demo", env=env)
    assert '"added_products": 0' in second.stdout
    assert '"added_packages": 0' in second.stdout
    synthetic = run_command("load-synthetic", "--products", "25", env=env)
    assert synthetic.returncode == 0, synthetic.stderr
    assert '"added_products": 25' in synthetic.stdout
    migrate = run_command("migrate", env=env)
    assert migrate.returncode == 0
    assert "applied migrations" not in migrate.stdout


@pytest.mark.parametrize(
    ("arguments", "env", "message"),
    [
        (("migrate",), {"DATABASE_URL": "postgres://localhost/product"}, "DATABASE_URL"),
        (("serve",), {"PASAR_ENV": "production"}, "PASAR_ADMIN_TOKEN"),
        (("serve",), {"PASAR_GRPC_WORKERS": "many"}, "PASAR_GRPC_WORKERS"),
        (("load-synthetic", "--products", "0"), {}, "--products"),
        (("load-synthetic", "--products", "lots"), {}, "--products"),
    ],
)
def test_bad_settings_end_the_command_naming_them(
    tmp_path: Path, arguments: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = run_command(*arguments, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", **env})
    assert result.returncode == 2
    assert message in result.stderr


# Settings serve refuses and migrate, which needs the database alone, never reads.
UNRELATED_BAD_SETTINGS = [
    pytest.param({"PASAR_ENV": "production"}, "PASAR_ADMIN_TOKEN", id="production-without-secrets"),
    pytest.param({"PASAR_TLS_CERT": "/nonexistent/cert.pem"}, "PASAR_TLS_CERT", id="tls-file-missing"),
    pytest.param({"PASAR_LISTEN_ADDRESS": "nowhere"}, "PASAR_LISTEN_ADDRESS", id="listen-address"),
    pytest.param(
        {"PASAR_RESERVATION_TTL_SECONDS": "soon"}, "PASAR_RESERVATION_TTL_SECONDS", id="reservation-ttl"
    ),
]


@pytest.mark.parametrize(("bad", "variable"), UNRELATED_BAD_SETTINGS)
def test_migrate_needs_the_database_url_alone(database_url: str, bad: dict[str, str], variable: str) -> None:
    assert_migrate_needs_the_database_alone(
        "product", database_url, bad, variable, open_database=open_database, migrations_dir=MIGRATIONS_DIR
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[ComponentProcess]]:
    """Processes a test starts; each is stopped by its PID at the end, whatever happened."""
    started: list[ComponentProcess] = []
    yield started
    for process in started:
        process.kill()


def product_process(tmp_path: Path, database_url: str, **env: str) -> ComponentProcess:
    return ComponentProcess(
        "product",
        command=[console_script("pasar-product"), "serve"],
        env={
            "DATABASE_URL": database_url,
            "PASAR_HEALTH_PROBE_SECONDS": "0.3",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "5",
            "PASAR_LOG_FORMAT": "json",
            **env,
        },
        log_dir=tmp_path / "logs",
    )


@pytest.mark.mariadb
def test_serve_reports_health_lists_its_services_and_survives_a_database_outage(
    tmp_path: Path, own_mariadb: MariaDBServer, served: list[ComponentProcess]
) -> None:
    database_url = own_mariadb.create_database("pasar_product")
    product = product_process(tmp_path, database_url)
    served.append(product)
    product.start()
    assert run_command("load-demo", env={"DATABASE_URL": database_url}).returncode == 0
    for service in ("", *SERVICES):
        assert grpc_health(product.address, service=service) == SERVING
    with grpc.insecure_channel(product.address) as channel:
        reflection: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        listed = {service.name for answer in answers for service in answer.list_services_response.service}
    assert listed >= {*SERVICES, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    assert get_product(product.address, "pulsa-nusantara").display_name == "Pulsa Nusantara"

    own_mariadb.stop()
    wait_for_health(product.address, NOT_SERVING, timeout=15)
    assert grpc_health(product.address, service=SERVICES[0]) == NOT_SERVING
    down = refused(lambda: get_product(product.address, "pulsa-nusantara"))
    assert (down.code(), reason_of(down)) == (
        grpc.StatusCode.UNAVAILABLE,
        CommonErrorReason.Name(CommonErrorReason.DATABASE_UNAVAILABLE),
    )

    own_mariadb.start()
    wait_for_health(product.address, SERVING, timeout=30)
    assert product.running, "the service was not restarted"
    assert get_product(product.address, "pulsa-nusantara").display_name == "Pulsa Nusantara"
    assert product.stop() == 0


def test_sigterm_lets_the_call_in_flight_finish_then_exits(
    tmp_path: Path, served: list[ComponentProcess]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'product.db'}"
    assert run_command("load-demo", env={"DATABASE_URL": database_url}).returncode == 0
    product = product_process(tmp_path, database_url, PASAR_FAULT_DELAY_MS="1500")
    served.append(product)
    product.start()
    assert product.process is not None
    pid = product.process.pid
    answers: list[str] = []
    in_flight = threading.Thread(
        target=lambda: answers.append(get_product(product.address, "token-listrik").display_name)
    )
    in_flight.start()
    time.sleep(0.5)  # the call is now waiting inside the server
    os.kill(pid, signal.SIGTERM)
    started = time.monotonic()
    in_flight.join(timeout=10)
    assert answers == ["Token Listrik Prabayar"], "the call in flight was answered"
    assert product.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    late = refused(lambda: get_product(product.address, "token-listrik"))
    assert late.code() == grpc.StatusCode.UNAVAILABLE
    assert '"message": "shutting down"' in product.log_path.read_text()
