"""Runs several pytest targets at once, each in its own process, and reports each whole.

The component suites spend most of their time waiting on servers they start (gRPC
services, MariaDB, SMTP), so two at a time on a two-core machine finish in well under
the time of one after the other. Each target's output is held and printed in one piece
when it ends, so that the log reads like the sequential one; the exit status is non-zero
when any target failed.

Usage: python scripts/lib/pytest_jobs.py [--jobs N] TARGET...   (targets start in the
order given: name the slowest first, so that the last to start is not the longest;
N defaults to PASAR_TEST_JOBS, else 2)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock


@dataclass(frozen=True)
class Outcome:
    target: str
    returncode: int
    seconds: float


def run_target(target: str, print_lock: Lock) -> Outcome:
    """One pytest process; its output is printed whole once it has ended."""
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", target],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    outcome = Outcome(target, finished.returncode, time.monotonic() - started)
    with print_lock:
        sys.stdout.write(f"\n----- pytest {target} ({outcome.seconds:.0f} s, exit {outcome.returncode})\n")
        sys.stdout.flush()
        sys.stdout.buffer.write(finished.stdout)
        sys.stdout.flush()
    return outcome


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("PASAR_TEST_JOBS", "2")))
    parser.add_argument("targets", nargs="+")
    arguments = parser.parse_args(argv)
    if arguments.jobs < 1:
        parser.error("--jobs must be at least 1")
    print_lock = Lock()
    with ThreadPoolExecutor(max_workers=arguments.jobs) as pool:
        outcomes = list(pool.map(lambda target: run_target(target, print_lock), arguments.targets))
    failed = [outcome.target for outcome in outcomes if outcome.returncode != 0]
    for outcome in outcomes:
        status = "ok  " if outcome.returncode == 0 else "FAIL"
        print(f"{status}  {outcome.target} ({outcome.seconds:.0f} s)")
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
