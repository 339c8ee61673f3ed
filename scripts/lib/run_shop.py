"""Runs the shop on this machine: what ``scripts/run`` does after installing what is missing.

``scripts/run`` starts the three Python services, the Go fulfillment service (built into
``.tools/bin`` first) and the gateway (which serves the built storefront) on SQLite under
``var/``, with the demo catalog and e-mails written to ``var/mail/``, and prints one URL.
``scripts/run NAME...`` starts only the named components (``svc-product``, ``svc-payment``,
``svc-order``, ``svc-fulfillment``, ``gateway``), so one can be
stopped and started again by hand in another terminal. ``--instances svc-product=2``
starts more instances of a service on the next ports (50061, 50071, ...) and points its
callers at all of them (gRPC round robin). ``PASAR_GRPC_PROCESSES`` (a count, or ``auto``),
set in the environment, passes through to every Python service: each instance then runs
that many worker processes on its one port.

Each process's output is prefixed with its name. Ctrl-C (or SIGTERM) stops exactly the
processes this script started, by PID: SIGTERM first, SIGKILL after a grace period.
Starting a component, waiting until it is ready and stopping it are the test harness's
(pasar_testkit.processes), so that the shop runs here as the tests run it. The
stop never depends on printing: once nobody reads the output (``scripts/run | tee log``,
whose ``tee`` Ctrl-C ends first), the rest of it is dropped.

A second ``scripts/run`` refuses to start a component that a running one started, and
names who runs it (``shop_state``); a port that something else holds stops the start
before anything runs.

A second shop runs beside the first on other ports and files: ``PASAR_PORT`` moves the
gateway, ``PASAR_GRPC_BASE_PORT`` the services (product on it, payment, order and
fulfillment on the next three) and ``PASAR_VAR_DIR`` the databases, e-mails and run file. Each component's
``PASAR_LISTEN_ADDRESS`` comes from those, so one set in the environment is refused
rather than silently replaced. ``PASAR_STATIC_DIR`` serves a storefront built elsewhere
instead of building ``storefront-vue/dist``.

``--observe`` also starts Jaeger (built once into ``.tools/``; ``run_observe``) before the
shop, on Jaeger's usual ports (OTLP 4317 and 4318, UI and query API http://127.0.0.1:16686;
``PASAR_JAEGER_OTLP_GRPC_PORT``, ``PASAR_JAEGER_OTLP_HTTP_PORT``, ``PASAR_JAEGER_QUERY_HTTP_PORT``,
``PASAR_JAEGER_QUERY_GRPC_PORT`` and ``PASAR_JAEGER_HEALTH_PORT`` move them), gives every
component ``OTEL_EXPORTER_OTLP_ENDPOINT`` and its own ``OTEL_SERVICE_NAME``, prints Jaeger's
address beside the shop's, and stops it, by PID, after the components (their last spans
reach it). Without it, no OTEL variable is set here (one already in the environment
passes through). Each component's metrics address (``PASAR_METRICS_ADDRESS``: a free
loopback port by default) is printed once it is up.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from run_observe import Observer, jaeger_command
from shop_state import AlreadyRunning, ShopState

from pasar_kit.listen import ListenError, ensure_address_free
from pasar_kit.readiness import wait_until_http_ok
from pasar_testkit.go_service import FULFILLMENT, build_fulfillment, fulfillment_command
from pasar_testkit.processes import component_command, stop_processes, wait_until_ready


def port_setting(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 65535):
        raise SystemExit(f"scripts/run: {name} must be a port from 1 to 65535, not {raw!r}")
    return int(raw)


def refuse_listen_address() -> None:
    """PASAR_LISTEN_ADDRESS names one address, and scripts/run starts several components."""
    if os.environ.get("PASAR_LISTEN_ADDRESS"):
        raise SystemExit(
            "scripts/run: PASAR_LISTEN_ADDRESS is set, but scripts/run gives each component its own "
            "address; move the shop with PASAR_PORT (the gateway) and PASAR_GRPC_BASE_PORT (the "
            "services), and PASAR_VAR_DIR (its files), or unset it"
        )


REPO = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("PASAR_VAR_DIR") or REPO / "var").resolve()
BIN = Path(sys.executable).parent
STOREFRONT = REPO / "storefront-vue"
GRPC_BASE_PORT = port_setting("PASAR_GRPC_BASE_PORT", 50051)
SERVICES = {
    "svc-product": ("product", GRPC_BASE_PORT),
    "svc-payment": ("payment", GRPC_BASE_PORT + 1),
    "svc-order": ("order", GRPC_BASE_PORT + 2),
    "svc-fulfillment": (FULFILLMENT, GRPC_BASE_PORT + 3),
}
COMPONENTS = (*SERVICES, "gateway")
JAEGER = "jaeger"
COLOURS = {
    "svc-product": 36,
    "svc-payment": 35,
    "svc-order": 33,
    "svc-fulfillment": 34,
    "gateway": 32,
    JAEGER: 37,
}
# The start-up line's metrics address, as text (metrics_address=host:port) or JSON.
METRICS_ADDRESS = re.compile(r'metrics_address"?\s*[=:]\s*"?([^\s",}]+)')
GRACE_SECONDS = 15
INSTANCE_PORT_STEP = 10


@dataclass
class Process:
    """One started component instance."""

    label: str
    component: str
    address: str
    command: list[str]
    env: dict[str, str]
    # Every address it listens on, with the setting that moves it (default: its address).
    listens: list[tuple[str, str]] = field(default_factory=list)
    ready_url: str | None = None  # ready when this answers 200 (else the harness's check)
    popen: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = field(default=None, repr=False)
    metrics_address: str | None = None
    metrics_known: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def name(self) -> str:
        """The component's name in the harness: product, payment, order or gateway."""
        return SERVICES[self.component][0] if self.component in SERVICES else self.component


def instance_addresses(component: str, instances: int) -> list[str]:
    _, port = SERVICES[component]
    return [f"127.0.0.1:{port + INSTANCE_PORT_STEP * i}" for i in range(instances)]


def target(component: str, instances: int) -> str:
    """The gRPC target callers use: one address, or all instances for round robin."""
    addresses = instance_addresses(component, instances)
    return addresses[0] if len(addresses) == 1 else "ipv4:" + ",".join(addresses)


def jaeger_process(observer: Observer) -> Process:
    """Jaeger, its command known once prepare() has built it."""
    return Process(
        JAEGER,
        JAEGER,
        observer.ui_url.removeprefix("http://"),
        [],
        observer.jaeger_env(os.environ),
        listens=observer.listens(),
        ready_url=observer.health_url,
    )


def base_env(instances: Mapping[str, int], port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PASAR_ENV", "development")
    env.setdefault("PASAR_LOG_FORMAT", "text")
    env.setdefault("PASAR_MAIL_DIR", str(VAR / "mail"))
    env.setdefault("PASAR_STOREFRONT_URL", f"http://127.0.0.1:{port}")
    env.setdefault("PASAR_STATIC_DIR", str(STOREFRONT / "dist"))
    for component, (name, _) in SERVICES.items():
        env.setdefault(f"PASAR_{name.upper()}_ADDRESS", target(component, instances.get(component, 1)))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def database_url(name: str, env: Mapping[str, str], only_one_service: bool) -> str:
    """PRODUCT_DATABASE_URL (etc.) if set; DATABASE_URL when only this service runs;
    otherwise SQLite under var/."""
    specific = env.get(f"{name.upper()}_DATABASE_URL")
    if specific:
        return specific
    if only_one_service and env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    return f"sqlite:///{VAR / f'{name}.db'}"


def plan(
    names: Sequence[str], instances: Mapping[str, int], port: int, observer: Observer | None = None
) -> list[Process]:
    """The processes to start, in order: Jaeger first when observing, the gateway last."""
    shared = base_env(instances, port)
    services = [n for n in names if n in SERVICES]
    processes = [jaeger_process(observer)] if observer else []
    for component in names:
        env = {**shared, **(observer.component_env(component) if observer else {})}
        if component == "gateway":
            processes.append(
                Process(
                    "gateway",
                    component,
                    f"127.0.0.1:{port}",
                    component_command("gateway"),
                    {**env, "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{port}", "PASAR_PORT": str(port)},
                )
            )
            continue
        name, _ = SERVICES[component]
        url = database_url(name, env, len(services) == 1)
        addresses = instance_addresses(component, instances.get(component, 1))
        for number, address in enumerate(addresses, start=1):
            label = component if len(addresses) == 1 else f"{component}#{number}"
            processes.append(
                Process(
                    label,
                    component,
                    address,
                    service_command(name, "--no-migrate"),
                    {**env, "PASAR_LISTEN_ADDRESS": address, "DATABASE_URL": url},
                )
            )
    return processes


def service_command(name: str, *options: str) -> list[str]:
    """``pasar-<name> serve [options]``; svc-fulfillment's Go binary, built first."""
    if name == FULFILLMENT:
        return fulfillment_command(*options)
    return component_command(name, *options)


def say(message: str) -> None:
    write_out(f"\033[1m==> {message}\033[0m\n")


def write_out(text: str) -> None:
    """Writes text to our output; when nobody reads it any more (a closed pipe, a gone
    terminal), drops it and all that follows, so that no caller fails for printing."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes there too
        os.close(devnull)


def prepare(processes: Sequence[Process]) -> None:
    """Migrations, the demo catalog, the storefront build and Jaeger's, before anything serves."""
    (VAR / "mail").mkdir(parents=True, exist_ok=True)
    for process in processes:
        if process.component == JAEGER:
            say("preparing Jaeger (built into .tools/ the first time: a few minutes)")
            process.command = jaeger_command()
    migrated: set[str] = set()
    for process in processes:
        if process.component not in SERVICES or process.component in migrated:
            continue
        migrated.add(process.component)
        name, _ = SERVICES[process.component]
        program = build_fulfillment() if name == FULFILLMENT else BIN / f"pasar-{name}"
        subprocess.run([str(program), "migrate"], env=process.env, check=True)
        if name == "product":
            subprocess.run([str(BIN / "pasar-product"), "load-demo"], env=process.env, check=True)
    serves_own_build = bool(os.environ.get("PASAR_STATIC_DIR"))
    if any(p.component == "gateway" for p in processes) and not serves_own_build and storefront_is_stale():
        say("building the storefront (storefront-vue/dist)")
        subprocess.run(
            ["npm", "run", "--silent", "--workspace", "storefront-vue", "build"], cwd=REPO, check=True
        )


def storefront_is_stale() -> bool:
    index = STOREFRONT / "dist" / "index.html"
    if not index.exists():
        return True
    built = index.stat().st_mtime
    sources = [
        STOREFRONT / "src",
        STOREFRONT / "index.html",
        STOREFRONT / "package.json",
        STOREFRONT / "vite.config.ts",
    ]
    return any(path.stat().st_mtime > built for path in walk(sources))


def walk(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path


def pump_output(process: Process) -> None:
    """Copies the process's output to ours, each line prefixed with its coloured name."""
    if process.popen is None or process.popen.stdout is None:
        return
    prefix = f"\033[{COLOURS[process.component]}m{process.label:<14}\033[0m| "
    for raw in iter(process.popen.stdout.readline, b""):  # read to the end: a full pipe blocks it
        line = raw.decode(errors="replace")
        if not process.metrics_known.is_set() and (found := METRICS_ADDRESS.search(line)):
            process.metrics_address = None if found.group(1) == "off" else found.group(1)
            process.metrics_known.set()
        write_out(prefix + line)


def ensure_ports_free(processes: Sequence[Process]) -> None:
    """Refuses, naming the component and the address, a port that something else holds
    (the components refuse it too, but only after the migrations and the build)."""
    for process in processes:
        for address, setting in process.listens or [(process.address, "")]:
            try:
                ensure_address_free(address)
            except ListenError as error:
                moved_by = f" ({setting} moves it)" if setting else ""
                raise RuntimeError(f"{process.label}: {error}{moved_by}") from None


def start(process: Process, state: ShopState) -> None:
    process.popen = subprocess.Popen(
        process.command,
        env=process.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state.started(process.label, process.component, process.address, process.popen.pid)
    process.pump = threading.Thread(target=pump_output, args=(process,), daemon=True)
    process.pump.start()
    try:
        if process.ready_url:
            wait_until_http_ok(process.ready_url, timeout=60, process=process.popen)
        else:
            wait_until_ready(process.name, process.address, process.popen, timeout=60)
    except RuntimeError:
        process.pump.join(timeout=2)  # its last words (why it exited) before ours
        raise


def stop_all(processes: Sequence[Process]) -> None:
    """SIGTERM to every process we started, then SIGKILL to any still running after the grace
    period; Jaeger last, so that the spans the components flush as they stop reach it."""
    for group in (
        [p for p in processes if p.component != JAEGER],
        [p for p in processes if p.component == JAEGER],
    ):
        stop_processes((p.popen for p in group if p.popen is not None), grace=GRACE_SECONDS)


def metrics_summary(processes: Sequence[Process], wait: float = 2.0) -> str:
    """Where each started component serves its metrics, as its start-up line said."""
    known = []
    deadline = time.monotonic() + wait  # a line may still be on its way through the pipe
    for process in processes:
        if process.component == JAEGER:
            continue
        process.metrics_known.wait(max(0.0, deadline - time.monotonic()))
        if process.metrics_address:
            known.append(f"{process.label} http://{process.metrics_address}/metrics")
    return "metrics: " + ", ".join(known) if known else ""


def parse_instances(values: Sequence[str]) -> dict[str, int]:
    instances: dict[str, int] = {}
    for value in values:
        component, _, count = value.partition("=")
        if component not in SERVICES or not count.isdigit() or not 1 <= int(count) <= 5:
            raise SystemExit(
                f"--instances takes SERVICE=N with SERVICE one of {', '.join(SERVICES)} and N 1-5"
            )
        instances[component] = int(count)
    return instances


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"components to start: {', '.join(COMPONENTS)}"
    )
    parser.add_argument("--instances", action="append", default=[], metavar="SERVICE=N")
    parser.add_argument(
        "--observe",
        action="store_true",
        help="also start Jaeger (OTLP on 127.0.0.1:4317 and :4318, UI and query API on "
        "http://127.0.0.1:16686) and send every component's traces there",
    )
    args = parser.parse_args(argv)
    refuse_listen_address()
    aliases = {name: component for component, (name, _) in SERVICES.items()}
    names = [aliases.get(n, n) for n in args.names] or list(COMPONENTS)
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        parser.error(f"unknown component {', '.join(unknown)}; choose from {', '.join(COMPONENTS)}")
    names = [c for c in COMPONENTS if c in names]  # services before the gateway
    port = port_setting("PASAR_PORT", 8080)
    observer = Observer.from_env(port_setting) if args.observe else None
    processes = plan(names, parse_instances(args.instances), port, observer)
    where = (
        f"http://127.0.0.1:{port}"
        if "gateway" in names
        else ", ".join(p.address for p in processes if p.component != JAEGER)
    )
    state = ShopState(VAR)
    try:
        state.claim([*names, *([JAEGER] if observer else [])], where)
    except AlreadyRunning as error:
        say(f"not started: {error}")
        return 1
    try:
        return run(processes, state, where, observer)
    finally:
        state.release()


def run(processes: Sequence[Process], state: ShopState, where: str, observer: Observer | None = None) -> int:
    """Prepares and starts processes, then waits for Ctrl-C or SIGTERM and stops them."""
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        ensure_ports_free(processes)
        prepare(processes)
        for process in processes:
            if stopping.is_set():
                break
            say(f"starting {process.label} on {process.address}")
            start(process, state)
        if not stopping.is_set():
            if summary := metrics_summary(processes):
                say(summary)
            traces = f"   traces: {observer.ui_url}" if observer else ""
            say(f"Pasar is running: {where}{traces}   (Ctrl-C stops it)")
        reported: set[str] = set()
        while not stopping.wait(0.5):
            for process in processes:
                if (
                    process.popen is not None
                    and process.popen.poll() is not None
                    and process.label not in reported
                ):
                    reported.add(process.label)
                    say(f"{process.label} exited with status {process.popen.returncode}")
            if len(reported) == len(processes):
                return 1
    except (subprocess.CalledProcessError, TimeoutError, RuntimeError) as error:
        say(f"could not start the shop: {error}")
        return 1
    finally:
        try:
            say("stopping")
        finally:
            stop_all(processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
