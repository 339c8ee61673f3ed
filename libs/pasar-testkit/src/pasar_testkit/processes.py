"""Components started as real processes for tests (and by scripts/run), stopped by their PID.

A test starts a service exactly as users do (its console entry point and environment),
waits until it is ready (SERVING on gRPC health, or /healthz answering, for the gateway),
and stops it with SIGTERM, then SIGKILL after a grace period, or SIGKILL at once for crash
tests. Output goes to a log file whose tail a failing test shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pasar_kit.readiness import wait_until_http_ok, wait_until_serving
from pasar_testkit.ports import free_port

SERVICES = ("product", "payment", "order")
# OpenTelemetry's settings are not inherited from the test run: a component traces only
# when its test says so (a developer's shell exporting OTEL_EXPORTER_OTLP_ENDPOINT would
# otherwise turn tracing on in every test).
OTEL_PREFIX = "OTEL_"
COMPONENTS = (*SERVICES, "gateway")
GATEWAY_READY_PATH = "/healthz"


def console_script(name: str) -> str:
    """The path of an installed console entry point, next to the running Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed in {path.parent}")
    return str(path)


def component_command(component: str, *serve_options: str) -> list[str]:
    """How a component is started: ``pasar-<service> serve [options]``, or ``pasar-gateway``."""
    if component == "gateway":
        return [console_script("pasar-gateway")]
    return [console_script(f"pasar-{component}"), "serve", *serve_options]


def peer_addresses(addresses: Mapping[str, str]) -> dict[str, str]:
    """The settings that point every component at the services' addresses (by service name)."""
    return {f"PASAR_{name.upper()}_ADDRESS": address for name, address in addresses.items()}


def wait_until_ready(
    component: str, address: str, process: subprocess.Popen[bytes] | None, timeout: float = 60.0
) -> None:
    """Waits until the component at address is ready: the gateway's /healthz answers 200,
    a service reports SERVING on gRPC health. RuntimeError if process exits first,
    TimeoutError after timeout."""
    if component == "gateway":
        wait_until_http_ok(f"http://{address}{GATEWAY_READY_PATH}", timeout, process)
    else:
        wait_until_serving(address, timeout, process)


def stop_processes(
    processes: Iterable[subprocess.Popen[bytes]], grace: float = 20.0, stop_signal: int = signal.SIGTERM
) -> None:
    """Sends stop_signal to every process still running, then SIGKILL to any still running
    after grace seconds (one deadline for all: they stop side by side). A process that
    supervises workers (PASAR_GRPC_PROCESSES) stops them itself; if it is killed, this waits
    until they are gone too."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(stop_signal)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_process(process)


def kill_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGKILL, as a crash would (no shutdown code runs), and wait for the exit, and for the
    exit of the workers it had forked (they die with it): a restart on the same port must not
    race them. Any still there after timeout is SIGKILLed by its pid."""
    workers = children_of(process.pid) if process.poll() is None else []
    if process.poll() is None:
        process.kill()
    process.wait()
    wait_until_gone(workers, timeout)


def children_of(pid: int) -> list[ProcessId]:
    """The processes whose parent is pid now (a supervisor's workers), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = ProcessId.of(int(entry.name))
            if child is not None and child.parent == pid:
                children.append(child)
    return children


class ProcessId:
    """A process by its pid and start time, so that a reused pid is not taken for it."""

    def __init__(self, pid: int, parent: int, started: int) -> None:
        self.pid, self.parent, self.started = pid, parent, started

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The process with pid now; None if there is none (or only a zombie)."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        state, parent, started = fields[0], int(fields[1]), int(fields[19])
        return None if state in ("Z", "X") else cls(pid, parent, started)

    @property
    def alive(self) -> bool:
        now = ProcessId.of(self.pid)
        return now is not None and now.started == self.started


def wait_until_gone(processes: Iterable[ProcessId], timeout: float = 10.0) -> None:
    """Waits until none of processes is alive; SIGKILLs those left after timeout."""
    left = list(processes)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        left = [process for process in left if process.alive]
        if left:
            time.sleep(0.05)
    for process in left:
        if process.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for a failing test's report."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def run_to_exit(
    command: Sequence[str], env: Mapping[str, str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Runs a component until it exits, for start-ups that must fail: exit status, stdout
    and stderr apart. Only PATH is inherited, so that no setting of the test run leaks in;
    on a free loopback port, so that one that wrongly starts serving collides with
    nothing; it is killed at the timeout (subprocess.TimeoutExpired)."""
    return subprocess.run(
        list(command),
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{free_port()}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class OwnedProcess:
    """A process a test started: stopped or killed by its PID, its output in a log file."""

    stop_seconds = 20.0  # how long stop() waits after SIGTERM before SIGKILL

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within timeout; returns the exit status."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        stop_processes([process], grace=self.stop_seconds if timeout is None else timeout)
        return process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.process is not None:
            process, self.process = self.process, None
            kill_process(process)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def logged_lines(self) -> list[dict[str, object]]:
        """The JSON log lines written so far (PASAR_LOG_FORMAT=json), oldest first; other
        lines are skipped."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def logged(self, name: str) -> object | None:
        """The value of field name in the newest JSON log line that has it (a restart logs
        anew), or None: e.g. ``metrics_address`` from a component's start-up line."""
        return next((entry[name] for entry in reversed(self.logged_lines()) if name in entry), None)


class ComponentProcess(OwnedProcess):
    """One component started as a subprocess on a free loopback port."""

    def __init__(
        self,
        name: str,
        *,
        command: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        port: int | None = None,
        http_ready_path: str | None = None,
    ) -> None:
        """Ready is what wait_until_ready says for name (a component's name), or, with
        http_ready_path, that path answering 200."""
        super().__init__(name, log_dir / f"{name}.log")
        self.command = list(command)
        self.port = port or free_port()
        inherited = {name: value for name, value in os.environ.items() if not name.startswith(OTEL_PREFIX)}
        self.env = {**inherited, "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{self.port}", **env}
        self.http_ready_path = http_ready_path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if self.http_ready_path is not None:
                wait_until_http_ok(f"http://{self.address}{self.http_ready_path}", timeout, self.process)
            else:
                wait_until_ready(self.name, self.address, self.process, timeout)
        except (TimeoutError, RuntimeError) as error:
            self.kill()
            raise RuntimeError(
                f"{self.name} did not start: {error}\n--- {self.log_path}:\n{self.log_tail()}"
            ) from None
