"""Job leases on SQLite and MariaDB: one holder at a time, renewed by its holder, taken over
when it runs out or at once when its holder is a process of this host that is gone, given
up at a clean stop; and leased jobs in separate processes run one at a time."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import peewee
import pytest

from pasar_kit import claimants, leases
from pasar_kit import database as db
from pasar_kit.leases import JobLease, JobLeaseRow, LeaseTiming, leased
from pasar_kit.timestamps import utc_now
from pasar_testkit.assertions import eventually

CONTENDER = Path(__file__).parent / "lease_contender.py"


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    """A fresh database with job_leases, as the services' migrations make it."""
    database = db.connect(database_url, max_connections=12)
    with database.bind_ctx([JobLeaseRow]), database.connection_context():
        database.create_tables([JobLeaseRow])
    yield database
    db.close_pool(database)


def holder(database: peewee.Database, name: str = "job") -> str | None:
    with database.connection_context():
        rows = list(JobLeaseRow.select().where(JobLeaseRow.name == name).execute(database))
    return rows[0].owner if rows else None


def set_holder(database: peewee.Database, owner: str, until_seconds: float, name: str = "job") -> None:
    with database.connection_context():
        JobLeaseRow.update(owner=owner, lease_until=utc_now() + timedelta(seconds=until_seconds)).where(
            JobLeaseRow.name == name
        ).execute(database)


def test_a_lease_is_held_by_one_owner_renewed_by_it_and_free_once_given_up(database: peewee.Database) -> None:
    first, second = JobLease(database, "job", 60), JobLease(database, "job", 60)
    assert first.hold(), "the first to ask makes the row and holds it"
    assert not second.hold()
    assert first.hold(), "its holder renews it"
    assert holder(database) == first.owner
    second.release()  # not the holder's: changes nothing
    assert holder(database) == first.owner
    first.release()
    assert holder(database) is None
    assert second.hold()


def test_a_lease_that_ran_out_is_taken_over(database: peewee.Database) -> None:
    gone_elsewhere = JobLease(database, "job", 60, owner="elsewhere/0/1/2/3")
    assert gone_elsewhere.hold()
    waiting = JobLease(database, "job", 60)
    assert not waiting.hold(), "a holder on another host is never judged: its lease must run out"
    set_holder(database, gone_elsewhere.owner, until_seconds=-1)
    assert waiting.hold()
    assert not gone_elsewhere.hold()


def test_a_process_whose_clock_runs_ahead_neither_takes_a_live_lease_nor_holds_its_own_longer(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lease's times are the database's: a process of a host whose clock runs an hour ahead
    (no NTP) sees a live holder's lease as live, and its own lease ends when the database's
    clock says so, not an hour later."""
    live = JobLease(database, "job", 60, owner="elsewhere/0/1/2/3")
    assert live.hold()
    monkeypatch.setattr(leases, "utc_now", lambda: utc_now() + timedelta(hours=1), raising=False)
    skewed = JobLease(database, "job", 60)
    assert not skewed.hold(), "the live holder's lease has 60 s left on the database's clock"
    live.release()
    assert skewed.hold()
    monkeypatch.undo()
    with database.connection_context():
        (row,) = JobLeaseRow.select().where(JobLeaseRow.name == "job").execute(database)
    assert row.lease_until <= utc_now() + timedelta(seconds=61)


def test_a_holder_of_this_host_that_is_gone_is_taken_over_at_once(database: peewee.Database) -> None:
    me = claimants.this_process()
    assert me is not None
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    gone = dataclasses.replace(me, pid=int(exited.stdout)).claimant()
    assert JobLease(database, "job", 600, owner=gone).hold()
    live_sibling = JobLease(database, "other", 600)
    assert live_sibling.hold()

    taker = JobLease(database, "job", 600)
    assert taker.hold(), "its holder is gone: no waiting for the 600 s lease"
    assert holder(database) == taker.owner
    assert not JobLease(database, "other", 600).hold(), "a live holder of this host keeps its lease"


def test_the_first_takers_of_a_new_lease_race_and_exactly_one_wins(database: peewee.Database) -> None:
    contenders = [JobLease(database, "new-job", 60) for _ in range(8)]
    start = threading.Barrier(len(contenders))
    won: list[str] = []

    def contend(lease: JobLease) -> None:
        start.wait()
        if lease.hold():
            won.append(lease.owner)

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert holder(database, "new-job") == won[0]


class Job:
    """A leased task that records when it runs."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.runs = 0
        self.stopped = threading.Event()

    def __call__(self, job_stopping: threading.Event) -> None:
        self.runs += 1
        self.stopped.clear()
        self.running.set()
        job_stopping.wait()
        self.running.clear()
        self.stopped.set()


def test_a_leased_job_runs_while_held_stops_when_the_lease_is_lost_and_gives_it_up_at_stop(
    database: peewee.Database,
) -> None:
    timing = LeaseTiming(1.5)  # renewed every 0.5 s
    job = Job()
    stopping = threading.Event()
    runner = threading.Thread(target=leased("job", job, database, timing), args=(stopping,))
    runner.start()
    try:
        eventually(job.running.is_set, message="the job starts once its lease is taken")
        owner = holder(database)
        assert owner is not None
        set_holder(database, "elsewhere/0/1/2/3", until_seconds=60)  # another instance took it over
        eventually(job.stopped.is_set, timeout=2, message="the job stops when its lease is lost")
        assert holder(database) == "elsewhere/0/1/2/3"

        set_holder(database, "elsewhere/0/1/2/3", until_seconds=-1)  # that one vanished
        eventually(job.running.is_set, timeout=3, message="the job runs again once the lease is free")
        assert job.runs == 2
    finally:
        stopping.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert job.stopped.is_set()
    assert holder(database) is None, "a clean stop gives the lease up"


def test_a_job_whose_renewal_hangs_stops_before_its_lease_runs_out(database: peewee.Database) -> None:
    """A renewal that the database leaves waiting (here behind another writer's lock on the
    row, as behind a hung connection) must not let the job run past its lease, when another
    process may take it over: the job stops on time, while the renewal still waits."""
    timing = LeaseTiming(1.5)  # renewed every 0.5 s; the job stops 1 s after its last renewal
    job = Job()
    stopping = threading.Event()
    runner = threading.Thread(target=leased("job", job, database, timing), args=(stopping,))
    locked, unlock = threading.Event(), threading.Event()

    def lock_the_lease_row() -> None:
        with database.connection_context(), db.atomic_write(database):
            JobLeaseRow.update(name=JobLeaseRow.name).where(JobLeaseRow.name == "job").execute(database)
            locked.set()
            unlock.wait(timeout=30)

    blocker = threading.Thread(target=lock_the_lease_row)
    runner.start()
    try:
        eventually(job.running.is_set, message="the job starts once its lease is taken")
        blocker.start()
        assert locked.wait(timeout=10)
        eventually(job.stopped.is_set, timeout=3, message="the job stops before its lease runs out")
    finally:
        unlock.set()
        blocker.join(timeout=30)
        stopping.set()
        runner.join(timeout=30)
    assert not runner.is_alive()


def test_leased_jobs_of_several_processes_run_one_at_a_time_and_hand_over_at_once(
    database_url: str, database: peewee.Database, tmp_path: Path
) -> None:
    """Three processes contend for one 30 s lease: one runs the job; a clean stop hands it
    over at once, and so does the holder's SIGKILL (same host: its death is seen)."""
    lease_seconds = 30.0
    journal = tmp_path / "journal"
    processes: list[subprocess.Popen[bytes]] = []
    killed: dict[int, float] = {}

    def contender() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, str(CONTENDER), database_url, str(journal), str(lease_seconds)],
            stdout=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    def runs() -> list[tuple[str, int, float]]:
        if not journal.exists():
            return []
        lines = [line.split() for line in journal.read_text().splitlines()]
        return [(what, int(pid), float(when)) for what, pid, when in lines]

    def started() -> list[int]:
        return [pid for what, pid, _ in runs() if what == "start"]

    try:
        for _ in range(3):
            contender()
        eventually(lambda: len(started()) == 1, message="one process runs the job")
        time.sleep(2.5)  # the others look every second: none may start it beside the holder
        assert len(started()) == 1
        first = next(p for p in processes if p.pid == started()[0])

        first.terminate()  # a clean stop: the job ends, the lease is given up
        assert first.wait(timeout=10) == 0
        eventually(lambda: len(started()) == 2, timeout=lease_seconds / 3, message="a sibling takes over")
        second = next(p for p in processes if p.pid == started()[1])

        killed[second.pid] = time.time()
        second.kill()
        second.wait(timeout=10)
        eventually(
            lambda: len(started()) == 3,
            timeout=lease_seconds / 3,
            message="the last takes over from the killed holder without waiting for its lease",
        )
        assert holder(database, "contended") is not None
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)

    # The journal, in time order: never two jobs running at once.
    running: set[int] = set()
    for what, pid, _when in sorted(
        runs() + [("end", pid, t) for pid, t in killed.items()], key=lambda r: r[2]
    ):
        if what == "start":
            assert not running, f"{pid} started the job while {running} ran it"
            running.add(pid)
        else:
            running.discard(pid)
    assert [what for what, _, _ in runs()].count("start") == 3
    starts = [when for what, _, when in runs() if what == "start"]
    ended = next(when for what, pid, when in runs() if what == "end" and pid == first.pid)
    print(
        f"handed over {starts[1] - ended:.2f} s after a clean stop,"
        f" {starts[2] - killed[second.pid]:.2f} s after SIGKILL"
    )
