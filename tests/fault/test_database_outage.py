"""Database outage: the MariaDB server stops under load and starts again.

The three services run on their own databases of one private MariaDB server (the MySQL
mode). While shoppers browse and buy, the server is stopped: every service must then
report NOT_SERVING on gRPC health (and the gateway's /readyz 503), the shop must answer
503 rather than 500, and when the server is back every service must report SERVING again
and serve orders, without being restarted (the same processes). Nothing is lost: the
audit of the crash test holds afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import requests
from fault_shop import (
    PACKAGES,
    Answer,
    Databases,
    DownWindow,
    FaultShop,
    ShopperLoad,
    audit,
    make_stack,
    unexpected_answers,
    wait_until_settled,
)
from grpc_health.v1 import health_pb2

from pasar_kit.readiness import grpc_health
from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.stack import COMPONENTS, SERVICES, Stack
from pasar_testkit.waiting import wait_for

OUTAGE_SECONDS = 3.0
RECOVERY_GRACE_SECONDS = 4.0


def health(stack: Stack, name: str) -> int | None:
    try:
        return grpc_health(stack.address(name), timeout=1.0)
    except grpc.RpcError:
        return None


def process_ids(stack: Stack) -> dict[str, int | None]:
    return {name: getattr(stack[name].process, "pid", None) for name in SERVICES}


def all_report(stack: Stack, status: int) -> bool:
    return all(health(stack, name) == status for name in SERVICES)


@pytest.fixture
def mysql_shop(
    own_mariadb: MariaDBServer, tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[tuple[MariaDBServer, Stack]]:
    """The shop on a MariaDB server of its own, which the test stops and starts."""
    urls = {name: own_mariadb.create_database(prefix=f"outage_{name}") for name in SERVICES}
    with make_stack(tmp_path / "shop", urls, gateway={"PASAR_CATALOG_CACHE": "false"}) as stack:
        failure_logs.add("the shop", stack.logs)
        stack.start(*COMPONENTS)
        yield own_mariadb, stack


@pytest.mark.mariadb
def test_services_report_the_outage_and_recover_without_restart(
    mysql_shop: tuple[MariaDBServer, Stack], figures: Callable[[str], None], tally: Callable[..., None]
) -> None:
    server, stack = mysql_shop
    shop = FaultShop(stack)
    shop.seed_catalog()
    pids = process_ids(stack)
    browsing: list[Answer] = []
    stop_browsing = threading.Event()

    def browse() -> None:
        with requests.Session() as session:
            while not stop_browsing.is_set():
                started = time.monotonic()
                try:
                    status = session.get(f"{stack.gateway_url}/api/v1/products", timeout=15).status_code
                except requests.RequestException:
                    status = 0
                browsing.append(Answer("browse", started, time.monotonic(), status))
                time.sleep(0.02)

    browser = threading.Thread(target=browse, daemon=True)
    with ShopperLoad(stack.gateway_url, shoppers=3, max_seconds=90) as load:
        browser.start()
        time.sleep(2.0)
        window = DownWindow("database", time.monotonic())
        server.stop()
        wait_for(
            lambda: all_report(stack, health_pb2.HealthCheckResponse.NOT_SERVING),
            timeout=15,
            what="every service reports NOT_SERVING while the database is down",
        )
        noticed = time.monotonic() - window.start
        readiness = requests.get(f"{stack.gateway_url}/readyz", timeout=10)
        time.sleep(OUTAGE_SECONDS)
        server.start()
        window.end = time.monotonic()
        wait_for(
            lambda: all_report(stack, health_pb2.HealthCheckResponse.SERVING),
            timeout=30,
            what="every service reports SERVING again once the database is back",
        )
        recovered = time.monotonic() - window.end
        time.sleep(2.0)
        stop_browsing.set()
        browser.join(timeout=30)

    assert readiness.status_code == 503, readiness.text
    assert process_ids(stack) == pids, "a service was restarted"
    after = shop.place_order(next(iter(PACKAGES)))
    assert after.status_code == 200, after.text
    answers = [*load.answers, *browsing]
    unexplained = unexpected_answers(answers, [window], RECOVERY_GRACE_SECONDS)
    databases = Databases({name: stack[name].env["DATABASE_URL"] for name in SERVICES})
    wait_until_settled(databases, timeout=60)
    found = audit(databases, {p: stock for p, (_, stock) in PACKAGES.items()}, stack.mail_dir)
    during = sorted({a.status for a in answers if a.started >= window.start and a.ended <= window.end})
    figures(
        f"database outage (MariaDB stopped {OUTAGE_SECONDS:.0f} s under load): NOT_SERVING reported after "
        f"{noticed:.1f} s, SERVING again {recovered:.1f} s after the restart, same processes; "
        f"{len(answers)} answers, during the outage {during}; orders placed {len(load.placed)}; "
        f"inconsistencies found {len(found.problems)}; unexplained answers {len(unexplained)}"
    )
    tally(
        {
            "orders placed": len(load.placed),
            "faults injected": 1,
            "inconsistencies found": len(found.problems) + len(unexplained),
        }
    )
    assert not unexplained, [(a.what, a.status) for a in unexplained[:20]]
    assert not found.problems, "\n".join(found.problems[:50])
    assert any(a.status == 503 for a in answers), "the outage was never seen as 503"
