"""svc-fulfillment (Go) checked by the repository's harness: gofmt, go vet and go test (on
SQLite, and on a fresh database of the session's MariaDB server), then the built binary
started as users start it: health, a graceful stop, the refusals of a production start,
and a sandbox answer that survives a kill -9.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fulfillment_calls import electricity_token_line, order_service_stub
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2
from pasar_kit.readiness import grpc_health
from pasar_testkit.assertions import eventually, reason_of, refused
from pasar_testkit.go_service import SOURCE_DIR, fulfillment_process, repository_root
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, run_to_exit
from pasar_testkit.production import (
    GOOD_SECRET,
    REFUSED_SECRETS,
    assert_refused,
    refused_secret_ids,
    with_secret,
)

SOURCE = repository_root() / SOURCE_DIR
SERVICE = "pasar.fulfillment.v1.FulfillmentService"
GO_TEST_TIMEOUT = 900  # the first run compiles the SQLite driver for the tests: minutes
STATE = fulfillment_pb2.FulfillmentState
EVENT = fulfillment_pb2.FulfillmentEventType
SANDBOX_REFUSED = "must not be 'sandbox' when PASAR_ENV is 'production'"


def go(command: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """go vet or go test with the flags scripts/lib/go_service.sh builds with (no cgo,
    -trimpath), so that Go's build cache serves the packages the build compiled."""
    return subprocess.run(
        ["go", command, "-trimpath", *args],
        cwd=SOURCE,
        env={**os.environ, "CGO_ENABLED": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=GO_TEST_TIMEOUT,
        check=False,
    )


def test_gofmt_and_go_vet_are_clean() -> None:
    unformatted = subprocess.run(
        ["gofmt", "-l", "."], cwd=SOURCE, capture_output=True, text=True, check=True, timeout=120
    )
    assert unformatted.stdout == "", f"gofmt -w these files:\n{unformatted.stdout}"
    vet = go("vet", "./...")
    assert vet.returncode == 0, vet.stdout + vet.stderr


def test_go_test(database_kind: str, database_url: str) -> None:
    """go test ./... on SQLite; with MariaDB, the store and service tests run on a fresh
    database of the session's server as well (one package at a time: they share it)."""
    env = {"PASAR_TEST_MYSQL_URL": database_url} if database_kind == "mariadb" else {}
    result = go("test", "-count=1", *(["-p", "1"] if env else []), "./...", env=env)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]


@pytest.fixture
def service(binary: Path, tmp_path: Path) -> Iterator[ComponentProcess]:
    process = fulfillment_process(
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}",
            "PASAR_ENV": "development",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "3",
            "PASAR_HEALTH_PROBE_SECONDS": "0.5",
            # The answer is due after the test's kill -9, not before it.
            "PASAR_SANDBOX_BILLER_DELAY_SECONDS": "1.5",
        },
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_serves_health_and_stops_gracefully_on_sigterm(service: ComponentProcess) -> None:
    for name in ("", SERVICE):
        assert grpc_health(service.address, service=name) == health_pb2.HealthCheckResponse.SERVING
    assert service.stop(timeout=10) == 0
    lines = service.log_tail().splitlines()
    assert '"message":"stopped"' in lines[-1]
    assert '"service":"svc-fulfillment"' in lines[-1]


def test_the_health_command_is_the_images_health_check(binary: Path, service: ComponentProcess) -> None:
    """`svc-fulfillment health` (the static image's HEALTHCHECK) exits 0 while the service on
    PASAR_LISTEN_ADDRESS's port says SERVING, and 1 when nothing answers there."""
    healthy = run_to_exit([str(binary), "health"], {"PASAR_LISTEN_ADDRESS": f"0.0.0.0:{service.port}"})
    assert healthy.returncode == 0, healthy.stderr
    service.stop(timeout=10)
    gone = run_to_exit([str(binary), "health"], {"PASAR_LISTEN_ADDRESS": f"0.0.0.0:{service.port}"})
    assert gone.returncode == 1
    assert gone.stderr.startswith("svc-fulfillment: not healthy:")


def test_an_answer_due_when_killed_comes_after_the_restart(service: ComponentProcess) -> None:
    request = electricity_token_line("ord-kill")
    with order_service_stub(service.address) as fulfillments:
        created = fulfillments.CreateFulfillment(request, timeout=5).fulfillment
    assert created.state == STATE.FULFILLMENT_STATE_PENDING
    service.kill()  # before the sandbox's answer is due
    service.start()
    with order_service_stub(service.address) as fulfillments:
        deadline = time.monotonic() + 20
        while (
            got := fulfillments.GetFulfillment(
                fulfillment_service_pb2.GetFulfillmentRequest(id=created.id), timeout=5
            ).fulfillment
        ).state == STATE.FULFILLMENT_STATE_PENDING:
            assert time.monotonic() < deadline, "the sandbox's answer never came after the restart"
            time.sleep(0.1)
        assert got.state == STATE.FULFILLMENT_STATE_SUCCEEDED
        assert len(got.deliveries) == 1
        assert len(got.deliveries[0].token) == 24
        events = fulfillments.WatchFulfillmentEvents(
            fulfillment_service_pb2.WatchFulfillmentEventsRequest(after_sequence=0)
        )
        # Listened to for 2 s, then ended by the test: the stream stays open for events to
        # come. Not by a deadline: the server ends a stream whose deadline passed with
        # RST_STREAM, which the client reports as CANCELLED when it arrives before its own
        # timer fires (1 CI run in many).
        stop_listening = threading.Timer(2, events.cancel)
        stop_listening.start()
        seen: list[int] = []
        try:
            with pytest.raises(grpc.RpcError) as ended:
                seen.extend(response.event.type for response in events)
        finally:
            stop_listening.cancel()
        assert ended.value.code() == grpc.StatusCode.CANCELLED
        assert seen == [EVENT.FULFILLMENT_EVENT_TYPE_CREATED, EVENT.FULFILLMENT_EVENT_TYPE_SUCCEEDED]
        # The retry of the line after the restart is the same fulfillment.
        assert fulfillments.CreateFulfillment(request, timeout=5).fulfillment.id == created.id


def production_env(tmp_path: Path) -> dict[str, str]:
    """A production start that is accepted, but for the one setting a test changes."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}",
        "PASAR_ORDER_CALLER_TOKEN": GOOD_SECRET,
        "PASAR_BILLER_WEBHOOK_SECRET": GOOD_SECRET[::-1],
        "PASAR_BILLER": "sandbox",
        "PASAR_DEMO_FAKE_DELIVERIES": "true",
    }


@pytest.mark.parametrize("variable", ["PASAR_ORDER_CALLER_TOKEN", "PASAR_BILLER_WEBHOOK_SECRET"])
@pytest.mark.parametrize(("value", "says"), REFUSED_SECRETS, ids=refused_secret_ids())
def test_production_refuses_public_or_weak_secrets(
    binary: Path, tmp_path: Path, variable: str, value: str | None, says: str
) -> None:
    env = with_secret(production_env(tmp_path), variable, value)
    assert_refused([str(binary), "serve"], env, variable, says)
    assert not (tmp_path / "fulfillment.db").exists(), "a refused start touches no database"


@pytest.mark.parametrize(
    ("setting", "variable", "says"),
    [
        ({"PASAR_DEMO_FAKE_DELIVERIES": ""}, "PASAR_BILLER", SANDBOX_REFUSED),
        ({"PASAR_BILLER": ""}, "PASAR_BILLER", "is required"),
        ({"PASAR_LISTEN_ADDRESS": "127.0.0.1:0"}, "PASAR_LISTEN_ADDRESS", "must name a port from 1 to 65535"),
    ],
)
def test_production_refuses_the_sandbox_without_the_demo_flag_and_port_0(
    binary: Path, tmp_path: Path, setting: dict[str, str], variable: str, says: str
) -> None:
    env = {name: value for name, value in {**production_env(tmp_path), **setting}.items() if value}
    assert_refused([str(binary), "serve"], env, variable, says)


def test_production_starts_a_demo_with_good_secrets(binary: Path, tmp_path: Path) -> None:
    process = ComponentProcess(
        "fulfillment",
        command=[str(binary), "serve"],
        env={"PASAR_ENV": "production", **production_env(tmp_path)},
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:
        assert grpc_health(process.address) == health_pb2.HealthCheckResponse.SERVING
    finally:
        process.stop()
    assert "this shop is a demo" in process.log_tail()


def test_migrate_needs_the_database_alone(binary: Path, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}", "PASAR_BILLER": "acme"}
    migrate = run_to_exit([str(binary), "migrate"], env)
    assert migrate.returncode == 0, migrate.stderr
    serve = run_to_exit([str(binary), "serve"], env)
    assert serve.returncode == 2
    assert serve.stderr.splitlines() == ["svc-fulfillment: PASAR_BILLER must be one of sandbox, not 'acme'"]


def test_a_taken_address_and_an_unreachable_database_end_the_start_in_one_line(
    binary: Path, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        taken = run_to_exit(
            [str(binary), "serve"],
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}", "PASAR_LISTEN_ADDRESS": address},
        )
    assert taken.returncode == 2
    in_use = f"svc-fulfillment: cannot listen on {address}: the address is already in use"
    assert taken.stderr.splitlines() == [in_use]
    unreachable = run_to_exit(
        [str(binary), "migrate"], {"DATABASE_URL": f"mysql://pasar:hunter2@127.0.0.1:{free_port()}/pasar"}
    )
    assert unreachable.returncode == 2
    (line,) = unreachable.stderr.splitlines()
    assert line.startswith("svc-fulfillment: cannot connect to the database mysql://pasar:***@127.0.0.1:")
    assert "hunter2" not in line


def health_is(address: str, status: int) -> bool:
    try:
        return grpc_health(address, service=SERVICE) == status
    except grpc.RpcError:
        return False


@pytest.mark.mariadb
def test_lists_its_services_and_survives_a_database_outage(
    binary: Path, tmp_path: Path, own_mariadb: MariaDBServer
) -> None:
    """On MySQL: health says NOT_SERVING while the database is down and calls are UNAVAILABLE
    DATABASE_UNAVAILABLE; once it is back, the same process serves again."""
    database_url = own_mariadb.create_database("pasar_fulfillment")
    process = fulfillment_process(
        env={"DATABASE_URL": database_url, "PASAR_HEALTH_PROBE_SECONDS": "0.2"}, log_dir=tmp_path / "logs"
    )
    process.start()
    try:
        with grpc.insecure_channel(process.address) as channel:
            reflection: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
            answers = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            listed = {service.name for answer in answers for service in answer.list_services_response.service}
        assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed
        get = fulfillment_service_pb2.GetFulfillmentRequest(id="ful_" + "0" * 32)
        with order_service_stub(process.address) as fulfillments:
            own_mariadb.stop()
            eventually(
                lambda: health_is(process.address, health_pb2.HealthCheckResponse.NOT_SERVING), timeout=15
            )
            down = refused(lambda: fulfillments.GetFulfillment(get, timeout=10))
            assert (down.code(), reason_of(down)) == (
                grpc.StatusCode.UNAVAILABLE,
                CommonErrorReason.Name(CommonErrorReason.DATABASE_UNAVAILABLE),
            )

            own_mariadb.start()
            eventually(lambda: health_is(process.address, health_pb2.HealthCheckResponse.SERVING), timeout=30)
            missing = refused(lambda: fulfillments.GetFulfillment(get, timeout=10))
            assert missing.code() == grpc.StatusCode.NOT_FOUND
        assert process.running, "the service was not restarted"
    finally:
        assert process.stop() == 0
