"""The order service repeats a failed call to a peer exactly where the contracts'
idempotency_level says a repeat is safe, as pasar_kit.idempotency reads it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import RunningService, create_request
from fakes import FakeCatalog, FakePayments, Hooks, outage

from pasar.payment.v1 import payment_service_pb2
from pasar.product.v1 import product_service_pb2
from pasar_kit import errors
from pasar_kit.idempotency import repeatable_methods
from pasar_order import peers


def contention() -> None:
    """A hook: the service answers ABORTED, its answer to contention that a retry resolves."""
    raise errors.Aborted("injected contention")


# The checkout's calls, as "peer.method".
CHECKOUT_CALLS = ["catalog.BatchGetPackages", "catalog.ReserveStock", "payments.CreatePayment"]


@pytest.mark.parametrize("failure", [outage, contention], ids=["unavailable", "aborted"])
@pytest.mark.parametrize("call", CHECKOUT_CALLS)
def test_a_declared_repeatable_call_that_fails_once_is_repeated_and_the_checkout_succeeds(
    service: RunningService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    call: str,
    failure: Callable[[], None],
) -> None:
    peer, method = call.split(".")
    hooks: Hooks = fake_catalog.hooks if peer == "catalog" else fake_payments.hooks
    hooks.before[method] = failure  # runs once

    response = service.stub.CreateOrder(create_request(("pulsa-25k", 1)))

    assert response.order.id
    assert hooks.count(method) == 2


def test_the_peers_repeat_every_call_the_contracts_declare_and_keep_no_list_of_their_own() -> None:
    product = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
    payment = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"]
    declared = {method for _, method in repeatable_methods(product, payment)}
    # Every unary call the checkout, the sweeper and the event consumer make is declared;
    # the event stream is not repeated by gRPC (the consumer resumes from its cursor).
    assert "WatchPaymentEvents" not in declared
    assert {
        "BatchGetPackages",
        "ReserveStock",
        "CommitReservation",
        "ReleaseReservation",
        "CreatePayment",
        "FindPaymentByOrder",
        "CancelPayment",
    } <= declared
    assert not [name for name in vars(peers) if name.endswith("_IDEMPOTENT")]
