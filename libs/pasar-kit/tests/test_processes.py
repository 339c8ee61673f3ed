"""PASAR_GRPC_PROCESSES: a service as a supervisor and forked workers sharing one port.

Real pasar-product processes on free loopback ports, stopped by their PID; which worker
holds a connection is read from /proc (the socket's inode among the worker's descriptors).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit.config import ConfigError, Env
from pasar_kit.processes import MAX_EARLY_DEATHS
from pasar_kit.server import grpc_processes, usable_cpus
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, ProcessId, children_of, console_script, run_to_exit
from pasar_testkit.scrape import scrape

PROCESSES = "PASAR_GRPC_PROCESSES"
ESTABLISHED = "01"  # the st column of /proc/net/tcp


def product_env(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        "PASAR_ENV": "development",
        "PASAR_LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'product.db'}",
        "PASAR_SHUTDOWN_GRACE_SECONDS": "2",
        PROCESSES: "2",
        **env,
    }


def worker_pids(service: ComponentProcess, count: int = 2, timeout: float = 30.0) -> list[int]:
    """The pids of the service's workers once count of them have logged that they serve."""
    assert service.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = {child.pid for child in children_of(service.process.pid)}
        serving = {
            pid
            for entry in service.logged_lines()
            if entry.get("message") == "serving"
            and isinstance(pid := entry.get("pid"), int)
            and pid in children
        }
        if len(serving) >= count:
            return sorted(serving)
        time.sleep(0.1)
    raise TimeoutError(f"fewer than {count} workers serve:\n{service.log_tail()}")


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[ComponentProcess]:
    """pasar-product serving with two worker processes, stopped by its PID at the end (on
    SQLite and MariaDB: no connection may cross a fork)."""
    service = ComponentProcess(
        "product",
        command=[console_script("pasar-product"), "serve"],
        env=product_env(tmp_path, DATABASE_URL=database_url),
        log_dir=tmp_path / "logs",
    )
    service.start()
    try:
        yield service
    finally:
        service.stop()


def socket_inodes_of(pid: int) -> set[str]:
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def connection_owners(port: int, workers: list[int]) -> list[int]:
    """For each established connection accepted on port, the worker holding it."""
    accepted = []
    for table in ("tcp", "tcp6"):  # gRPC may accept IPv4 on an IPv6 socket (::ffff:127.0.0.1)
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rpartition(":")[2], 16)
            if local_port == port and fields[3] == ESTABLISHED:
                accepted.append(fields[9])
    held = {worker: socket_inodes_of(worker) for worker in workers}
    return [worker for inode in accepted for worker, inodes in held.items() if inode in inodes]


def checked_on_new_connections(address: str, count: int) -> list[grpc.Channel]:
    """count channels, each of its own connection, each having answered a health check."""
    channels = []
    for _ in range(count):
        channel = grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
        health: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack the Check attribute
        answer = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        channels.append(channel)
    return channels


def assert_new_connections_reach(service: ComponentProcess, workers: list[int]) -> None:
    """Sixteen new connections, each answered, are spread over every one of workers."""
    channels = checked_on_new_connections(service.address, 16)
    try:
        assert set(connection_owners(service.port, workers)) == set(workers)
    finally:
        for channel in channels:
            channel.close()


def test_two_workers_serve_one_port_and_calls_reach_both(product: ComponentProcess) -> None:
    workers = worker_pids(product)
    assert product.process is not None
    assert sorted(child.pid for child in children_of(product.process.pid)) == workers
    assert_new_connections_reach(product, workers)


def test_workers_told_port_0_share_the_one_the_system_picked(tmp_path: Path) -> None:
    service = ComponentProcess(
        "product",
        command=[console_script("pasar-product"), "serve"],
        env=product_env(tmp_path, PASAR_LISTEN_ADDRESS="127.0.0.1:0"),
        log_dir=tmp_path / "logs",
    )
    service.log_path.parent.mkdir(parents=True)
    with service.log_path.open("ab") as log:  # started by hand: its address is not known before
        service.process = subprocess.Popen(
            service.command, env=service.env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        worker_pids(service)
        ports = {
            entry["port"]
            for entry in service.logged_lines()
            if entry.get("message") == "serving" and "pid" in entry
        }
        supervisor = next(entry for entry in service.logged_lines() if "pids" in entry)
        assert len(ports) == 1
        assert supervisor["address"] == f"127.0.0.1:{ports.pop()}"
    finally:
        service.stop()


def test_the_metrics_of_every_worker_appear_at_the_one_address(product: ComponentProcess) -> None:
    workers = worker_pids(product)
    channels = checked_on_new_connections(product.address, 16)
    try:
        assert set(connection_owners(product.port, workers)) == set(workers)
        for channel in channels:
            product_service_pb2_grpc.ProductServiceStub(channel).ListProducts(
                product_service_pb2.ListProductsRequest(), timeout=10
            )
    finally:
        for channel in channels:
            channel.close()
    metrics_url = f"http://{product.logged('metrics_address')}/metrics"
    listed = {
        "grpc_service": "pasar.product.v1.ProductService",
        "grpc_method": "ListProducts",
        "grpc_type": "unary",
    }
    deadline = time.monotonic() + 10  # each worker adds its figures every second
    while (page := scrape(metrics_url)).value("grpc_server_started_total", **listed) != 16:
        assert time.monotonic() < deadline, page.text
        time.sleep(0.2)
    # Named as one process names them (the dashboards' and alerts' names), added up.
    assert page.value("grpc_server_handled_total", grpc_code="OK", **listed) == 16
    assert page.value("grpc_server_handling_seconds_count", **listed) == 16
    assert page.value("grpc_server_handling_seconds_bucket", le="+Inf", **listed) == 16
    assert (page.value("grpc_server_handling_seconds_sum", **listed) or 0) > 0
    assert not [sample.name for sample in page.samples if sample.name.startswith("pasar_worker_")]
    # The service's own figures, read once from the database by the supervisor.
    assert page.value("pasar_reservations_held") == 0
    assert len(page.find("pasar_db_connections_max")) == 1


def test_sigterm_stops_every_process_with_status_0(product: ComponentProcess) -> None:
    assert product.process is not None
    workers = [ProcessId.of(pid) for pid in worker_pids(product)]
    assert product.stop() == 0
    assert not [worker for worker in workers if worker is not None and worker.alive]
    assert "Traceback" not in product.log_tail(200)


def test_a_killed_supervisor_leaves_no_worker(product: ComponentProcess) -> None:
    assert product.process is not None
    workers = [ProcessId.of(pid) for pid in worker_pids(product)]
    product.process.kill()  # SIGKILL, and nothing else: the kernel ends the workers
    product.process.wait()
    deadline = time.monotonic() + 5
    while any(worker is not None and worker.alive for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [worker.pid for worker in workers if worker is not None and worker.alive]
    product.process = None


def test_a_killed_service_is_gone_with_its_workers_and_restarts_on_its_port(
    product: ComponentProcess,
) -> None:
    """ComponentProcess.kill returns once the workers are gone too: a restart on the same
    port must not meet a worker of the killed supervisor still bound to it."""
    workers = [ProcessId.of(pid) for pid in worker_pids(product)]
    product.kill()
    assert not [worker.pid for worker in workers if worker is not None and worker.alive]
    product.start()
    channels = checked_on_new_connections(product.address, 4)
    for channel in channels:
        channel.close()


def test_the_metrics_folder_of_a_killed_supervisor_is_removed_by_the_next_start(
    product: ComponentProcess,
) -> None:
    """A SIGKILL leaves the workers' figures folder behind (no code of the supervisor runs);
    the next start of the service removes it, and never the folder of a supervisor alive."""
    assert product.process is not None
    killed = product.process.pid
    worker_pids(product)
    left = list(Path(tempfile.gettempdir()).glob(f"pasar-product-metrics-{killed}-*"))
    assert len(left) == 1, "the folder names its supervisor"
    product.kill()
    assert left[0].exists()
    product.start()
    assert product.process is not None
    worker_pids(product)
    assert not left[0].exists()
    assert list(Path(tempfile.gettempdir()).glob(f"pasar-product-metrics-{product.process.pid}-*"))


def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(product: ComponentProcess) -> None:
    first, second = worker_pids(product)
    os.kill(first, signal.SIGKILL)
    assert product.process is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = worker_pids(product)
        if first not in workers and second in workers and len(workers) == 2:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the killed worker was not replaced:\n{product.log_tail()}")
    replaced = [e for e in product.logged_lines() if str(e.get("message")).startswith("a worker exited")]
    assert [(entry["pid"], entry["signal"]) for entry in replaced] == [(first, "SIGKILL")]
    assert_new_connections_reach(product, workers)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_process_count_ends_the_start_in_one_line(value: str, tmp_path: Path) -> None:
    result = run_to_exit(
        [console_script("pasar-product"), "serve"], product_env(tmp_path, **{PROCESSES: value})
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pasar-product: {PROCESSES} must be a positive whole number or 'auto', not {value!r}"
    ]


def test_a_bad_setting_ends_the_start_before_any_migration(tmp_path: Path) -> None:
    env = product_env(tmp_path, PASAR_SHUTDOWN_GRACE_SECONDS="soon")
    result = run_to_exit([console_script("pasar-product"), "serve"], env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "PASAR_SHUTDOWN_GRACE_SECONDS" in result.stderr
    database = tmp_path / "product.db"
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []


def test_a_port_another_process_holds_ends_the_start_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        result = run_to_exit(
            [console_script("pasar-product"), "serve"],
            product_env(tmp_path, PASAR_LISTEN_ADDRESS=f"127.0.0.1:{port}"),
        )
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [f"pasar-product: cannot listen on 127.0.0.1:{port}: the address is already in use"],
    )


# A supervisor of workers that exit as the test says, in a process of its own: forking the
# test process itself would copy whatever gRPC state earlier tests left in it.
SUPERVISED = """
import os, sys, threading, time
from pasar_kit.processes import Supervisor

marker = sys.argv[1]
def work():
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return 2  # the second worker
    time.sleep(60)  # the first: serving, until the supervisor stops it
    return 0
supervisor = Supervisor(2, work, fork_turn=threading.Lock())
supervisor.start()
sys.exit(supervisor.wait())
"""


def test_a_worker_that_cannot_start_ends_the_service_with_status_2(tmp_path: Path) -> None:
    """The first worker starts and serves; the second fails as a bad setting would."""
    result = subprocess.run(
        [sys.executable, "-c", SUPERVISED, str(tmp_path / "started")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2


# Workers that crash at every start (a bug, not a start-up failure they could name).
CRASHING = """
import sys, threading
from pasar_kit.processes import Supervisor

def work():
    raise RuntimeError("a crash at start")
supervisor = Supervisor(2, work, fork_turn=threading.Lock())
supervisor.start()
sys.exit(supervisor.wait())
"""


def test_workers_that_crash_at_every_start_end_the_service_instead_of_being_forked_forever() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASHING], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stderr.count("RuntimeError: a crash at start") >= MAX_EARLY_DEATHS


def test_auto_is_the_cpus_this_process_may_use_capped_by_its_cgroup_quota(tmp_path: Path) -> None:
    cpus = len(os.sched_getaffinity(0))
    assert grpc_processes(Env({PROCESSES: "auto"}), cgroup_root=tmp_path) == cpus
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(tmp_path) == cpus
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert usable_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text(f"{(cpus + 3) * 100000} 100000\n")
    assert usable_cpus(tmp_path) == cpus


def test_one_process_is_the_default_and_counts_are_taken() -> None:
    assert grpc_processes(Env({})) == 1
    assert grpc_processes(Env({PROCESSES: " 3 "})) == 3
    with pytest.raises(ConfigError, match=PROCESSES):
        grpc_processes(Env({PROCESSES: "0"}))


def test_more_than_one_process_is_refused_where_workers_cannot_share_a_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On macOS (no PR_SET_PDEATHSIG, and one process of a shared port gets every connection)
    a count above 1 is a clear setting error, and auto is one process."""
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ConfigError, match=PROCESSES):
        grpc_processes(Env({PROCESSES: "2"}))
    assert grpc_processes(Env({PROCESSES: "auto"})) == 1
    assert grpc_processes(Env({PROCESSES: "1"})) == 1
