"""The delivery audit itself: silent on a healthy shop, and it names each broken rule.

The crash test can only show "0 inconsistencies" if the audit would see one: here it reads
records made by hand (no servers), a healthy pair of orders and then each kind of damage.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable

import pytest
from delivery_audit import FAILED, SUCCEEDED, Fulfillment, Line, Records, audit_records

TOKEN = "1234-5678-9012-3456-7890"
EXPECTED_FAILURES = {("ord_a", "token-20k"): False, ("ord_b", "pulsa-10k"): True}


def healthy() -> Records:
    """ord_a: one token delivered; ord_b: one phone credit failed, refunded with the fee."""
    return Records(
        orders={"ord_a": ("FULFILLED", 0, "pay_a"), "ord_b": ("REFUNDED", 12_500, "pay_b")},
        lines=[Line("ord_a", "token-20k", 20_000, "ful_a"), Line("ord_b", "pulsa-10k", 11_500, "ful_b")],
        fulfillments={
            ("ord_a", "token-20k"): [Fulfillment("ful_a", SUCCEEDED, 20_000, [TOKEN])],
            ("ord_b", "pulsa-10k"): [Fulfillment("ful_b", FAILED, 11_500, [])],
        },
        biller_requests=Counter({"ful_a": 1, "ful_b": 1}),
        final_events=Counter({("ful_a", SUCCEEDED): 1, ("ful_b", FAILED): 1}),
        payments={"pay_a": ("PAID", 21_000), "pay_b": ("REFUNDED", 12_500)},
        refunds={"ful_b": [(11_500, "SUCCEEDED")], "ord_b:fee": [(1_000, "SUCCEEDED")]},
        mails=Counter({("ord_a", "delivered"): 1, ("ord_b", "refunded"): 1}),
        delivered_texts={"ord_a": f"Token: {TOKEN}"},
    )


def test_a_healthy_shop_passes_and_is_counted() -> None:
    found = audit_records(healthy(), EXPECTED_FAILURES)
    assert found.problems == []
    assert found.figures() == (
        "orders 2, paid lines 2, biller requests 2, lines delivered 1, lines refunded 1, orders FULFILLED 1, "
        "orders REFUNDED 1, fee refunds 1, refunds 2, delivered e-mails 1, refunded e-mails 1"
    )


def delivered_line_refunded(records: Records) -> None:
    records.refunds["ful_a"] = [(20_000, "SUCCEEDED")]


def biller_asked_twice(records: Records) -> None:
    records.biller_requests["ful_a"] = 2


def second_fulfillment(records: Records) -> None:
    records.fulfillments[("ord_a", "token-20k")].append(Fulfillment("ful_c", SUCCEEDED, 20_000, []))


def refund_without_failure(records: Records) -> None:
    records.refunds["ful_zzz"] = [(5_000, "SUCCEEDED")]


def failed_line_not_refunded(records: Records) -> None:
    del records.refunds["ful_b"]


def delivery_mailed_twice(records: Records) -> None:
    records.mails[("ord_a", "delivered")] = 2


def order_left_paid(records: Records) -> None:
    records.orders["ord_a"] = ("PAID", 0, "pay_a")


def fee_kept(records: Records) -> None:
    del records.refunds["ord_b:fee"]


def token_not_mailed(records: Records) -> None:
    records.delivered_texts["ord_a"] = "Token: (lost)"


def two_success_events(records: Records) -> None:
    records.final_events[("ful_a", SUCCEEDED)] = 2


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (delivered_line_refunded, "delivered and refunded"),
        (biller_asked_twice, "the biller was asked 2 times"),
        (second_fulfillment, "2 fulfillments"),
        (refund_without_failure, "refund ful_zzz has no failed delivery behind it"),
        (failed_line_not_refunded, "failed, refunds []"),
        (delivery_mailed_twice, "2 delivered e-mails"),
        (order_left_paid, "is PAID, its lines say FULFILLED"),
        (fee_kept, "0 fee refunds"),
        (token_not_mailed, "are not all in its delivery e-mail"),
        (two_success_events, "(SUCCEEDED, FAILED) events (2, 0)"),
    ],
)
def test_each_broken_rule_is_named(damage: Callable[[Records], None], named: str) -> None:
    records = copy.deepcopy(healthy())
    damage(records)
    problems = audit_records(records, EXPECTED_FAILURES).problems
    assert any(named in problem for problem in problems), problems
