"""Components started as real processes for tests, and stopped by their PID.

A test starts a service exactly as users do (its console entry point and environment),
waits until it reports SERVING on gRPC health (or answers HTTP, for the gateway), and
stops it with SIGTERM, or SIGKILL for crash tests. Output goes to a log file that a
failing test can show.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pasar_kit.readiness import wait_until_http_ok, wait_until_serving
from pasar_testkit.ports import free_port


def console_script(name: str) -> str:
    """The path of an installed console entry point, next to the running Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed in {path.parent}")
    return str(path)


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


class ComponentProcess:
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
        """http_ready_path: wait for this HTTP path to answer 200, instead of gRPC health."""
        self.name = name
        self.command = list(command)
        self.port = port or free_port()
        self.env = {**os.environ, "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{self.port}", **env}
        self.log_path = log_dir / f"{name}.log"
        self.http_ready_path = http_ready_path
        self.process: subprocess.Popen[bytes] | None = None

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
                wait_until_serving(self.address, timeout, self.process)
        except (TimeoutError, RuntimeError) as error:
            self.kill()
            raise RuntimeError(
                f"{self.name} did not start: {error}\n--- {self.log_path}:\n{self.log_tail()}"
            ) from None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within timeout; returns the exit status."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.kill()
        process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
