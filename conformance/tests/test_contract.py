"""What the kit reads from the contracts' descriptors: reasons, their codes and metadata keys,
and the methods' idempotency levels and internal flags."""

from __future__ import annotations

import grpc
import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentReason
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_conformance import contract
from pasar_conformance.answers import expect_reason
from pasar_conformance.product.suite import PRODUCT_SUITE


def test_every_reason_of_every_package_is_read_but_the_zero_ones() -> None:
    for enum in (CommonReason.DESCRIPTOR, ErrorReason.DESCRIPTOR, PaymentReason.DESCRIPTOR):
        names = {value.name for value in enum.values if value.number}
        assert names <= set(contract.reasons())


def test_a_reason_has_its_comment_s_code_and_exactly_its_metadata_keys() -> None:
    out_of_stock = contract.reason(ErrorReason.Name(ErrorReason.OUT_OF_STOCK))
    assert out_of_stock.code == grpc.StatusCode.FAILED_PRECONDITION
    assert out_of_stock.metadata_keys == {"package_id", "requested", "available"}
    assert contract.reason(CommonReason.Name(CommonReason.INVALID_PAGE_TOKEN)).metadata_keys == set()
    # Quoted names of examples (a service's full name, a state value) are not keys.
    dependency = contract.reason(CommonReason.Name(CommonReason.DEPENDENCY_UNAVAILABLE))
    assert dependency.metadata_keys == {"service"}
    paid = contract.reason(PaymentReason.Name(PaymentReason.PAYMENT_PAID))
    assert paid.metadata_keys == {"payment_id", "state"}


def test_an_unknown_reason_is_an_error() -> None:
    with pytest.raises(contract.ContractError, match="no ErrorReason"):
        contract.reason("NOT_A_REASON_AT_ALL")


def test_methods_carry_their_idempotency_level_and_whether_they_are_internal() -> None:
    reserve = contract.method("pasar.product.v1.ProductService/ReserveStock")
    assert (reserve.internal, reserve.idempotency_level) == (True, contract.IDEMPOTENT)
    listing = contract.method("pasar.product.v1.ProductService/ListProducts")
    assert (listing.internal, listing.idempotency_level) == (False, contract.NO_SIDE_EFFECTS)
    create = contract.method("pasar.product.v1.ProductAdminService/CreateProduct")
    assert not create.repeatable


def test_the_product_suite_has_a_request_for_every_method_the_common_checks_call() -> None:
    needed = {m.full_name for m in [*PRODUCT_SUITE.repeatable_methods(), *PRODUCT_SUITE.internal_methods()]}
    assert needed <= set(PRODUCT_SUITE.requests)
    assert {case.message_name for case in PRODUCT_SUITE.validation_cases()} == {
        "pasar.product.v1.ListProductsRequest",
        "pasar.product.v1.BatchGetPackagesRequest",
    }


def test_a_reason_two_packages_define_is_read_once_per_package() -> None:
    """BAD_SIGNATURE is the payment provider's (provider) and the biller's (biller)."""
    name = PaymentReason.Name(PaymentReason.BAD_SIGNATURE)
    assert {r.package: r.metadata_keys for r in contract.reasons_named(name)} == {
        "pasar.payment.v1": {"provider"},
        "pasar.fulfillment.v1": {"biller"},
    }
    assert contract.reason(name, "pasar.fulfillment.v1").metadata_keys == {"biller"}
    with pytest.raises(contract.ContractError, match="name the package"):
        contract.reason(name)


def test_an_answer_is_never_judged_by_a_guess_between_two_packages_reasons() -> None:
    """Without the package, a BAD_SIGNATURE carrying the biller's key would pass as the
    payment provider's: the kit refuses to judge it before making the call."""
    calls: list[str] = []
    with pytest.raises(contract.ContractError, match="name the package"):
        expect_reason(lambda: calls.append("called"), PaymentReason.Name(PaymentReason.BAD_SIGNATURE))
    assert calls == []
