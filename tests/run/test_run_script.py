"""``scripts/run`` as users run it: a second one refuses what the first runs, and names it.

Started twice, it once started a second shop whose services shared the first one's ports
(grpcio's SO_REUSEPORT). Each run here has its own var/ folder (PASAR_VAR_DIR) and ports
(PASAR_GRPC_BASE_PORT, PASAR_PORT), and every process is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from pasar_kit.readiness import grpc_health, wait_until_serving
from pasar_kit.testing.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass
class Shop:
    """Where a test's runs keep their files, and the port svc-product gets."""

    var: Path
    port: int
    env: dict[str, str]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run_files(self) -> list[Path]:
        return sorted((self.var / "run").glob("shop-*.json"))

    def component_pids(self) -> list[int]:
        return [c["pid"] for path in self.run_files() for c in json.loads(path.read_text())["components"]]


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until_gone(pid: int, timeout: float = 30.0) -> None:
    """Waits for a process that is not our child (a killed run's orphan) to exit."""
    deadline = time.monotonic() + timeout
    while is_running(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"PID {pid} still runs after {timeout}s")
        time.sleep(0.1)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    port = free_port()
    env = {
        **os.environ,
        "PASAR_VAR_DIR": str(tmp_path / "var"),
        "PASAR_GRPC_BASE_PORT": str(port),
        "PASAR_PORT": str(free_port()),
        "PASAR_LOG_FORMAT": "json",
    }
    return Shop(tmp_path / "var", port, env)


@pytest.fixture
def runs(shop: Shop) -> Iterator[list[subprocess.Popen[bytes]]]:
    """scripts/run processes a test starts; at the end each is stopped, and any component a
    killed one left behind is killed, by PID."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    for pid in shop.component_pids():
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)


def start_run(shop: Shop, runs: list[subprocess.Popen[bytes]], log: Path) -> subprocess.Popen[bytes]:
    """scripts/run svc-product in the background, once it serves."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(REPO / "scripts" / "run"), "svc-product"],
            env=shop.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    runs.append(process)
    wait_until_serving(shop.address, timeout=120, process=process)
    return process


def run_again(shop: Shop) -> subprocess.CompletedProcess[str]:
    """scripts/run svc-product, which is expected to refuse and end by itself."""
    return subprocess.run(
        [str(REPO / "scripts" / "run"), "svc-product"],
        env=shop.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_second_run_refuses_while_the_first_runs_and_names_it(
    shop: Shop, runs: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    # A file left by a killed run whose PID now belongs to another program: not a shop.
    (shop.var / "run").mkdir(parents=True)
    stale = shop.var / "run" / "shop-999999.json"
    reused = {"pid": os.getpid(), "started": 1, "url": "http://127.0.0.1:1", "requested": ["svc-product"]}
    stale.write_text(json.dumps({**reused, "components": []}))

    first = start_run(shop, runs, tmp_path / "first.log")
    assert not stale.exists(), "the stale file was cleared"
    [product_pid] = shop.component_pids()

    second = run_again(shop)
    assert second.returncode == 1, second.stdout
    assert (
        f"not started: a shop started by scripts/run (PID {first.pid}) is running at {shop.address}: "
        f"svc-product (PID {product_pid}, {shop.address}); stop it first" in second.stdout
    )
    assert grpc_health(shop.address) == SERVING, "the first shop serves on"

    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=30) == 0
    assert not is_running(product_pid), "Ctrl-C stopped what the run started"
    assert shop.run_files() == [], "the run removed its file"


def test_a_killed_run_names_what_it_left_running_until_that_stops(
    shop: Shop, runs: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    first = start_run(shop, runs, tmp_path / "first.log")
    [product_pid] = shop.component_pids()
    first.kill()  # SIGKILL: no clean-up; svc-product runs on in its own session
    first.wait()

    refused = run_again(shop)
    assert refused.returncode == 1, refused.stdout
    assert (
        f"a shop started by scripts/run (PID {first.pid}, killed since) left running: "
        f"svc-product (PID {product_pid}, {shop.address}); stop them first (kill {product_pid})"
        in refused.stdout
    )

    os.kill(product_pid, signal.SIGTERM)
    wait_until_gone(product_pid)
    third = start_run(shop, runs, tmp_path / "third.log")
    assert [path.name for path in shop.run_files()] == [f"shop-{third.pid}.json"]
    third.send_signal(signal.SIGTERM)
    assert third.wait(timeout=30) == 0


def test_a_port_held_by_something_else_stops_the_run_before_it_migrates(shop: Shop) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", shop.port))
        holder.listen()
        result = run_again(shop)
    assert result.returncode == 1, result.stdout
    refusal = f"svc-product: cannot listen on {shop.address}: the address is already in use"
    assert f"could not start the shop: {refusal}" in result.stdout
    assert not (shop.var / "product.db").exists(), "nothing was migrated"
    assert shop.run_files() == []
