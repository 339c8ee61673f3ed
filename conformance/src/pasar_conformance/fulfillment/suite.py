"""The fulfillment contract as the common checks see it: its service, a probe, valid requests."""

from __future__ import annotations

from google.protobuf import message

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason
from pasar_conformance.common import Suite
from pasar_conformance.fulfillment.desk import CREATE, GET, LOOKUP, NOTIFY, PACKAGE, SERVICE, WATCH, current
from pasar_conformance.fulfillment.log import CREATED, LOG
from pasar_conformance.fulfillment.lookups import require
from pasar_conformance.fulfillment.sandbox import LATE
from pasar_conformance.target import Target


# Valid requests (the common checks repeat them, and send the internal ones without a credential).
def _create(_target: Target) -> message.Message:
    """A line accepted already, which the sandbox answers late, once it carries the biller's
    reference: its repeats find it as it is, unchanged (test_create checks the first answer)."""
    request, _fulfillment = current().settled_line()
    return request


def _get(_target: Target) -> message.Message:
    return current().readable()


def _notify(_target: Target) -> message.Message:
    """A notification handled once already: its repeats answer alike (a duplicate, unchanged)."""
    desk = current()
    desk.require_sandbox()
    notification = desk.notification(desk.pending_with_reference())
    desk.notify(notification)
    return notification


def _watch(_target: Target) -> message.Message:
    return pb.WatchFulfillmentEventsRequest(after_sequence=0)


def _lookup(_target: Target) -> message.Message:
    desk = current()
    lookups = require(desk.lookups)
    desk.require_sandbox()
    return pb.LookupDestinationRequest(
        product_id=lookups.meter.id, destination={"meter_number": "12345671234"}
    )


def _waiting_stream(target: Target) -> message.Message:
    """A stream after the log's last event, answered a moment later (EventLog.waiting_request)."""
    desk = current()
    return LOG.waiting_request(target, lambda: (desk.open(ending=LATE).id, CREATED))


FULFILLMENT_SUITE = Suite(
    package=PACKAGE,
    services=(SERVICE,),
    probe=(GET, lambda: current().readable()),
    heavy=(WATCH, _waiting_stream),
    requests={LOOKUP: _lookup, CREATE: _create, GET: _get, NOTIFY: _notify, WATCH: _watch},
    out_of_reach={
        ErrorReason.Name(ErrorReason.DELIVERY_KIND_NOT_SUPPORTED): (
            "a biller that delivers every kind (the sandbox does) never answers it; test_create "
            "offers every kind and asserts it for any kind the target refuses"
        ),
    },
    also_checks=(
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_MISSING),
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_INVALID),
        # LookupDestination checks the destination against the product's fields, and
        # passes the catalog's PRODUCT_NOT_FOUND through.
        CommonReason.Name(CommonReason.INVALID_DESTINATION),
        ProductReason.Name(ProductReason.PRODUCT_NOT_FOUND),
    ),
)
