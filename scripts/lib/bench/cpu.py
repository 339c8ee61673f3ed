"""The CPU time processes have used, read from /proc, to give CPU milliseconds per request.

Requests per second alone hide where the time goes: on two shared cores a change can keep
the throughput and still cost CPU that another process needed. A run reads the user and
system time of the servers it drives before and after the load, and divides by the requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Named groups of processes whose CPU a run measures (e.g. "servers": the shop's, "jaeger"),
# each read as name -> pid with every process of a server (bench.memory.process_tree).
CpuGroups = Mapping[str, Callable[[], Mapping[str, int]]]


def cpu_seconds(pids: Mapping[str, int]) -> float:
    """The user and system CPU time of the processes so far (0 for one that is gone), with
    that of their children that have exited and been waited for: a worker replaced during
    a run still counts, in its parent's figure, once it is gone from the list."""
    total = 0
    for pid in pids.values():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # utime, stime, cutime, cstime: fields 14 to 17 of stat (the first two are cut off).
        total += sum(int(value) for value in fields[11:15])
    return total / CLOCK_TICKS


class CpuMeter:
    """CPU seconds of each group over a block: the pids are read once, when it starts."""

    def __init__(self, groups: CpuGroups) -> None:
        self._pids = {name: dict(processes()) for name, processes in groups.items()}
        self._before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._before = {name: cpu_seconds(pids) for name, pids in self._pids.items()}
        return self

    def __exit__(self, *_exc: object) -> None:
        self.used = {name: cpu_seconds(pids) - self._before[name] for name, pids in self._pids.items()}

    def ms_per_request(self, requests: int) -> dict[str, float]:
        """Each group's CPU milliseconds per request (empty when nothing was served)."""
        if not requests:
            return {}
        return {name: round(seconds * 1000 / requests, 3) for name, seconds in self.used.items()}
