"""Expiry: pending payments past their expire_time become EXPIRED, once, by any instance."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, timedelta

import pytest
from conftest import (
    PAYMENT_STATE,
    RunningService,
    StartService,
    create_payment,
    run_concurrently,
    stored_events,
)

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_kit import database as db
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expire_due_payments, expiry_task
from pasar_payment.models import PaymentChannel
from pasar_testkit.assertions import eventually
from pasar_testkit.ports import free_port


def get(running: RunningService, payment_id: str) -> payment_pb2.Payment:
    return running.stub.GetPayment(payment_service_pb2.GetPaymentRequest(id=payment_id), timeout=10).payment


def test_only_due_pending_payments_expire(service: RunningService) -> None:
    due = create_payment(service.stub, channel_code="qris", amount=10_000)  # 15 minutes
    later = create_payment(service.stub, channel_code="bca_va")  # 24 hours
    paid = create_payment(service.stub, channel_code="gopay", amount=10_000)
    service.stub.SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=paid.id), timeout=10)
    cancelled = create_payment(service.stub, channel_code="ovo", amount=10_000)
    service.stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=cancelled.id), timeout=10)
    at = due.expire_time.ToDatetime(tzinfo=UTC) + timedelta(hours=1)
    feed = EventFeed()
    assert expire_due_payments(service.database, feed, now=at) == 1
    expired = get(service, due.id)
    assert expired.state == PAYMENT_STATE.PAYMENT_STATE_EXPIRED
    assert expired.update_time.ToDatetime() > due.update_time.ToDatetime()
    assert get(service, later.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    assert get(service, paid.id).state == PAYMENT_STATE.PAYMENT_STATE_PAID
    assert get(service, cancelled.id).state == PAYMENT_STATE.PAYMENT_STATE_CANCELLED
    assert [(kind, payment_id) for _, kind, payment_id in stored_events(service.database)][-1] == (
        "EXPIRED",
        due.id,
    )
    assert expire_due_payments(service.database, feed, now=at) == 0, "expired once"


def test_a_payment_is_not_expired_before_its_time(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="qris", amount=10_000)
    just_before = payment.expire_time.ToDatetime(tzinfo=UTC) - timedelta(microseconds=1)
    assert expire_due_payments(service.database, EventFeed(), now=just_before) == 0
    assert get(service, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PENDING


def test_concurrent_sweeps_expire_each_payment_once(service: RunningService) -> None:
    payments = [create_payment(service.stub, channel_code="dana", amount=10_000 + i) for i in range(12)]
    at = max(payment.expire_time.ToDatetime(tzinfo=UTC) for payment in payments) + timedelta(seconds=1)
    results = run_concurrently(4, lambda _: expire_due_payments(service.database, EventFeed(), now=at))
    assert sum(result for result in results if isinstance(result, int)) == 12, results
    kinds = [kind for _, kind, _ in stored_events(service.database)]
    assert kinds.count("EXPIRED") == 12
    assert all(get(service, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_EXPIRED for payment in payments)


def test_the_server_expires_payments_in_the_background(start_service: StartService) -> None:
    running = start_service(PASAR_PAYMENT_EXPIRY_SWEEP_SECONDS="0.2")
    with running.database.connection_context():
        PaymentChannel.update(payment_ttl_seconds=1).where(PaymentChannel.code == "qris").execute()
    payment = create_payment(running.stub, channel_code="qris", amount=10_000)
    eventually(
        lambda: get(running, payment.id).state != PAYMENT_STATE.PAYMENT_STATE_PENDING,
        timeout=20,
        message="the payment did not expire",
    )
    assert get(running, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_EXPIRED
    assert [kind for _, kind, _ in stored_events(running.database)] == ["CREATED", "EXPIRED"]


def test_the_sweep_outlives_an_unreachable_database(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = db.connect(f"mysql://pasar:pasar@127.0.0.1:{free_port()}/payment?connect_timeout=1")
    stopping = threading.Event()
    sweeper = threading.Thread(target=expiry_task(unreachable, EventFeed(), 0.05), args=(stopping,))
    sweeper.start()
    eventually(
        lambda: sum("could not reach the database" in record.getMessage() for record in caplog.records) >= 3,
        timeout=20,
        message="the sweep stopped trying",
    )
    stopping.set()
    sweeper.join(10)
    assert not sweeper.is_alive()
    assert all(record.levelno == logging.WARNING for record in caplog.records)
