"""Outbox claims of a dead process: a restarted service takes back its predecessor's claims
at once (same host, process gone), and leaves live and foreign claims to their lease."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import grpc
import peewee
from conftest import TEST_ENV, StartService, create_request

from pasar.order.v1 import order_service_pb2_grpc
from pasar_kit import claimants
from pasar_kit.timestamps import utc_now
from pasar_order.models import Email, OutboxState, ReservationStep, ReservationTask
from pasar_order.work_queue import Backoff, WorkQueue
from pasar_testkit.assertions import eventually
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.mail import MailCatcher
from pasar_testkit.processes import ComponentProcess, console_script


def the_email(database: peewee.Database) -> Email:
    with database.connection_context():
        email: Email = Email.get()
        return email


def test_a_restarted_service_sends_the_email_its_killed_predecessor_had_claimed_at_once(
    database_url: str,
    database: peewee.Database,
    tmp_path: Path,
    catalog_server: FakeGrpcServer,
    payments_server: FakeGrpcServer,
) -> None:
    catcher = MailCatcher(stall_first_message=True)  # the first e-mail hangs in DATA
    catcher.start()
    env = {
        **{name: value for name, value in TEST_ENV.items() if name != "PASAR_LISTEN_ADDRESS"},
        "DATABASE_URL": database_url,
        "PASAR_PRODUCT_ADDRESS": catalog_server.address,
        "PASAR_PAYMENT_ADDRESS": payments_server.address,
        "SMTP_URL": catcher.url,
        "PASAR_SMTP_TIMEOUT_SECONDS": "120",
        "PASAR_LOG_LEVEL": "info",
    }
    processes = [
        ComponentProcess(
            f"order-{n}", command=[console_script("pasar-order"), "serve"], env=env, log_dir=tmp_path
        )
        for n in (1, 2)
    ]
    first, second = processes
    try:
        first.start()
        with grpc.insecure_channel(first.address) as channel:
            order_service_pb2_grpc.OrderServiceStub(channel).CreateOrder(create_request())
        assert catcher.stalled.wait(10), "the first process never reached the mail server"
        assert the_email(database).lease_until is not None  # claimed, with its lease
        first.kill()  # SIGKILL while the e-mail is claimed, mid-DATA

        started = time.monotonic()
        second.start()
        eventually(lambda: len(catcher.received()) == 1, timeout=10, message="the e-mail is sent again")
        took = time.monotonic() - started
        eventually(lambda: the_email(database).state == OutboxState.DONE)
        time.sleep(1.0)  # anything sent twice would arrive meanwhile
        assert len(catcher.received()) == 1
        assert the_email(database).lease_owner is None
        assert "took back rows claimed by a process of this host that is gone" in second.log_path.read_text()
        print(f"delivered {took:.2f} s after the second process was started")
    finally:
        for process in processes:
            process.stop()
        catcher.stop()


def test_only_claims_of_dead_processes_of_this_host_are_taken_back(start_service: StartService) -> None:
    # A service whose own dispatchers sleep: the rows below are left to the queue under test.
    service = start_service(PASAR_OUTBOX_POLL_SECONDS="600")
    me = claimants.this_process()
    assert me is not None
    exited = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    owners = {
        "live": me.claimant(),  # another worker of this very process
        "other host": dataclasses.replace(me, host="elsewhere").claimant(),
        "old form": "0123456789abcdef",
        "reused pid": dataclasses.replace(me, start=me.start - 1).claimant(),
        "exited": dataclasses.replace(me, pid=int(exited.stdout)).claimant(),
    }
    now = utc_now()
    with service.database.connection_context():
        for kind, owner in owners.items():
            order_id = service.stub.CreateOrder(create_request()).order.id
            ReservationTask.insert(
                order=order_id,
                step=ReservationStep.RELEASE,
                next_attempt_time=now,
                create_time=now,
                lease_owner=owner,
                lease_until=now + timedelta(hours=1),
                last_error=kind,
            ).execute()

        assert WorkQueue(ReservationTask, Backoff(1, 1)).take_back_dead_claims() == 2

        leased = {row.last_error: row.lease_owner for row in ReservationTask.select()}
        assert {kind for kind, owner in leased.items() if owner is None} == {"reused pid", "exited"}
        assert {kind: leased[kind] for kind in ("live", "other host", "old form")} == {
            kind: owners[kind] for kind in ("live", "other host", "old form")
        }
