"""Resident memory of the processes under test, idle and under load, read from /proc.

A server may be a parent and its forked workers (the gateway's gunicorn master, a Python
service's supervisor with PASAR_GRPC_PROCESSES above 1): each process is reported on its
own (``gateway/worker-1``, ``product/worker-2`` ...), as each holds its own channels,
caches and pools. A sampler thread
reads every process's VmRSS twice a second while the load runs and keeps the highest;
within a named phase (a scenario's warm-up and rounds, a delivery load) it also keeps that
phase's highest and its largest rise over what the process held when the phase began, so
that the scenario that makes a process grow can be told from the one that merely ran last.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def rss_mb(pid: int) -> float | None:
    """The process's resident set in MiB, or None when it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def children(pid: int) -> list[int]:
    """The direct children of pid (all its threads' children)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
    except (FileNotFoundError, ProcessLookupError):
        return []
    return sorted(set(found))


def process_tree(name: str, pid: int) -> dict[str, int]:
    """name -> pid for a process and all its descendants: its children are
    ``name/worker-1`` ... (a gunicorn master's or a service supervisor's workers), theirs
    ``name/worker-1/child-1`` ..., so that no process a server forked goes uncounted."""
    tree = {name: pid}
    for number, child in enumerate(children(pid), start=1):
        tree |= _descendants(f"{name}/worker-{number}", child)
    return tree


def _descendants(name: str, pid: int) -> dict[str, int]:
    tree = {name: pid}
    for number, child in enumerate(children(pid), start=1):
        tree |= _descendants(f"{name}/child-{number}", child)
    return tree


@dataclass
class MemoryWatch:
    """The idle and highest resident memory of named processes."""

    processes: Callable[[], Mapping[str, int]]
    interval: float = 0.5
    idle: dict[str, float] = field(default_factory=dict)
    peak: dict[str, float] = field(default_factory=dict)
    # process -> phase -> {"peak_mb": highest during the phase, "rise_mb": its largest rise}
    by_phase: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._phase: str | None = None
        self._phase_start: dict[str, float] = {}

    def record_idle(self) -> None:
        for name, pid in self.processes().items():
            value = rss_mb(pid)
            if value is not None:
                self.idle[name] = value

    def sample(self) -> dict[str, float]:
        """Every process's resident MiB now, kept as its peak (and its phase's)."""
        now = {name: value for name, pid in self.processes().items() if (value := rss_mb(pid)) is not None}
        with self._lock:
            for name, value in now.items():
                self.peak[name] = max(value, self.peak.get(name, 0.0))
                if self._phase is not None:
                    figures = self.by_phase.setdefault(name, {}).setdefault(
                        self._phase, {"peak_mb": 0.0, "rise_mb": 0.0}
                    )
                    figures["peak_mb"] = max(figures["peak_mb"], value)
                    rise = round(value - self._phase_start.get(name, value), 1)
                    figures["rise_mb"] = max(figures["rise_mb"], rise)
        return now

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Samples taken while the block runs also count for the phase ``name`` (a phase
        entered again, as a scenario in every round, keeps its highest and largest rise)."""
        start = self.sample()
        with self._lock:
            self._phase, self._phase_start = name, start
        try:
            yield
        finally:
            self.sample()
            with self._lock:
                self._phase, self._phase_start = None, {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def report(self) -> dict[str, dict[str, float | None]]:
        names = sorted(set(self.idle) | set(self.peak))
        return {name: {"idle_mb": self.idle.get(name), "load_mb": self.peak.get(name)} for name in names}

    def report_by_phase(self) -> dict[str, dict[str, dict[str, float]]]:
        """process -> phase -> its peak_mb and rise_mb, phases in the order first sampled."""
        with self._lock:
            return {
                name: {phase: dict(figures) for phase, figures in self.by_phase[name].items()}
                for name in sorted(self.by_phase)
            }
