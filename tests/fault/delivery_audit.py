"""The audit of deliveries, read from each service's own database and from the e-mails.

After a load of paid orders has settled (every order FULFILLED or REFUNDED), every paid
line must have been delivered exactly once (one fulfillment, one biller request, one
SUCCEEDED event, no refund) or refunded (one FAILED fulfillment, one refund of the line's
price), never both and never neither; no refund may exist without a failed delivery (the
fee's refund only when every line of the order failed); every order is final, its state
and refunded total follow from its lines; and every delivery and every refund was
e-mailed exactly once. :func:`audit_deliveries` lists every broken rule and counts what
it saw, for the closing note's figures.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fault_shop import Databases

from pasar_testkit.mail import KIND_HEADER, ORDER_ID_HEADER, body_text, mails_in

# pasar.fulfillment.v1.FulfillmentState and FulfillmentEventType, as svc-fulfillment stores them.
SUCCEEDED, FAILED = 2, 3
FINAL_ORDER_STATES = frozenset({"FULFILLED", "REFUNDED"})
DELIVERED_MAIL, REFUNDED_MAIL = "delivered", "refunded"


@dataclass
class DeliveryAudit:
    """What the databases and the mail folder hold, and every rule found broken."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> str:
        """Records a problem; returns "" (no outcome)."""
        self.problems.append(problem)
        return ""

    def figures(self) -> str:
        return ", ".join(f"{name} {count}" for name, count in self.counts.items())


@dataclass(frozen=True)
class Line:
    """A paid order line, as the order service stores it."""

    order_id: str
    package_id: str
    line_total: int
    fulfillment_id: str


@dataclass(frozen=True)
class Fulfillment:
    """A fulfillment row of svc-fulfillment."""

    id: str
    state: int
    amount: int
    tokens: list[str]


@dataclass
class Records:
    """Every row the audit reads, from the three databases and the mail folder."""

    orders: dict[str, tuple[str, int, str]]  # id -> (state, refunded total, payment id)
    lines: list[Line]
    fulfillments: dict[tuple[str, str], list[Fulfillment]]  # (order id, package id) -> rows
    biller_requests: Counter[str]  # fulfillment id -> requests
    final_events: Counter[tuple[str, int]]  # (fulfillment id, event type) -> events
    payments: dict[str, tuple[str, int]]  # id -> (state, total)
    refunds: dict[str, list[tuple[int, str]]]  # request id -> (amount, state) of each refund
    mails: Counter[tuple[str, str]]  # (order id, kind) -> e-mails written
    delivered_texts: dict[str, str]  # order id -> the delivery e-mail's text


def unsettled_deliveries(databases: Databases) -> list[str]:
    """What is still under way: orders not final, fulfillments pending, e-mails queued."""
    waiting = []
    [(open_orders,)] = databases.rows(
        "order", "SELECT COUNT(*) FROM orders WHERE state NOT IN ('FULFILLED', 'REFUNDED')"
    )
    if open_orders:
        waiting.append(f"{open_orders} orders not FULFILLED or REFUNDED")
    [(pending,)] = databases.rows(
        "fulfillment", f"SELECT COUNT(*) FROM fulfillments WHERE state NOT IN ({SUCCEEDED}, {FAILED})"
    )
    if pending:
        waiting.append(f"{pending} fulfillments pending")
    [(queued,)] = databases.rows("order", "SELECT COUNT(*) FROM emails WHERE state <> 'DONE'")
    if queued:
        waiting.append(f"{queued} e-mails queued")
    return waiting


def read_records(databases: Databases, mail_dir: Path) -> Records:
    """Reads what the audit checks, once the shop has settled."""
    fulfillments: dict[tuple[str, str], list[Fulfillment]] = defaultdict(list)
    for fulfillment_id, order_id, package_id, state, amount, deliveries in databases.rows(
        "fulfillment", "SELECT id, order_id, package_id, state, amount, deliveries FROM fulfillments"
    ):
        tokens = [str(d["token"]) for d in json.loads(deliveries) if d.get("token")]
        fulfillments[(str(order_id), str(package_id))].append(
            Fulfillment(str(fulfillment_id), int(state), int(amount), tokens)
        )
    refunds: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for request_id, amount, state in databases.rows(
        "payment", "SELECT request_id, amount, state FROM refund"
    ):
        refunds[str(request_id)].append((int(amount), str(state)))
    mails = mails_in(mail_dir)
    return Records(
        orders={
            str(order_id): (str(state), int(refunded or 0), str(payment_id))
            for order_id, state, refunded, payment_id in databases.rows(
                "order", "SELECT id, state, refunded_total, payment_id FROM orders"
            )
        },
        lines=[
            Line(str(order_id), str(package_id), int(total), str(fulfillment_id or ""))
            for order_id, package_id, total, fulfillment_id in databases.rows(
                "order", "SELECT order_id, package_id, line_total, fulfillment_id FROM order_lines"
            )
        ],
        fulfillments=fulfillments,
        biller_requests=Counter(
            str(row[0])
            for row in databases.rows("fulfillment", "SELECT fulfillment_id FROM sandbox_biller_jobs")
        ),
        final_events=Counter(
            (str(fulfillment_id), int(kind))
            for fulfillment_id, kind in databases.rows(
                "fulfillment",
                f"SELECT fulfillment_id, type FROM fulfillment_events WHERE type IN ({SUCCEEDED}, {FAILED})",
            )
        ),
        payments={
            str(payment_id): (str(state), int(total))
            for payment_id, state, total in databases.rows("payment", "SELECT id, state, total FROM payment")
        },
        refunds=refunds,
        mails=Counter((str(m[ORDER_ID_HEADER]), str(m[KIND_HEADER])) for m in mails),
        delivered_texts={
            str(m[ORDER_ID_HEADER]): body_text(m)[0] for m in mails if m[KIND_HEADER] == DELIVERED_MAIL
        },
    )


def audit_deliveries(
    databases: Databases, mail_dir: Path, expected_failures: Mapping[tuple[str, str], bool]
) -> DeliveryAudit:
    """expected_failures: per (order id, package id) of each paid line, whether the sandbox
    biller fails its destination."""
    return audit_records(read_records(databases, mail_dir), expected_failures)


COUNTED = (
    "orders",
    "paid lines",
    "biller requests",
    "lines delivered",
    "lines refunded",
    "orders FULFILLED",
    "orders REFUNDED",
    "fee refunds",
    "refunds",
    f"{DELIVERED_MAIL} e-mails",
    f"{REFUNDED_MAIL} e-mails",
)


def audit_records(records: Records, expected_failures: Mapping[tuple[str, str], bool]) -> DeliveryAudit:
    """The audit of records already read (see :func:`audit_deliveries`)."""
    found = DeliveryAudit(Counter(dict.fromkeys(COUNTED, 0)))
    found.counts["orders"] = len(records.orders)
    found.counts["paid lines"] = len(records.lines)
    outcomes: dict[str, list[Line]] = defaultdict(list)  # "delivered"/"failed" lines by order
    for line in records.lines:
        outcome = audit_line(records, line, expected_failures.get((line.order_id, line.package_id)), found)
        if outcome:
            outcomes[f"{line.order_id} {outcome}"].append(line)
    for order_id in records.orders:
        audit_order(
            records, order_id, outcomes[f"{order_id} delivered"], outcomes[f"{order_id} failed"], found
        )
    explained = {f.id for rows in records.fulfillments.values() for f in rows if f.state == FAILED}
    explained |= {f"{order_id}:fee" for order_id in records.orders}
    for request_id, made in records.refunds.items():
        found.counts["refunds"] += len(made)
        if request_id not in explained:
            found.problems.append(f"refund {request_id} has no failed delivery behind it ({made})")
    return found


def audit_line(records: Records, line: Line, must_fail: bool | None, found: DeliveryAudit) -> str:
    """Checks one paid line; returns "delivered", "failed", or "" when it is neither."""
    key = (line.order_id, line.package_id)
    rows = records.fulfillments.get(key, [])
    if len(rows) != 1:
        found.problems.append(f"line {key}: {len(rows)} fulfillments (one expected)")
        return ""
    [fulfillment] = rows
    requests = records.biller_requests[fulfillment.id]
    found.counts["biller requests"] += requests
    events = (
        records.final_events[(fulfillment.id, SUCCEEDED)],
        records.final_events[(fulfillment.id, FAILED)],
    )
    refunds = records.refunds.get(fulfillment.id, [])
    problems = []
    if requests != 1:
        problems.append(f"the biller was asked {requests} times")
    if line.fulfillment_id != fulfillment.id:
        problems.append(f"the order names fulfillment {line.fulfillment_id!r}, not {fulfillment.id}")
    if fulfillment.amount != line.line_total:
        problems.append(f"a fulfillment of {fulfillment.amount} for a line of {line.line_total}")
    if fulfillment.state == SUCCEEDED:
        outcome = "delivered"
        if events != (1, 0):
            problems.append(f"(SUCCEEDED, FAILED) events {events} for a delivered line")
        if refunds:
            problems.append(f"delivered and refunded ({len(refunds)} refunds)")
    elif fulfillment.state == FAILED:
        outcome = "failed"
        if events != (0, 1):
            problems.append(f"(SUCCEEDED, FAILED) events {events} for a failed line")
        if refunds != [(line.line_total, "SUCCEEDED")]:
            problems.append(f"failed, refunds {refunds} (one of {line.line_total} expected)")
    else:
        return found.fail(f"line {key}: fulfillment {fulfillment.id} left in state {fulfillment.state}")
    if must_fail is not None and must_fail != (outcome == "failed"):
        problems.append(
            f"{outcome}, but the biller {'fails' if must_fail else 'delivers to'} its destination"
        )
    found.counts[f"lines {'delivered' if outcome == 'delivered' else 'refunded'}"] += 1
    found.problems += [f"line {key}: {problem}" for problem in problems]
    return outcome


def audit_order(
    records: Records, order_id: str, delivered: list[Line], failed: list[Line], found: DeliveryAudit
) -> None:
    """Checks one order: final, its state, refunds, payment and e-mails as its lines say."""
    state, refunded_total, payment_id = records.orders[order_id]
    payment_state, payment_total = records.payments.get(payment_id, ("missing", 0))
    nothing_delivered = bool(failed) and not delivered
    fee_refunds = len(records.refunds.get(f"{order_id}:fee", []))
    expected_state = "REFUNDED" if failed else "FULFILLED"
    wanted = REFUNDED_MAIL if failed else DELIVERED_MAIL
    other = DELIVERED_MAIL if failed else REFUNDED_MAIL
    refunded_expected = payment_total if nothing_delivered else sum(line.line_total for line in failed)
    found.counts[f"orders {state}"] += 1
    found.counts["fee refunds"] += fee_refunds
    found.counts[f"{wanted} e-mails"] += records.mails[(order_id, wanted)]
    problems = []
    if state not in FINAL_ORDER_STATES or state != expected_state:
        problems.append(f"is {state}, its lines say {expected_state}")
    if fee_refunds != (1 if nothing_delivered else 0):
        problems.append(f"{fee_refunds} fee refunds (nothing delivered: {nothing_delivered})")
    if refunded_total != refunded_expected:
        problems.append(f"refunded_total {refunded_total}, expected {refunded_expected}")
    if payment_state != ("REFUNDED" if nothing_delivered else "PAID"):
        problems.append(f"its payment {payment_id} is {payment_state}")
    mailed = (records.mails[(order_id, wanted)], records.mails[(order_id, other)])
    if mailed != (1, 0):
        problems.append(f"{mailed[0]} {wanted} e-mails, {mailed[1]} {other} e-mails")
    text = records.delivered_texts.get(order_id, "")
    tokens = [
        token
        for line in delivered
        for f in records.fulfillments[(order_id, line.package_id)]
        for token in f.tokens
    ]
    if not failed and any(token not in text for token in tokens):
        problems.append(f"tokens {tokens} are not all in its delivery e-mail")
    found.problems += [f"order {order_id}: {problem}" for problem in problems]
