"""Who claims work (outbox rows, job leases), named so that a restarted process can tell its dead
predecessor.

A claimant is ``<host>/<boot>/<pid>/<start>/<nonce>``: the host name, the start of the
kernel's boot id, the process id, the process's start time (clock ticks since boot, from
``/proc``), and a nonce per worker. A claim is dead when it was made on this host during
this boot and the process with its pid is gone, a zombie, or started at another time: the
pid was reused, as when a restarted container is pid 1 again. Such claims are taken back at
once; claims of other hosts (or made without ``/proc``) are never judged, and their lease
expires as before. svc-order's outboxes (pasar_order.work_queue) and the job leases
(:mod:`pasar_kit.leases`) name their claimants so.

This relies on one thing: processes that share a host name share a pid namespace (true on
one machine, and for containers and pods, whose host names are their own; not for
containers that take the host's name with ``--uts=host``, which should set their own).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from pasar_kit.process_ids import PROC, start_ticks

# The claimant must fit the owner columns (lease_owner, job_leases.owner: 255 characters).
_HOST_LIMIT = 180


@dataclass(frozen=True)
class Process:
    """A process on a host: enough to tell later whether it still runs."""

    host: str
    boot: str
    pid: int
    start: int

    def claimant(self) -> str:
        """A new claimant name for one worker of this process."""
        return f"{self.host}/{self.boot}/{self.pid}/{self.start}/{secrets.token_hex(4)}"


def this_process() -> Process | None:
    """This process, or None where /proc does not say when it started (no judgments then)."""
    pid = os.getpid()
    start = start_ticks(pid)
    if start is None:
        return None
    host = socket.gethostname().replace("/", "_")[:_HOST_LIMIT] or "localhost"
    return Process(host, _boot_id(), pid, start)


def claimant_name() -> str:
    """The claimant of a worker of this process; random (lease only) without /proc."""
    process = this_process()
    return process.claimant() if process else f"anonymous/{secrets.token_hex(8)}"


def parse(claimant: str) -> Process | None:
    parts = claimant.rsplit("/", 4)
    if len(parts) != 5 or not parts[2].isdigit() or not parts[3].isdigit():
        return None  # a claim made before claimants had this form, or without /proc
    return Process(parts[0], parts[1], int(parts[2]), int(parts[3]))


def is_dead(claimant: str) -> bool:
    """True only for a claim of a process on this host, this boot, that is known to be gone."""
    me, other = this_process(), parse(claimant)
    if me is None or other is None or (other.host, other.boot) != (me.host, me.boot):
        return False
    return start_ticks(other.pid) != other.start


def _boot_id() -> str:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:8] or "-"
    except OSError:
        return "-"
