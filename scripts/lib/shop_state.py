"""Which components a running ``scripts/run`` started, so that a second one refuses them.

Each run writes ``<var>/run/shop-<pid>.json``: its own PID, the shop's URL, and each
component it started with its address and PID; it removes the file when it stops. A run
killed with SIGKILL leaves its file behind (and, as they run in their own sessions, its
components too): a file counts only while a process it names is still the very process
it started (same PID and same start time, so a PID the system gave to another program
since does not count). A lock held while checking and writing keeps two runs started at
the same moment from both going ahead.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pasar_kit.process_ids import is_running, start_ticks


class AlreadyRunning(Exception):
    """Components asked for are run by another scripts/run; the message names them."""


@dataclass
class Component:
    label: str
    component: str
    address: str
    pid: int
    started: int | None

    @property
    def running(self) -> bool:
        return is_running(self.pid, self.started)

    def describe(self) -> str:
        return f"{self.label} (PID {self.pid}, {self.address})"


@dataclass
class Run:
    """One scripts/run: its process, what it was asked to start, and what it started."""

    pid: int
    started: int | None
    url: str
    requested: list[str]
    components: list[Component] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return is_running(self.pid, self.started)

    def live_components(self) -> list[Component]:
        return [component for component in self.components if component.running]

    def describe(self) -> str:
        """Who runs what, and how to stop it."""
        if self.running:
            started = ", ".join(c.describe() for c in self.live_components())
            return (
                f"a shop started by scripts/run (PID {self.pid}) is running at {self.url}: "
                f"{started or 'still preparing ' + ', '.join(self.requested)}; "
                f"stop it first (Ctrl-C in its terminal, or kill -INT {self.pid})"
            )
        live = self.live_components()
        return (
            f"a shop started by scripts/run (PID {self.pid}, killed since) left running: "
            f"{', '.join(c.describe() for c in live)}; stop them first "
            f"(kill {' '.join(str(c.pid) for c in live)})"
        )


class ShopState:
    """The run files of one var/ folder: this run's, and the others'."""

    def __init__(self, var: Path) -> None:
        self.directory = var / "run"
        self.path = self.directory / f"shop-{os.getpid()}.json"
        self.run: Run | None = None

    def claim(self, requested: Sequence[str], url: str) -> None:
        """Records this run, or raises AlreadyRunning if another one runs any of requested."""
        with self._locked():
            conflicts = [run for run in self.others() if set(run.requested) & set(requested)]
            if conflicts:
                raise AlreadyRunning("; ".join(run.describe() for run in conflicts))
            self.run = Run(os.getpid(), start_ticks(os.getpid()), url, list(requested))
            self._write()

    def started(self, label: str, component: str, address: str, pid: int) -> None:
        """Adds a component this run has just started."""
        if self.run is None:
            raise RuntimeError("claim() first")
        self.run.components.append(Component(label, component, address, pid, start_ticks(pid)))
        self._write()

    def release(self) -> None:
        self.path.unlink(missing_ok=True)

    def others(self) -> list[Run]:
        """Other runs still running or with components still running; stale files are removed."""
        runs = []
        for path in sorted(self.directory.glob("shop-*.json")):
            if path == self.path:
                continue
            try:
                data = json.loads(path.read_text())
                run = Run(**{**data, "components": [Component(**c) for c in data["components"]]})
            except (OSError, ValueError, TypeError, KeyError):
                path.unlink(missing_ok=True)  # half written by a run killed at that moment
                continue
            if run.running or run.live_components():
                runs.append(run)
            else:
                path.unlink(missing_ok=True)
        return runs

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self.run), indent=2) if self.run else "")
        temporary.replace(self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
