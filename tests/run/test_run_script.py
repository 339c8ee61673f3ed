"""``scripts/run`` as users run it: a second one refuses what the first runs, and names it;
a second shop on other ports and files runs beside the first; Ctrl-C stops everything even
when nobody reads the output any more; --observe starts Jaeger, sends every component's
traces there and stops it with the rest (without it, no OTEL variable is set).

Started twice, it once started a second shop whose services shared the first one's ports
(grpcio's SO_REUSEPORT). Each run here has its own var/ folder (PASAR_VAR_DIR) and ports
(PASAR_GRPC_BASE_PORT, PASAR_PORT; Jaeger's PASAR_JAEGER_*_PORT, since its usual 4317 and
16686 may be another run's), and every process is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from pasar_kit.readiness import grpc_health, wait_until_http_ok, wait_until_serving
from pasar_testkit.jaeger import USUAL_PORTS
from pasar_testkit.ports import free_port
from pasar_testkit.processes import stop_processes
from pasar_testkit.waiting import wait_for

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

    @property
    def service_addresses(self) -> list[str]:
        """svc-product's, svc-payment's, svc-order's and svc-fulfillment's: PASAR_GRPC_BASE_PORT
        and the next three."""
        return [f"127.0.0.1:{self.port + offset}" for offset in range(4)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['PASAR_PORT']}"

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
    wait_for(lambda: not is_running(pid), timeout, f"PID {pid} gone", interval=0.1)


def free_ports(count: int) -> int:
    """The first of count consecutive loopback ports that nothing listens on right now."""
    while True:
        first = free_port()
        if first + count > 65536:
            continue
        with contextlib.ExitStack() as probes:
            try:
                for port in range(first, first + count):
                    probes.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return first


def new_shop(folder: Path) -> Shop:
    port = free_ports(4)
    env = {
        **{name: value for name, value in os.environ.items() if name != "PASAR_LISTEN_ADDRESS"},
        "PASAR_VAR_DIR": str(folder / "var"),
        "PASAR_GRPC_BASE_PORT": str(port),
        "PASAR_PORT": str(free_port()),
        "PASAR_LOG_FORMAT": "json",
    }
    return Shop(folder / "var", port, env)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return new_shop(tmp_path)


def kill_leftovers(pids: list[int]) -> None:
    """SIGKILL to each of pids still running (components a failed run left behind)."""
    for pid in pids:
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def runs(shop: Shop) -> Iterator[list[subprocess.Popen[bytes]]]:
    """scripts/run processes a test starts; at the end each is stopped, and any component a
    killed one left behind is killed, by PID."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    stop_processes(started, grace=30)
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


SERVICES = ["svc-product", "svc-payment", "svc-order", "svc-fulfillment"]


class PipeReader:
    """The read end of a pipe, drained until close(), as `tee` reads until Ctrl-C ends it."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._closing.is_set():
            if select.select([self.read_end], [], [], 0.1)[0] and not os.read(self.read_end, 65536):
                break
        os.close(self.read_end)

    def close(self) -> None:
        """Closes the read end: the writer's next write fails with EPIPE."""
        self._closing.set()
        self._thread.join()


def test_ctrl_c_stops_every_component_when_nobody_reads_the_output(
    shop: Shop, runs: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """`scripts/run | tee log`, then Ctrl-C: tee ends first, and printing "stopping" failed
    with BrokenPipeError before the stop, which left every service running."""
    output = PipeReader()
    with (tmp_path / "stderr.log").open("ab") as errors:
        run = subprocess.Popen(
            [str(REPO / "scripts" / "run"), *SERVICES], env=shop.env, stdout=output.write_end, stderr=errors
        )
    os.close(output.write_end)
    runs.append(run)
    pids: list[int] = []
    try:
        for address in shop.service_addresses:
            wait_until_serving(address, timeout=120, process=run)
        pids = shop.component_pids()
        assert len(pids) == len(SERVICES)
        output.close()  # tee is gone...
        run.send_signal(signal.SIGINT)  # ...and the run gets the same Ctrl-C
        assert run.wait(timeout=60) == 0, (tmp_path / "stderr.log").read_text()
        for pid in pids:
            wait_until_gone(pid, timeout=5)  # the run waited for each before it exited
        assert shop.run_files() == []
    finally:
        output.close()
        kill_leftovers(pids)


def storefront_build(folder: Path) -> Path:
    """A storefront build for PASAR_STATIC_DIR (so that scripts/run builds none)."""
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>Pasar</title><div id=app></div>")
    return folder


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_a_second_shop_on_other_ports_and_files_runs_beside_the_first(tmp_path: Path) -> None:
    """PASAR_PORT, PASAR_GRPC_BASE_PORT and PASAR_VAR_DIR move a whole shop, gateway and services."""
    static = storefront_build(tmp_path / "dist")
    shops = [new_shop(tmp_path / name) for name in ("first", "second")]
    started: list[subprocess.Popen[bytes]] = []
    pids: list[int] = []
    try:
        for number, shop in enumerate(shops):
            with (tmp_path / f"run-{number}.log").open("ab") as log:
                run = subprocess.Popen(
                    [str(REPO / "scripts" / "run")],
                    env={**shop.env, "PASAR_STATIC_DIR": str(static)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            started.append(run)
            wait_until_http_ok(f"{shop.url}/readyz", timeout=180, process=run)
            pids += shop.component_pids()
        assert len(set(pids)) == 10, "five components each, all running at once"
        for shop in shops:
            for address in shop.service_addresses:
                assert grpc_health(address) == SERVING
            status, body = get(f"{shop.url}/api/v1/products")
            assert status == 200
            assert json.loads(body)["products"], "each shop has its demo catalog"
        first, second = started
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 0
        # The second shop's gateway reads its own services: it still serves, and is ready.
        assert get(f"{shops[1].url}/readyz")[0] == 200
        assert get(f"{shops[1].url}/api/v1/products")[0] == 200
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=60) == 0
        for pid in pids:
            wait_until_gone(pid, timeout=5)
    finally:
        for run in started:
            if run.poll() is None:
                run.send_signal(signal.SIGTERM)
                run.wait(timeout=60)
        kill_leftovers(pids)


def test_a_listen_address_in_the_environment_is_refused_naming_the_settings_that_move_the_shop(
    shop: Shop,
) -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "run"), "svc-product"],
        env={**shop.env, "PASAR_LISTEN_ADDRESS": "127.0.0.1:50151"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "PASAR_LISTEN_ADDRESS is set" in result.stderr
    for setting in ("PASAR_PORT", "PASAR_GRPC_BASE_PORT", "PASAR_VAR_DIR"):
        assert setting in result.stderr
    assert not shop.var.exists(), "nothing was started or migrated"


COMPONENTS = [*SERVICES, "gateway"]


def observed_shop(folder: Path) -> Shop:
    """A shop whose Jaeger listens on free ports (16686 and 4317 may be another run's)."""
    shop = new_shop(folder)
    shop.env.update({setting: str(free_port()) for setting in USUAL_PORTS})
    for name in [name for name in shop.env if name.startswith("OTEL_")]:
        del shop.env[name]
    return shop


def environment_of(pid: int) -> dict[str, str]:
    """The environment a running process was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(entry.decode().partition("=")[::2] for entry in raw.split(b"\0") if entry)


def started_components(shop: Shop) -> dict[str, dict[str, object]]:
    """label -> what the run file says of it (component, address, pid)."""
    (run_file,) = shop.run_files()
    return {c["label"]: c for c in json.loads(run_file.read_text())["components"]}


def traced_services(ui: str, trace_id: str) -> set[str]:
    """The services with spans in the trace, as Jaeger's query API (the UI's) has it."""
    try:
        _, body = get(f"{ui}/api/traces/{trace_id}")
    except urllib.error.HTTPError as error:
        if error.code == 404:  # none of its spans yet
            return set()
        raise
    return {
        process["serviceName"]
        for trace in json.loads(body)["data"]
        for process in trace["processes"].values()
    }


def test_observe_starts_jaeger_points_every_component_at_it_and_stops_it_by_pid(tmp_path: Path) -> None:
    shop = observed_shop(tmp_path / "shop")
    ui = f"http://127.0.0.1:{shop.env['PASAR_JAEGER_QUERY_HTTP_PORT']}"
    otlp = f"http://127.0.0.1:{shop.env['PASAR_JAEGER_OTLP_GRPC_PORT']}"
    log = tmp_path / "run.log"
    with log.open("ab") as output:
        run = subprocess.Popen(
            [str(REPO / "scripts" / "run"), "--observe"],
            env={
                **shop.env,
                "PASAR_STATIC_DIR": str(storefront_build(tmp_path / "dist")),
                "OTEL_BSP_SCHEDULE_DELAY": "100",  # spans leave each component within 0.1 s
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    pids: list[int] = []
    try:
        # The first --observe on a machine builds Jaeger (minutes).
        wait_for(lambda: "Pasar is running" in log.read_text(), 900, "the shop and Jaeger up", interval=0.5)
        components = started_components(shop)
        pids = [int(str(c["pid"])) for c in components.values()]
        assert set(components) == {"jaeger", *COMPONENTS}
        assert f"Pasar is running: {shop.url}   traces: {ui}   (Ctrl-C stops it)" in log.read_text()
        for label in COMPONENTS:
            environment = environment_of(int(str(components[label]["pid"])))
            assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == otlp, label
            assert environment["OTEL_SERVICE_NAME"] == label
        jaeger_environment = environment_of(int(str(components["jaeger"]["pid"])))
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in jaeger_environment
        assert get(f"{ui}/api/services")[0] == 200, "Jaeger's query API answers where it was printed"

        # One request, with the browser's trace context: Jaeger gets its spans from the
        # gateway and from the service it called, in that one trace.
        trace_id = secrets.token_hex(16)
        request = urllib.request.Request(
            f"{shop.url}/api/v1/products", headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        wait_for(
            lambda: {"gateway", "svc-product"} <= traced_services(ui, trace_id),
            30,
            f"trace {trace_id} in Jaeger with spans of the gateway and svc-product",
            interval=0.5,
        )
        assert "gateway" in json.loads(get(f"{ui}/api/services")[1])["data"]

        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=90) == 0, log.read_text()[-3000:]
        for pid in pids:
            wait_until_gone(pid, timeout=5)  # Jaeger too: the run waited for each
        assert shop.run_files() == []
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=90)
        kill_leftovers(pids)


def test_observe_with_a_port_taken_stops_the_run_before_anything_starts(tmp_path: Path) -> None:
    shop = observed_shop(tmp_path / "shop")
    taken = int(shop.env["PASAR_JAEGER_OTLP_GRPC_PORT"])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        result = subprocess.run(
            [str(REPO / "scripts" / "run"), "--observe", "svc-product"],
            env=shop.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1, result.stdout
    assert (
        f"could not start the shop: jaeger: cannot listen on 127.0.0.1:{taken}: the address is already "
        "in use (PASAR_JAEGER_OTLP_GRPC_PORT moves it)" in result.stdout
    )
    assert not (shop.var / "product.db").exists(), "nothing was migrated"
    assert shop.run_files() == []


def test_without_observe_no_jaeger_starts_and_the_operators_otel_settings_pass_through(
    shop: Shop, runs: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    own = f"http://127.0.0.1:{free_port()}"  # nothing listens there: and nothing is exported
    shop.env.pop("OTEL_SERVICE_NAME", None)
    shop.env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": own, "OTEL_SDK_DISABLED": "true"})
    start_run(shop, runs, tmp_path / "run.log")
    components = started_components(shop)
    assert set(components) == {"svc-product"}
    environment = environment_of(int(str(components["svc-product"]["pid"])))
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == own
    assert "OTEL_SERVICE_NAME" not in environment
    log = tmp_path / "run.log"
    wait_for(lambda: "Pasar is running: 127.0.0.1:" in log.read_text(), 30, "the run's summary", interval=0.2)
    assert "traces:" not in log.read_text()
