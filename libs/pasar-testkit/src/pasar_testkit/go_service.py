"""The Go fulfillment service (svc-fulfillment) for tests: built once per test session,
started like the Python components (a free loopback port, ready when gRPC health says
SERVING, stopped by its PID).

The binary is built by ``scripts/lib/go_service.sh`` into ``.tools/bin/svc-fulfillment``;
Go's build cache makes a build without changes take about a second, so every session
builds (a stale binary would test old code).
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pasar_testkit.processes import ComponentProcess

FULFILLMENT = "fulfillment"
# Where the service's source lives, relative to the repository root.
SOURCE_DIR = "svc-fulfillment"
BUILD_SCRIPT = "scripts/lib/go_service.sh"
# The first build compiles the pure-Go SQLite driver: minutes on a 2-core machine.
BUILD_TIMEOUT_SECONDS = 900


def repository_root() -> Path:
    """The repository this testkit belongs to: the first parent folder holding svc-fulfillment
    (PASAR_REPO overrides it)."""
    if configured := os.environ.get("PASAR_REPO"):
        return Path(configured)
    for folder in Path(__file__).resolve().parents:
        if (folder / SOURCE_DIR / "go.mod").is_file():
            return folder
    raise FileNotFoundError(f"no {SOURCE_DIR}/go.mod above {__file__}: set PASAR_REPO")


def fulfillment_binary() -> Path:
    """Where the built binary is (built or not)."""
    return repository_root() / ".tools" / "bin" / "svc-fulfillment"


def run_build_script(script: str, what: str, timeout: float) -> Path:
    """Runs one of the repository's build scripts (script: relative to its root), which
    prints the built binary's path last, and returns that path.

    RuntimeError naming what, with the script's output, when the build fails."""
    root = repository_root()
    result = subprocess.run(
        ["bash", str(root / script)], cwd=root, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"cannot build {what}:\n{result.stdout}\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


@functools.cache
def build_fulfillment() -> Path:
    """Builds svc-fulfillment once per process (test session) and returns the binary's path.

    RuntimeError with the compiler's output when the build fails."""
    return run_build_script(BUILD_SCRIPT, "svc-fulfillment", BUILD_TIMEOUT_SECONDS)


def fulfillment_command(*serve_options: str) -> list[str]:
    """How svc-fulfillment is started: ``svc-fulfillment serve [options]`` (building it first)."""
    return [str(build_fulfillment()), "serve", *serve_options]


def fulfillment_process(
    *,
    env: Mapping[str, str],
    log_dir: Path,
    port: int | None = None,
    serve_options: tuple[str, ...] = (),
) -> ComponentProcess:
    """svc-fulfillment as a ComponentProcess on a free loopback port (or port): start() waits
    until it reports SERVING, stop() sends SIGTERM to its PID, kill() SIGKILL."""
    return ComponentProcess(
        FULFILLMENT,
        command=fulfillment_command(*serve_options),
        env=env,
        log_dir=log_dir,
        port=port,
    )
