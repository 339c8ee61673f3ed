"""CreateOrder: the checkout saga, crash-safe and idempotent on the client's request id.

1. Price the lines from the catalog (BatchGetPackages), refuse a product that declares
   no delivery kind, check each line's destination against its product's destination
   fields and check the payment channel; nothing is written yet, so a hopeless request
   leaves no trace anywhere.
2. Persist the intent (:mod:`pasar_order.intents`): the order in state CREATING.
3. Reserve the stock (ReserveStock, idempotent on the order id).
4. Create the payment (CreatePayment, idempotent on the order id).
5. In one transaction: the order becomes PENDING_PAYMENT with its payment, and the
   "order created" e-mail is queued.

One deadline: the order expires when its payment does (the payment's expire_time, the
channel's payment_ttl after it was created). The stock is held that long plus
RESERVATION_MARGIN, asked before the payment exists from the channel's payment_ttl in the
cached channel list; should the payment still outlive what the catalog granted (a window
lengthened meanwhile, or beyond the catalog's maximum), the order expires RESERVATION_MARGIN
before the reservation ends, and its payment is cancelled then.

A failure undoes the earlier steps and answers with the failing peer's own status (its
reason passed through) or UNAVAILABLE naming the service that is down. A retry with the
same request id and content returns the first attempt's order, payment and token; it
resumes a checkout whose worker crashed, and waits for one still in progress.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

import peewee

from pasar.common.v1 import money_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_kit.database import released_while_waiting
from pasar_kit.errors import ServiceError
from pasar_kit.ids import new_id
from pasar_kit.timestamps import utc_now
from pasar_order import intents, reasons
from pasar_order.access import access_token, stored_hash
from pasar_order.destination_checks import check_destinations
from pasar_order.messages import OrderRequest, PlacedOrder
from pasar_order.models import (
    VISIBLE_STATES,
    Order,
    OrderLine,
    OrderState,
    lines_of,
    order_of_request_id,
    stored_payment,
)
from pasar_order.payment_channels import PaymentChannelDirectory
from pasar_order.peers import Peers
from pasar_order.pricing import price_lines
from pasar_order.reasons import PeerError
from pasar_order.settlement import Doorbells

# How long a reservation outlives its order: a payment settled just before the order's
# expiry must still find its stock held when the order service commits it, even after an
# outage of the order service or the catalog of up to this long.
RESERVATION_MARGIN = timedelta(hours=1)

log = logging.getLogger(__name__)

# How often, and for how long, a retry waits for an earlier attempt still in progress.
_WAIT_POLL_SECONDS = 0.1


class Checkout:
    """Places orders."""

    def __init__(
        self,
        *,
        database: peewee.Database,
        peers: Peers,
        channels: PaymentChannelDirectory,
        compensation: intents.Compensation,
        doorbells: Doorbells,
        token_secret: str,
        lease: timedelta,
        retry_wait_seconds: float = 10.0,
    ) -> None:
        self.database = database
        self.peers = peers
        self.channels = channels
        self.compensation = compensation
        self.doorbells = doorbells
        self.token_secret = token_secret
        self.lease = lease
        self.retry_wait_seconds = retry_wait_seconds

    def place_order(self, request: OrderRequest) -> PlacedOrder:
        # A retry can find the first attempt abandoned under it (its request id freed):
        # it then starts afresh, which takes a second round at most.
        for _ in range(3):
            if request.request_id:
                existing = order_of_request_id(request.request_id)
                if existing is not None:
                    placed = self._replay(existing, request)
                    if placed is not None:
                        return placed
                    continue
            placed = self._start(request)
            if placed is not None:
                return placed
        raise reasons.request_id_racing()

    # A new checkout.

    def _start(self, request: OrderRequest) -> PlacedOrder | None:
        """Runs a fresh checkout; None when a concurrent call with the same request id won the race."""
        # On SQLite the call's connection goes back to the pool while a peer answers
        # (released_while_waiting says why).
        with released_while_waiting(self.database):
            packages = self.peers.batch_get_packages([package_id for package_id, _ in request.lines])
        check_destinations(request.lines, request.destinations, packages)
        priced = price_lines(request.lines, packages, request.destinations)
        with released_while_waiting(self.database):
            channel = self.channels.check(request.payment_channel_code, priced.subtotal)
        if channel.requires_phone_number and not request.payer_phone_number:
            raise reasons.payer_phone_number_required(channel.code)
        order_id = new_id("ord")
        owner = secrets.token_hex(8)
        try:
            order, lines = intents.create(
                order_id=order_id,
                request_id=request.request_id,
                fingerprint=request.fingerprint,
                customer_email=request.customer_email,
                language_code=request.language_code,
                payment_channel_code=request.payment_channel_code,
                priced=priced,
                access_token_hash=stored_hash(self.token_secret, order_id),
                owner=owner,
                lease=self.lease,
                database=self.database,
            )
        except peewee.IntegrityError:
            if not request.request_id:
                raise
            return None  # the same request id was placed a moment ago: replay it
        log.info("checkout started", extra={"order_id": order_id})
        return self._carry_out(
            order, lines, owner, channel.payment_ttl.ToTimedelta(), request.payer_phone_number
        )

    def _carry_out(
        self,
        order: Order,
        lines: list[OrderLine],
        owner: str,
        payment_window: timedelta,
        payer_phone_number: str,
    ) -> PlacedOrder:
        """Steps 3 to 5 for an intent this worker holds (order and its lines as stored);
        payment_window: the channel's payment_ttl."""
        stock_lines = [(line.package_id, line.quantity) for line in lines]
        # The catalog releases the units by itself after this, should this service never
        # commit or release them; until the payment's expiry (the window, counted from its
        # creation, at most a lease from now), a payment may still come.
        hold_until = utc_now() + payment_window + self.lease + RESERVATION_MARGIN
        try:
            with released_while_waiting(self.database):
                reservation = self.peers.reserve_stock(order.id, stock_lines, hold_until)
        except PeerError as error:
            # A refusal reserved nothing; an outage may have reserved before the answer was lost.
            # This attempt asked for no payment, but a resumed checkout's first attempt may
            # have: the undo reads the intent's payment_requested (None) and cancels it.
            self._abandon(order.id, owner, error, stock_may_be_held=error.is_outage, payment_may_exist=None)
            raise
        if not intents.note_payment_requested(order.id, owner):
            return self._taken_over(order.id)
        try:
            with released_while_waiting(self.database):
                payment = self.peers.create_payment(
                    order_id=order.id,
                    channel_code=order.payment_channel_code,
                    amount=money_pb2.Money(currency_code=order.currency_code, amount=order.subtotal),
                    description=intents.payment_description(order.id),
                    customer_email=order.customer_email,
                    payer_phone_number=payer_phone_number,
                )
        except PeerError as error:
            self._abandon(order.id, owner, error, payment_may_exist=error.is_outage)
            raise
        latest_expiry = _reservation_end(reservation, hold_until) - RESERVATION_MARGIN
        if not intents.complete(order, owner, payment, latest_expiry, self.database):
            return self._taken_over(order.id)
        self.doorbells.mail.ring()
        log.info("order placed", extra={"order_id": order.id, "payment_id": payment.id})
        return PlacedOrder(order, lines, payment, access_token(self.token_secret, order.id))

    def _abandon(
        self,
        order_id: str,
        owner: str,
        cause: ServiceError,
        *,
        stock_may_be_held: bool = True,
        payment_may_exist: bool | None,
    ) -> None:
        """Undoes what the checkout did, now if the peers answer, else later (the sweeper).
        payment_may_exist None: as the intent records (Compensation.undo)."""
        log.info(
            "checkout failed", extra={"order_id": order_id, "reason": cause.reason, "error": cause.message}
        )
        if not intents.abandon(order_id, owner, self.lease):
            return
        try:
            self.compensation.undo(
                order_id,
                owner,
                stock_may_be_held=stock_may_be_held,
                payment_may_exist=payment_may_exist,
                # Only an unanswered CreatePayment lets a payment still be in the making.
                payment_request_may_be_running=bool(payment_may_exist),
            )
        except PeerError as error:
            log.warning(
                "cannot undo the checkout now; the sweeper will",
                extra={"order_id": order_id, "error": error.message},
            )

    def _taken_over(self, order_id: str) -> PlacedOrder:
        """This worker lost its lease (it was too slow): answer with what became of the order."""
        order: Order | None = Order.get_or_none(Order.id == order_id)
        if order is not None and order.state in VISIBLE_STATES:
            return self._placed(order)
        raise reasons.checkout_abandoned()

    # A retry.

    def _replay(self, existing: Order, request: OrderRequest) -> PlacedOrder | None:
        """The answer for a request id seen before; None if its attempt vanished meanwhile."""
        if existing.request_fingerprint != request.fingerprint:
            raise reasons.request_id_reused()
        deadline = time.monotonic() + self.retry_wait_seconds
        order: Order | None = existing
        while order is not None and order.state == OrderState.CREATING:
            owner = secrets.token_hex(8)
            if intents.claim(order.id, owner, self.lease):
                log.info("resuming a checkout whose worker vanished", extra={"order_id": order.id})
                return self._carry_out(
                    order,
                    lines_of(order),
                    owner,
                    self._payment_window(order.payment_channel_code),
                    request.payer_phone_number,
                )
            if time.monotonic() > deadline:
                raise reasons.earlier_attempt_in_progress()
            # Not holding a connection: on SQLite the pool is bounded (main.SQLITE_CONNECTIONS),
            # and the earlier attempt this waits for needs one to finish.
            with released_while_waiting(self.database):
                time.sleep(_WAIT_POLL_SECONDS)
            order = Order.get_or_none((Order.id == existing.id) & (Order.request_id == request.request_id))
        if order is None or order.state not in VISIBLE_STATES:
            return None
        return self._placed(order)

    def _payment_window(self, channel_code: str) -> timedelta:
        """The channel's payment_ttl, for a resumed checkout; none if the channel has gone
        meanwhile (its CreatePayment will be refused, and the short hold then released)."""
        channel = self.channels.find(channel_code)
        return channel.payment_ttl.ToTimedelta() if channel is not None else timedelta(0)

    def _placed(self, order: Order, payment: payment_pb2.Payment | None = None) -> PlacedOrder:
        if payment is None:
            payment = self._current_payment(order)
        return PlacedOrder(order, lines_of(order), payment, access_token(self.token_secret, order.id))

    def _current_payment(self, order: Order) -> payment_pb2.Payment:
        """The order's payment as the payment service has it now; as it was created if the
        payment service cannot be asked (the retry must still return it)."""
        assert order.payment_id is not None, "a visible order has its payment"
        try:
            return self.peers.get_payment(order.payment_id)
        except PeerError as error:
            as_created = stored_payment(order)
            if as_created is None:
                raise
            log.warning(
                "payment service unavailable; answering with the payment as created",
                extra={"order_id": order.id, "error": error.message},
            )
            return as_created


def _reservation_end(reservation: product_pb2.Reservation, asked: datetime) -> datetime:
    """When the catalog lets the reservation go: as it answered (a retry answers the first
    call's; the catalog may cap what it was asked), else as asked."""
    if reservation.HasField("expire_time"):
        return reservation.expire_time.ToDatetime(tzinfo=UTC)
    return asked
