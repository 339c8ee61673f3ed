"""The e-mail outbox: e-mails are queued with the change they announce, and sent later.

Queuing is a row written in the same transaction as the order's change, so an e-mail
exists exactly when its cause does. The dispatcher claims due rows (see
:mod:`pasar_order.work_queue`), composes and sends each, and marks it sent right after;
a failure schedules a retry with exponential backoff. An SMTP outage thus delays e-mails
and a crash repeats at most the one e-mail between sending and marking. Each e-mail is
composed and sent in a span whose parent is the trace context it was queued in.
"""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import fn

from pasar_kit.prepared import insert_of
from pasar_order.emails import Composer
from pasar_order.mail_transport import MailServerUnavailable, MailTransport, RecipientRefused
from pasar_order.models import Email, EmailKind, OutboxState, database_proxy, lines_of, order_of_id
from pasar_order.tracing import ORDER_ID, row_span, traced_columns
from pasar_order.work_queue import Backoff, WorkQueue

log = logging.getLogger(__name__)

BATCH = 20
# The outbox's name in its spans and metrics.
DESTINATION = "mail-outbox"


# Queued with every checkout: its SQL built once (pasar_kit.prepared). At most one e-mail of
# a kind per order: a second is skipped.
_QUEUE = insert_of(
    database_proxy,
    Email,
    ("order", "kind", "next_attempt_time", "create_time", "traceparent", "tracestate"),
    ignore_conflicts=True,
)


def queue_email(order_id: str, kind: str, now: datetime) -> None:
    """Queues the order's e-mail of this kind; call it in the transaction of the change."""
    _QUEUE.execute(
        {"order": order_id, "kind": kind, "next_attempt_time": now, "create_time": now, **traced_columns()}
    )


def queue_expired_mail(order_id: str, now: datetime) -> None:
    """Queues the "expired" e-mail: the order was not paid by its expire_time.

    The expiry path calls it in the transaction that turns the order EXPIRED, right
    where the release of its stock is queued (``pasar_order.orders.mark_closed`` with
    state EXPIRED, whichever way the expiry came: the sweeper, the payment's EXPIRED
    event, a cancellation found past the deadline). A CANCELLED order gets no e-mail:
    the shopper cancelled it. At most one per order, like every kind.
    """
    queue_email(order_id, EmailKind.EXPIRED, now)


class MailDispatcher:
    """Sends due e-mails of the outbox."""

    def __init__(self, composer: Composer, transport: MailTransport, backoff: Backoff) -> None:
        self.composer = composer
        self.transport = transport
        # An order's e-mails go out in the order they were queued: "payment received" waits
        # while "order created" is still queued (say it failed first and backs off longer).
        earlier = Email.alias()
        nothing_earlier_queued = ~fn.EXISTS(
            earlier.select(earlier.id).where(
                (earlier.order == Email.order)
                & (earlier.id < Email.id)
                & (earlier.state == OutboxState.QUEUED)
            )
        )
        self.queue = WorkQueue(Email, backoff, ready=nothing_earlier_queued)

    def run_due(self) -> bool:
        """One round; True when a full batch was sent and more may be waiting."""
        emails = self.queue.claim_due(BATCH)
        if not emails:
            return False
        with self.transport.session() as send:
            for index, email in enumerate(emails):
                with row_span(
                    DESTINATION, email, email.id, {ORDER_ID: email.order_id, "pasar.email.kind": email.kind}
                ):
                    try:
                        order = order_of_id(email.order_id)
                        lines = lines_of(order)
                        send(email.id, email.kind, self.composer.compose(email, order, lines))
                    except MailServerUnavailable as error:
                        # The others in this batch would fail the same way: they all wait.
                        for waiting in emails[index:]:
                            self.queue.retry_later(waiting, str(error))
                        return False
                    except RecipientRefused as error:
                        self.queue.give_up(email, str(error))
                    except Exception as error:  # any other failure of one e-mail: retry it later
                        log.exception("e-mail not sent", extra={"email_id": email.id})
                        self.queue.retry_later(email, repr(error))
                    else:
                        if not self.queue.complete(email):
                            log.warning(
                                "sent an e-mail whose lease had expired", extra={"email_id": email.id}
                            )
        return len(emails) == BATCH
