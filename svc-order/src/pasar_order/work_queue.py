"""Claiming outbox rows safely when several instances of the service run.

A row is due when it is QUEUED and its next attempt time has come. An instance claims it
by locking the row by its key and setting a lease (owner and expiry) only if nobody holds
an unexpired lease; the row is then its own until it marks it done or schedules a retry.
An instance that crashes holding a lease just lets it expire, and another takes over:
work is delayed, never lost, and repeated only if the crash came between doing the work
and marking it done (at least once). Each row's work runs in a span whose parent is the
trace context the row was queued in (:mod:`pasar_order.tracing`). The lease's owner names
the process (see :mod:`pasar_kit.claimants`), so a service restarted on the same host takes back its dead
predecessor's claims at its first round instead of waiting for the lease to expire.
"""

from __future__ import annotations

import abc
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import peewee

from pasar_kit import claimants
from pasar_kit import database as db
from pasar_kit.prepared import LockedRow, PreparedQuery, PreparedWrite
from pasar_kit.timestamps import utc_now
from pasar_order.models import OutboxRow, OutboxState
from pasar_order.tracing import ORDER_ID, row_span

log = logging.getLogger(__name__)

Row = TypeVar("Row", bound=OutboxRow)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: base, 2 x base, 4 x base ... up to maximum."""

    base_seconds: float
    maximum_seconds: float

    def delay(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 30)
        delay: float = min(self.base_seconds * 2.0**exponent, self.maximum_seconds)
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not a secret


class WorkQueue(Generic[Row]):
    """The due rows of one outbox table, for one worker of this process."""

    def __init__(
        self,
        model: type[Row],
        backoff: Backoff,
        lease_seconds: float = 120.0,
        ready: peewee.Expression | None = None,
    ) -> None:
        """ready: a further condition a due row must meet (see MailDispatcher)."""
        self.model = model
        self.backoff = backoff
        self.ready = ready
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = claimants.claimant_name()
        self._dead_claims_taken_back = False
        # A round's statements, their SQL built once (pasar_kit.prepared): every dispatcher
        # looks for due rows at each round, and each row is claimed, then completed.
        database = model._meta.database
        self._due = PreparedQuery(database, self._due_rows)
        # A claim locks the row by its key first and decides on it (see _claim_row).
        self._locked = LockedRow(database, model)
        self._claim = PreparedWrite(
            database,
            lambda row_id, owner, lease_until: model.update(lease_owner=owner, lease_until=lease_until).where(
                model.id == row_id
            ),
        )
        self._complete = PreparedWrite(
            database,
            lambda row_id, owner, done_time: model.update(
                lease_owner=None, lease_until=None, state=OutboxState.DONE, done_time=done_time
            ).where((model.id == row_id) & (model.lease_owner == owner)),
        )

    def _due_rows(self, now: object, limit: object) -> peewee.ModelSelect[Row]:
        """Up to limit rows due at now, oldest first."""
        model = self.model
        due = (model.state == OutboxState.QUEUED) & (model.next_attempt_time <= now) & _free(model, now)
        if self.ready is not None:
            due &= self.ready
        return model.select().where(due).order_by(model.next_attempt_time, model.id).limit(limit)

    def claim_due(self, limit: int) -> list[Row]:
        """Claims up to limit due rows, oldest first (after taking back dead claims, once)."""
        model = self.model
        now = utc_now()
        if not self._dead_claims_taken_back:
            self.take_back_dead_claims()
            self._dead_claims_taken_back = True
        candidates = self._due.instances(model, now, limit)
        claimed: list[Row] = []
        lease_until = now + self.lease
        for row in candidates:
            if self._claim_row(row, lease_until, now):
                row.lease_owner, row.lease_until = self.owner, lease_until
                claimed.append(row)
        return claimed

    def _claim_row(self, row: Row, lease_until: datetime, now: datetime) -> bool:
        """Leases row to this worker if it is still as read: QUEUED, with the same attempts,
        and nobody's lease running at now.

        Taken only as read: a row's other columns change only with its attempts (a retry
        scheduled) or its state, so the row read is the row claimed. Decided on the row
        locked by its key, then written by its key: an UPDATE of the id and the state was
        planned by MariaDB through the (state, next_attempt_time) index when few rows were
        QUEUED, locking index entries before the row, the opposite order to another
        instance finishing that row (which changes the entry): a deadlock between them."""
        with db.atomic_write(self.model._meta.database.obj):
            locked = self._locked(row.id)
            if (
                locked is None
                or locked.state != OutboxState.QUEUED
                or locked.attempts != row.attempts
                or not (locked.lease_until is None or locked.lease_until < now)
            ):
                return False
            self._claim.execute(row.id, self.owner, lease_until)
        return True

    def take_back_dead_claims(self) -> int:
        """Frees the rows leased to processes of this host that are gone; returns how many."""
        model = self.model
        held = (model.state == OutboxState.QUEUED) & (model.lease_until >= utc_now())
        owners = {row.lease_owner for row in model.select(model.lease_owner).where(held).distinct()}
        dead = sorted(owner for owner in owners if owner and claimants.is_dead(owner))
        if not dead:
            return 0
        freed: int = (
            model.update(lease_owner=None, lease_until=None)
            .where((model.state == OutboxState.QUEUED) & model.lease_owner.in_(dead))
            .execute()
        )
        log.warning(
            "took back rows claimed by a process of this host that is gone",
            extra={"table": model._meta.table_name, "rows": freed, "claimants": dead},
        )
        return freed

    def complete(self, row: Row) -> bool:
        """Marks a claimed row done; False if the lease was lost meanwhile."""
        return self._complete.execute(row.id, self.owner, utc_now()) == 1

    def retry_later(self, row: Row, error: str) -> None:
        """Schedules the next attempt of a claimed row after a backoff."""
        attempts = row.attempts + 1
        delay = self.backoff.delay(attempts)
        self._finish(
            row,
            attempts=attempts,
            next_attempt_time=utc_now() + timedelta(seconds=delay),
            last_error=error[:500],
        )
        log.warning(
            "attempt failed; retrying later",
            extra={
                "table": self.model._meta.table_name,
                "row": row.id,
                "attempts": attempts,
                "retry_in_seconds": round(delay, 2),
                "error": error[:500],
            },
        )

    def give_up(self, row: Row, error: str) -> None:
        """Marks a claimed row failed for good: the work can never succeed."""
        self._finish(row, state=OutboxState.FAILED, attempts=row.attempts + 1, last_error=error[:500])
        log.error(
            "gave up on a row that can never succeed",
            extra={"table": self.model._meta.table_name, "row": row.id, "error": error[:500]},
        )

    def _finish(self, row: Row, **changes: object) -> bool:
        model = self.model
        updated: int = (
            model.update(lease_owner=None, lease_until=None, **changes)
            .where((model.id == row.id) & (model.lease_owner == self.owner))
            .execute()
        )
        return updated == 1


def _free(model: type[OutboxRow], now: object) -> peewee.Expression:
    """Rows nobody holds an unexpired lease on at now."""
    return model.lease_until.is_null() | (model.lease_until < now)


class TaskDispatcher(abc.ABC, Generic[Row]):
    """Carries out the due rows of one outbox table, a batch per round."""

    batch = 20
    # The queue's name in its spans and metrics ("fulfillment-requests").
    destination: str

    def __init__(self, model: type[Row], backoff: Backoff) -> None:
        self.queue = WorkQueue(model, backoff)

    def run_due(self) -> bool:
        """One round; True when a full batch was done and more may be waiting."""
        tasks = self.queue.claim_due(self.batch)
        for task in tasks:
            with row_span(self.destination, task, task.id, {ORDER_ID: task.order_id}):
                self.carry_out(task)
        return len(tasks) == self.batch

    @abc.abstractmethod
    def carry_out(self, task: Row) -> None:
        """Does one claimed row's work, then completes it, retries it later or gives it up."""
