"""LookupOrder: an order found again by its number and a contact the shopper placed it with.

The contact is the order's e-mail address (surrounding spaces and case ignored) or a value
of one of its lines' destinations, such as the phone number topped up (spaces and dashes
ignored on both sides, a leading "+62" or "62" read as "0") — a value of at least
MIN_DESTINATION_CONTACT_LENGTH characters: a game's zone id ("2001") is short enough to be
guessed within the failure limit, so it opens nothing. A wrong contact answers
exactly as an unknown number does (NOT_FOUND ORDER_NOT_FOUND), so neither numbers nor
contacts can be probed by the answer.

Nor by guessing: failed look-ups are counted per number, known or not, in the database
(table ``order_lookup_failures``), so that every instance counts the same. Each look-up
counts as a failure first, in one statement, and is taken back once it matched: two
look-ups at once can never both slip under the limit. Past max_failures within a window
(which starts at the first failure), the number answers RESOURCE_EXHAUSTED RATE_LIMITED,
even with the right contact, until the window has passed.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from pasar_kit import database as db
from pasar_kit.database import atomic_write
from pasar_kit.timestamps import utc_now
from pasar_order import reasons
from pasar_order.access import access_token
from pasar_order.config import LookupSettings
from pasar_order.models import (
    VISIBLE_STATES,
    Order,
    OrderLine,
    OrderLookupFailures,
    line_destination,
    lines_of_order_id,
)

log = logging.getLogger(__name__)

# What a phone number may be written with and without: spaces and dashes.
_SEPARATORS = re.compile(r"[\s-]+")
# The shortest destination value that serves as a contact (written as as_phone_number
# writes it): phone and meter numbers are longer, a game's zone id is not.
MIN_DESTINATION_CONTACT_LENGTH = 8
# The most passed counts the sweeper deletes in one transaction.
FORGET_BATCH = 500


@dataclass(frozen=True)
class FoundOrder:
    order: Order
    lines: list[OrderLine]
    access_token: str


class OrderLookup:
    """Finds orders by number and contact, within the limit on failed look-ups."""

    def __init__(self, database: peewee.Database, settings: LookupSettings, token_secret: str) -> None:
        self.database = database
        self.max_failures = settings.max_failures
        self.window = timedelta(seconds=settings.window_seconds)
        self.token_secret = token_secret

    def lookup(self, order_number: str, contact: str) -> FoundOrder:
        now = utc_now()
        failures, window_start = self._count_failure(order_number, now)
        if failures > self.max_failures:
            wait = math.ceil((window_start + self.window - now).total_seconds())
            log.info("order look-ups limited", extra={"order_number": order_number})
            raise reasons.lookups_limited(max(wait, 1))
        order: Order | None = Order.get_or_none(
            (Order.order_number == order_number) & Order.state.in_(VISIBLE_STATES)
        )
        # The same reads for an unknown number as for a known one ("" is no order's id), so
        # that how long the answer takes tells no more than the answer does.
        lines = lines_of_order_id(order.id if order is not None else "")
        if order is None or not contact_matches(contact, order.customer_email, lines):
            raise reasons.order_not_found()
        self._take_back_failure(order_number, window_start)
        return FoundOrder(order, lines, access_token(self.token_secret, order.id))

    def _count_failure(self, order_number: str, now: datetime) -> tuple[int, datetime]:
        """Counts one failure of the number (a new window if its last one has passed);
        returns the failures in the window and when it started."""
        # The row first, on its own: on MariaDB an insert that finds the row takes a shared
        # lock, which two transactions could not both upgrade for the update below.
        with atomic_write(self.database):
            OrderLookupFailures.insert(
                order_number=order_number, failures=0, window_start=now
            ).on_conflict_ignore().execute()
        with atomic_write(self.database):
            counted: OrderLookupFailures = self._locked(order_number).get()
            if counted.window_start <= now - self.window:
                counted.failures, counted.window_start = 0, now
            counted.failures += 1
            self._write(order_number, failures=counted.failures, window_start=counted.window_start)
        return counted.failures, counted.window_start

    def _take_back_failure(self, order_number: str, window_start: datetime) -> None:
        """A look-up that matched was no failure (unless its window has been replaced)."""
        with atomic_write(self.database):
            counted: OrderLookupFailures | None = self._locked(order_number).first()
            if counted is not None and counted.window_start == window_start and counted.failures > 0:
                self._write(order_number, failures=counted.failures - 1)

    def forget_passed_windows(self) -> int:
        """Deletes the counts whose window has passed (they limit nothing any more)."""
        row = OrderLookupFailures
        cutoff = utc_now() - self.window
        deleted = 0
        while True:
            # Read without locks, then locked by their keys and decided on (see _locked).
            passed = [
                found.order_number
                for found in row.select(row.order_number)
                .where(row.window_start <= cutoff)
                .order_by(row.order_number)
                .limit(FORGET_BATCH)
            ]
            if not passed:
                return deleted
            with atomic_write(self.database):
                locked = self._locked(*passed).order_by(row.order_number)
                gone = [found.order_number for found in locked if found.window_start <= cutoff]
                if gone:
                    deleted += row.delete().where(row.order_number.in_(gone)).execute()
            if len(passed) < FORGET_BATCH:
                return deleted

    def _locked(self, *order_numbers: str) -> peewee.ModelSelect[OrderLookupFailures]:
        """The counts of these numbers, their rows locked until the transaction ends.

        Every change of a count locks its row by its key first and decides on it, then
        writes by key: an UPDATE or DELETE filtering on window_start was planned by MariaDB
        through the window_start index, locking its entry before the row, the opposite
        order to a writer holding the row and moving its window (a deadlock between a
        look-up and the sweeper, or two look-ups). On SQLite, atomic_write serialises them."""
        row = OrderLookupFailures
        query: peewee.ModelSelect[OrderLookupFailures] = db.for_update(
            row.select().where(row.order_number.in_(order_numbers)), self.database
        )
        return query

    @staticmethod
    def _write(order_number: str, **changes: object) -> None:
        """Writes changes to the count of a number whose row _locked locked."""
        row = OrderLookupFailures
        row.update(**changes).where(row.order_number == order_number).execute()


def contact_matches(contact: str, customer_email: str, lines: list[OrderLine]) -> bool:
    """Whether contact is the order's e-mail address or one of its lines' destination values."""
    if contact.strip().casefold() == customer_email.strip().casefold():
        return True
    wanted = as_phone_number(contact)
    if len(wanted) < MIN_DESTINATION_CONTACT_LENGTH:
        return False
    values = (value for line in lines for value in line_destination(line).values())
    return any(as_phone_number(value) == wanted for value in values)


def as_phone_number(value: str) -> str:
    """value without spaces and dashes, a leading "+62" or "62" written as "0" ("+62 812-3456"
    and "0812 3456" are one number); other values only lose their spaces and dashes."""
    compact = _SEPARATORS.sub("", value)
    for country_code in ("+62", "62"):
        if compact.startswith(country_code):
            return "0" + compact[len(country_code) :]
    return compact
