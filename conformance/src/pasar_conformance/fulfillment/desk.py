"""What the fulfillment suite makes on its target: fulfillments of the run's order lines.

:func:`open_desk` opens the run's :class:`FulfillmentDesk` (the suite's session fixture
does); request factories and cases reach it through :func:`current`. Every order, package
and product id comes from the run's ids, so a run never touches a line of the shop's.

The target's biller is whatever ``Fulfillment.biller`` says. With the sandbox biller
(``sandbox``, svc-fulfillment/README.md) the outcome follows the ending of the
destination's values: the kit writes destinations ending in :data:`DELIVERED` (delivered
within a moment), :data:`LATE` (answered after ``PASAR_SANDBOX_BILLER_LATE_SECONDS``, 30 s
by default: the fulfillment stays PENDING while a case sends its own notification), or an
ending the sandbox fails. Notifications are written in the sandbox's format (a JSON object
signed with the biller's webhook secret; :mod:`pasar_conformance.fulfillment.sandbox` holds
what the kit knows of that biller); against another biller the cases that need them skip,
saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from pasar.common.v1.money_pb2 import Money
from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import skip_unreached
from pasar_conformance.eventually import eventually
from pasar_conformance.fulfillment.lookups import LookupCatalog
from pasar_conformance.fulfillment.sandbox import (
    DELIVERED,
    LATE,
    SANDBOX,
    Kind,
    deliveries_for,
    destination_for,
    notification_payload,
    sign,
)
from pasar_conformance.target import Target

PACKAGE = "pasar.fulfillment.v1"
SERVICE = f"{PACKAGE}.FulfillmentService"
CURRENCY = "IDR"
UNIT_PRICE = 20_000

KINDS = (
    product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    product_pb2.DELIVERY_KIND_DATA_PLAN,
    product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    product_pb2.DELIVERY_KIND_VOUCHER_CODE,
    product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP,
)


def rpc(name: str) -> str:
    return f"{SERVICE}/{name}"


CREATE = rpc("CreateFulfillment")
GET = rpc("GetFulfillment")
NOTIFY = rpc("NotifyFulfillment")
WATCH = rpc("WatchFulfillmentEvents")
LOOKUP = rpc("LookupDestination")


def kind_name(kind: Kind) -> str:
    return product_pb2.DeliveryKind.Name(kind)


def rupiah(amount: int) -> Money:
    return Money(currency_code=CURRENCY, amount=amount)


def assert_unchanged_but_for_the_reference(
    later: ful_pb.Fulfillment, earlier: ful_pb.Fulfillment, what: str
) -> None:
    """later is earlier, or earlier once the biller was asked: with the biller's reference
    earlier lacked and a later update_time (the fulfillment changed), nothing else."""
    if later == earlier:
        return
    assert not earlier.biller_reference, f"{what} answered\n{later}\nafter\n{earlier}"
    assert later.biller_reference, f"{what} answered\n{later}\nafter\n{earlier}"
    expected = ful_pb.Fulfillment()
    expected.CopyFrom(earlier)
    expected.biller_reference = later.biller_reference
    expected.update_time.CopyFrom(later.update_time)
    assert later == expected, f"{what} changed more than the biller's reference:\n{later}\nafter\n{earlier}"
    assert later.update_time.ToDatetime() > earlier.update_time.ToDatetime(), (
        f"{what} carries the biller's reference {later.biller_reference!r} that the first answer lacked, "
        f"but its update_time did not move ({later.update_time.ToJsonString()}): update_time is when the "
        "fulfillment last changed"
    )


@dataclass(eq=False)
class FulfillmentDesk:
    """The run's fulfillments on one target, the biller's secret to notify them with, and the
    products to look destinations up for (None without --product)."""

    target: Target
    webhook_secret: str
    lookups: LookupCatalog | None = None
    _biller: str | None = None
    _readable: pb.GetFulfillmentRequest | None = field(default=None)

    # Making and reading fulfillments.
    def request(
        self,
        kind: Kind = product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        *,
        quantity: int = 1,
        ending: str = DELIVERED,
        order_id: str | None = None,
        destination: Mapping[str, str] | None = None,
    ) -> pb.CreateFulfillmentRequest:
        """A valid CreateFulfillment request for a new line of a new order of the run."""
        return pb.CreateFulfillmentRequest(
            order_id=order_id or self.target.run.new("order"),
            package_id=self.target.run.new("pkg"),
            product_id=self.target.run.new("product"),
            delivery_kind=kind,
            quantity=quantity,
            amount=rupiah(UNIT_PRICE * quantity),
            destination=destination_for(kind, ending) if destination is None else destination,
        )

    def create(self, request: pb.CreateFulfillmentRequest) -> ful_pb.Fulfillment:
        answer = cast(pb.CreateFulfillmentResponse, self.target.call(CREATE, request))
        return answer.fulfillment

    def open(
        self,
        kind: Kind = product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        *,
        quantity: int = 1,
        ending: str = DELIVERED,
    ) -> ful_pb.Fulfillment:
        """A new fulfillment of a new line."""
        return self.create(self.request(kind, quantity=quantity, ending=ending))

    def get(self, fulfillment_id: str) -> ful_pb.Fulfillment:
        answer = cast(
            pb.GetFulfillmentResponse, self.target.call(GET, pb.GetFulfillmentRequest(id=fulfillment_id))
        )
        return answer.fulfillment

    def ended(self, fulfillment_id: str) -> ful_pb.Fulfillment:
        """The fulfillment once its biller answered (polled for at most SETTLE_SECONDS)."""
        return eventually(
            lambda: self.get(fulfillment_id),
            lambda f: f.state != ful_pb.FULFILLMENT_STATE_PENDING,
            f"fulfillment {fulfillment_id} ends",
        )

    def readable(self) -> pb.GetFulfillmentRequest:
        """A GetFulfillmentRequest of a fulfillment of the run that stays as it is (made once:
        answered late, and read by the probe long before)."""
        if self._readable is None:
            self._readable = pb.GetFulfillmentRequest(id=self.pending_with_reference().id)
        return self._readable

    # The biller.
    def biller(self) -> str:
        """The target's biller, as the fulfillments it accepts name it (asked once)."""
        if self._biller is None:
            self._biller = self.get(self.readable().id).biller
        return self._biller

    def sandbox(self) -> bool:
        return self.biller() == SANDBOX

    def require_sandbox(self, *reasons: str) -> None:
        """Skips the case unless the target's biller is the sandbox, whose behaviour (and
        notification format) the kit knows; reasons: those the case would have asserted."""
        if not self.sandbox():
            skip_unreached(
                f"the target's biller is {self.biller()!r}, not the sandbox whose outcomes and "
                "notifications the kit knows (svc-fulfillment/README.md)",
                *reasons,
            )

    def settled_line(
        self, kind: Kind = product_pb2.DELIVERY_KIND_PHONE_CREDIT, *, quantity: int = 1
    ) -> tuple[pb.CreateFulfillmentRequest, ful_pb.Fulfillment]:
        """A new line the sandbox answers late, and its fulfillment once it carries the
        biller's reference: a biller gives one when it is asked, at once or a moment after
        CreateFulfillment, and then the fulfillment stays as it is until the answer."""
        request = self.request(kind, quantity=quantity, ending=LATE)
        return request, self.referenced(self.create(request).id)

    def referenced(self, fulfillment_id: str) -> ful_pb.Fulfillment:
        """The fulfillment once it carries the biller's reference (polled)."""
        return eventually(
            lambda: self.get(fulfillment_id),
            lambda f: bool(f.biller_reference),
            f"fulfillment {fulfillment_id} carries the biller's reference",
        )

    def pending_with_reference(
        self, kind: Kind = product_pb2.DELIVERY_KIND_PHONE_CREDIT, quantity: int = 1
    ) -> ful_pb.Fulfillment:
        """A new fulfillment the sandbox answers late, once it carries the biller's reference."""
        return self.settled_line(kind, quantity=quantity)[1]

    def notification(
        self,
        fulfillment: ful_pb.Fulfillment,
        status: ful_pb.FulfillmentState.ValueType = ful_pb.FULFILLMENT_STATE_SUCCEEDED,
        *,
        failure_reason: ful_pb.FailureReason.ValueType = ful_pb.FAILURE_REASON_DESTINATION_REFUSED,
        biller_reference: str | None = None,
    ) -> pb.NotifyFulfillmentRequest:
        """The sandbox biller's signed notification that fulfillment was delivered (one
        delivery per unit, of its kind's shape) or failed (with failure_reason)."""
        if status == ful_pb.FULFILLMENT_STATE_SUCCEEDED:
            payload = notification_payload(
                fulfillment,
                status,
                deliveries=deliveries_for(
                    fulfillment.delivery_kind, fulfillment.quantity, fulfillment.amount.amount
                ),
                biller_reference=biller_reference,
            )
        else:
            payload = notification_payload(
                fulfillment,
                status,
                failure_reason=failure_reason,
                failure_message="ditolak oleh operator (conformance kit)",
                biller_reference=biller_reference,
            )
        return pb.NotifyFulfillmentRequest(
            biller=SANDBOX, payload=payload, signature=sign(payload, self.webhook_secret)
        )

    def notify(self, request: pb.NotifyFulfillmentRequest) -> pb.NotifyFulfillmentResponse:
        return cast(pb.NotifyFulfillmentResponse, self.target.call(NOTIFY, request))


_current: list[FulfillmentDesk] = []


def open_desk(target: Target, webhook_secret: str, lookups: LookupCatalog | None) -> FulfillmentDesk:
    """The run's desk (the suite's session fixture opens it; request factories find it)."""
    _current[:] = [FulfillmentDesk(target, webhook_secret, lookups)]
    return _current[0]


def current() -> FulfillmentDesk:
    """The run's desk; the request factories of the common checks reach it here."""
    assert _current, "the fulfillment suite's desk is not open (pasar_conformance.fulfillment.conftest)"
    return _current[0]
