"""Telling a process apart from a later one that got the same PID.

A PID alone says little once its process is gone: the system hands it out again. The
process's start time (clock ticks after boot, from ``/proc/<pid>/stat``) makes the pair
unique for as long as the machine runs. The order service uses it to take back the work a
killed predecessor had claimed; ``scripts/run`` to tell whether a shop it started still runs.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def start_ticks(pid: int) -> int | None:
    """When pid started (clock ticks after boot); None if it is gone, a zombie, or /proc is absent."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold anything: count from its closing one.
    fields = stat.rpartition(")")[2].split()
    if fields[0] in ("Z", "X"):  # exited, not yet reaped (in a container, maybe never): it holds nothing
        return None
    return int(fields[19])  # field 22, starttime


def is_running(pid: int, started: int | None) -> bool:
    """Whether pid is still the very process that started at `started`."""
    return started is not None and start_ticks(pid) == started
