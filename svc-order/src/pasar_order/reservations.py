"""The steps on an order's stock reservation that follow a state change, made durable.

When an order is paid its reservation must be committed at the catalog; when it is
cancelled or expires, released. The state change and a ReservationTask row are written in
one transaction; this dispatcher then calls the catalog until the step succeeds, so that
an outage of the catalog delays the step but never loses it. Both calls are idempotent at
the catalog, so a step repeated after a crash changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

import peewee

from pasar_kit.database import released_while_waiting
from pasar_order import reasons
from pasar_order.models import ReservationStep, ReservationTask
from pasar_order.peers import Peers
from pasar_order.reasons import PeerError
from pasar_order.tracing import traced_columns
from pasar_order.work_queue import Backoff, TaskDispatcher

log = logging.getLogger(__name__)

# Answers that mean the step's goal already holds.
_ALREADY_DONE = {
    ReservationStep.COMMIT: {reasons.RESERVATION_COMMITTED},
    ReservationStep.RELEASE: {reasons.RESERVATION_RELEASED, reasons.RESERVATION_NOT_FOUND},
}


def queue_reservation_step(order_id: str, step: str, now: datetime) -> None:
    """Queues a step on the order's reservation; call it in the transaction of the state change."""
    ReservationTask.insert(
        order=order_id, step=step, next_attempt_time=now, create_time=now, **traced_columns()
    ).on_conflict_ignore().execute()


class ReservationDispatcher(TaskDispatcher[ReservationTask]):
    """Carries out queued reservation steps at the catalog (commits and releases)."""

    destination = "reservation-steps"

    def __init__(self, database: peewee.Database, peers: Peers, backoff: Backoff) -> None:
        super().__init__(ReservationTask, backoff)
        self.database = database
        self.peers = peers

    def carry_out(self, task: ReservationTask) -> None:
        order_id: str = task.order_id
        try:
            # On SQLite the round's connection goes back to the pool while the catalog
            # answers (pasar_kit.database.released_while_waiting).
            with released_while_waiting(self.database):
                if task.step == ReservationStep.COMMIT:
                    self.peers.commit_reservation(order_id)
                else:
                    self.peers.release_reservation(order_id)
        except PeerError as error:
            if error.is_passing:
                self.queue.retry_later(task, error.message)
                return
            if error.reason not in _ALREADY_DONE[ReservationStep(task.step)]:
                # The catalog refuses for good (a paid order whose stock was released, say):
                # stock counts need a person; keep the row as evidence.
                log.error(
                    "the catalog refused a reservation step",
                    extra={"order_id": order_id, "step": task.step, "reason": error.reason},
                )
                self.queue.give_up(task, f"{error.reason or error.code.name}: {error.message}")
                return
        self.queue.complete(task)
        log.info("reservation step done", extra={"order_id": order_id, "step": task.step})
