"""Job leases: a background job that is one loop over the whole service runs in one process.

A service may run several worker processes (PASAR_GRPC_PROCESSES) and several instances.
Outboxes claim their rows one by one and run everywhere, but a job that is one loop over
the whole service (an event consumer following a cursor, a sweep) would only repeat the
same work in every process. Such a job is wrapped in :func:`leased`: it runs only in the
process that holds its row of ``job_leases`` (``name``, ``owner``, ``lease_until``) in the
service's own database.

- The lease is taken and renewed by one conditional UPDATE: the row is free, its lease ran
  out, or it is already this holder's. A missing row is inserted first, ignoring the
  insert of a sibling that got there at the same moment.
- The owner is a claimant name (:mod:`pasar_kit.claimants`): a holder that is known to be
  gone (a process of this host, killed) is taken over at once, not when its lease runs out.
  A holder on another host that vanished is taken over when its lease runs out.
- The holder renews every third of the lease and stops the job (the job's own Event is
  set) as soon as the lease is lost, or when it could not renew it for two thirds of it,
  even while a renewal is still waiting for the database;
  others look for a free lease every second (at most). At a clean stop the holder gives
  the lease up, so a sibling takes over at once.

Every time a lease is set or judged by is the database's own clock (read in the same
connection), never a process's: a host whose clock runs ahead would otherwise take a live
holder's lease, and one whose clock runs behind would keep its own past its end. During a
database outage two holders may overlap briefly; every leased job's own writes stay
conditional (a sweep changes a row only if it is still due, a consumer advances its cursor
past an event once), so the lease saves repeated work and never alone decides what is correct.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from pasar_kit import claimants
from pasar_kit.config import Env
from pasar_kit.database import atomic_write
from pasar_kit.fields import UtcDateTimeField
from pasar_kit.logs import request_context
from pasar_kit.timestamps import as_utc

log = logging.getLogger(__name__)

LEASE_SECONDS_SETTING = "PASAR_JOB_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 15.0
# How often at most a process without the lease looks whether it is free.
MAX_STANDBY_SECONDS = 1.0

Task = Callable[[threading.Event], None]


class JobLeaseRow(peewee.Model):
    """A row of job_leases (each service's migrations create the table). Bound to no
    database: every query names the service's own."""

    name = peewee.CharField(max_length=64, primary_key=True)
    owner = peewee.CharField(max_length=255, null=True)
    lease_until = UtcDateTimeField(null=True)

    class Meta:
        table_name = "job_leases"


@dataclass(frozen=True)
class LeaseTiming:
    """How long a lease lasts; renewal and the look for a free lease follow from it."""

    seconds: float = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls, env: Env) -> LeaseTiming:
        """PASAR_JOB_LEASE_SECONDS: how long a vanished holder on another host keeps its jobs."""
        return cls(env.number(LEASE_SECONDS_SETTING, DEFAULT_LEASE_SECONDS, minimum=1))

    @property
    def renew_seconds(self) -> float:
        return self.seconds / 3

    @property
    def standby_seconds(self) -> float:
        return min(MAX_STANDBY_SECONDS, self.seconds / 3)


class JobLease:
    """One job's lease, held (or wanted) by one owner."""

    def __init__(
        self, database: peewee.Database, name: str, seconds: float, owner: str | None = None
    ) -> None:
        self.database = database
        self.name = name
        self.seconds = seconds
        self.owner = owner or claimants.claimant_name()

    def hold(self) -> bool:
        """Takes or renews the lease for `seconds` from now; whether this owner holds it."""
        with self.database.connection_context():
            now = database_now(self.database)
            found = self._holder()
            if found is None:  # the first process ever to run the job: make its row
                JobLeaseRow.insert(name=self.name).on_conflict_ignore().execute(self.database)
                return self._take(now, _free_or_mine(self.owner, now))
            holder, until = found
            if holder is None or holder == self.owner or until is None or until < now:
                return self._take(now, _free_or_mine(self.owner, now))
            if claimants.is_dead(holder) and self._take(now, JobLeaseRow.owner == holder):
                log.info(
                    "took over a job whose holder, a process of this host, is gone",
                    extra={"job": self.name, "claimant": holder},
                )
                return True
            return False

    def release(self) -> None:
        """Gives the lease up (if this owner still holds it), so a sibling may take it at once."""
        with self.database.connection_context(), atomic_write(self.database):
            JobLeaseRow.update(owner=None, lease_until=None).where(
                (JobLeaseRow.name == self.name) & (JobLeaseRow.owner == self.owner)
            ).execute(self.database)

    def _holder(self) -> tuple[str | None, datetime | None] | None:
        """(owner, lease_until) of the row; None when there is no row yet."""
        rows = list(
            JobLeaseRow.select(JobLeaseRow.owner, JobLeaseRow.lease_until)
            .where(JobLeaseRow.name == self.name)
            .execute(self.database)
        )
        return (rows[0].owner, rows[0].lease_until) if rows else None

    def _take(self, now: datetime, condition: peewee.Expression) -> bool:
        """The one conditional UPDATE that takes or renews the lease."""
        with atomic_write(self.database):
            taken: int = (
                JobLeaseRow.update(owner=self.owner, lease_until=now + timedelta(seconds=self.seconds))
                .where((JobLeaseRow.name == self.name) & condition)
                .execute(self.database)
            )
        return taken == 1


def database_now(database: peewee.Database) -> datetime:
    """The database's own time now (UTC): one clock for every process and host that shares it
    (SQLite's is this host's, whatever a process's own clock says)."""
    if isinstance(database, peewee.SqliteDatabase):
        text = database.execute_sql("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')").fetchone()[0]
        return as_utc(datetime.fromisoformat(text))
    found: datetime = database.execute_sql("SELECT UTC_TIMESTAMP(6)").fetchone()[0]
    return as_utc(found)


def _free_or_mine(owner: str, now: datetime) -> peewee.Expression:
    return (
        JobLeaseRow.owner.is_null()
        | (JobLeaseRow.owner == owner)
        | JobLeaseRow.lease_until.is_null()
        | (JobLeaseRow.lease_until < now)
    )


def leased(name: str, task: Task, database: peewee.Database, timing: LeaseTiming | None = None) -> Task:
    """A GrpcServer background task that runs task only while this process holds the
    lease called name. task gets an Event of its own, set when the lease is lost or the
    server stops; the lease is given up once task has returned."""

    times = timing or LeaseTiming()

    def run_while_leased(stopping: threading.Event) -> None:
        lease = JobLease(database, name, times.seconds)
        with request_context(f"lease {name}"):
            while not stopping.is_set():
                asked = time.monotonic()
                if _attempt(lease) is True:
                    _run_holding(lease, task, stopping, times, asked)
                    _release(lease)
                stopping.wait(times.standby_seconds)

    return run_while_leased


def _run_holding(
    lease: JobLease, task: Task, stopping: threading.Event, timing: LeaseTiming, asked: float
) -> None:
    """Runs task on its own thread while the lease is renewed; returns once task has."""
    log.info(
        "holds the job's lease: the job runs in this process",
        extra={"job": lease.name, "claimant": lease.owner},
    )
    job_stopping = threading.Event()
    thread = threading.Thread(target=task, args=(job_stopping,), name=lease.name, daemon=True)
    watch = _LeaseWatch(lease.name, job_stopping, asked + timing.seconds - timing.renew_seconds)
    watchdog = threading.Thread(target=watch.stop_job_when_due, name=f"{lease.name}-watch", daemon=True)
    thread.start()
    watchdog.start()
    try:
        while not stopping.wait(timing.renew_seconds) and not job_stopping.is_set():
            if not thread.is_alive():
                log.warning("the job ended on its own; its lease is given up", extra={"job": lease.name})
                return
            asked = time.monotonic()
            held = _attempt(lease)
            if held is True:
                watch.due = asked + timing.seconds - timing.renew_seconds
            elif held is False:
                log.warning("lost the job's lease: the job stops here", extra={"job": lease.name})
                return
    finally:
        job_stopping.set()
        thread.join()
        watchdog.join()


class _LeaseWatch:
    """Stops the job when its lease is no longer surely held (a third of it before its end,
    by this process's monotonic clock, from the last renewal asked for), even while a renewal
    still waits on a database that does not answer (a read may wait 30 s, twice a lease):
    another process may take the lease over once it has run out."""

    def __init__(self, job: str, job_stopping: threading.Event, due: float) -> None:
        self.job = job
        self.job_stopping = job_stopping
        self.due = due  # moved on by each renewal

    def stop_job_when_due(self) -> None:
        while not self.job_stopping.wait(max(0.0, self.due - time.monotonic())):
            if time.monotonic() >= self.due:
                log.warning(
                    "could not renew the job's lease before it runs out: the job stops here",
                    extra={"job": self.job},
                )
                self.job_stopping.set()


def _attempt(lease: JobLease) -> bool | None:
    """lease.hold(), or None when the database did not answer."""
    try:
        return lease.hold()
    except (peewee.OperationalError, peewee.InterfaceError) as error:
        log.warning(
            "could not reach the database for a job's lease", extra={"job": lease.name, "error": str(error)}
        )
    except Exception:  # a bug must not end the job's loop for the life of the process
        log.exception("taking a job's lease failed", extra={"job": lease.name})
    return None


def _release(lease: JobLease) -> None:
    try:
        lease.release()
    except Exception as error:  # it runs out on its own
        log.warning("could not give a job's lease up", extra={"job": lease.name, "error": str(error)})
