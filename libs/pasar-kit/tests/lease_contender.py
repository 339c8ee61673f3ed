"""A process contending for one job lease (pasar_kit.leases), for test_leases.

``python lease_contender.py DATABASE_URL JOURNAL LEASE_SECONDS``: runs a job under the
lease "contended" until SIGTERM, then gives the lease up and exits 0. The job appends
``start <pid> <time>`` when it begins and ``end <pid> <time>`` when it stops to JOURNAL
(one write each, O_APPEND: lines of several processes never mix), so the test can tell
whether two processes ever ran it at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

from pasar_kit import database as db
from pasar_kit.leases import LeaseTiming, leased

JOB = "contended"


def note(journal: str, what: str) -> None:
    descriptor = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{what} {os.getpid()} {time.time():.6f}\n".encode())
    finally:
        os.close(descriptor)


def main() -> int:
    url, journal, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    database = db.connect(url, max_connections=4)
    stopping = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_term)

    def job(job_stopping: threading.Event) -> None:
        note(journal, "start")
        job_stopping.wait()
        note(journal, "end")

    print("contending", flush=True)
    leased(JOB, job, database, LeaseTiming(seconds))(stopping)
    db.close_pool(database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
