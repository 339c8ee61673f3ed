"""The whole shop as real processes on free loopback ports, for cross-service tests.

Each component runs from its console entry point with the environment a user would give
it (see CONTRIBUTING.md, "Configuration"). Ports are chosen when the stack is made and
kept across restarts, so a component can be stopped, killed or restarted while the others
keep their channels to it. Everything the stack started is stopped by PID in ``stop``;
``logs()`` is what a failing test shows (pasar_testkit.failure_logs).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from pasar_testkit.go_service import FULFILLMENT, build_fulfillment, fulfillment_binary
from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.mail import mails_in
from pasar_testkit.ports import free_port
from pasar_testkit.processes import (
    COMPONENTS,
    SERVICES,
    ComponentProcess,
    component_command,
    console_script,
    peer_addresses,
)

__all__ = [
    "ADMIN_TOKEN",
    "BILLER_WEBHOOK_SECRET",
    "COMPONENTS",
    "DATABASE_SERVICES",
    "QUICK_BACKGROUND_ENV",
    "SERVICES",
    "STACK_COMPONENTS",
    "WEBHOOK_SECRET",
    "Stack",
    "sqlite_database_urls",
]

ADMIN_TOKEN = "test-admin-token"  # noqa: S105 - a test credential
WEBHOOK_SECRET = "test-webhook-secret"  # noqa: S105 - a test credential
BILLER_WEBHOOK_SECRET = "test-biller-webhook-secret"  # noqa: S105 - a test credential
# The services with a database of their own: the Python ones and the Go fulfillment service.
DATABASE_SERVICES = (*SERVICES, FULFILLMENT)
# What a stack can run: svc-fulfillment (Go, built on first start) beside the Python components.
STACK_COMPONENTS = (*SERVICES, FULFILLMENT, "gateway")
# Background work runs often in tests, so that retries, expiry and recovery happen within
# seconds (production's intervals are minutes); component_env overrides any of them.
QUICK_BACKGROUND_ENV: Mapping[str, Mapping[str, str]] = {
    "order": {
        "PASAR_ORDER_SWEEP_SECONDS": "0.5",
        "PASAR_OUTBOX_POLL_SECONDS": "0.2",
        "PASAR_OUTBOX_RETRY_SECONDS": "0.3",
        "PASAR_OUTBOX_RETRY_MAX_SECONDS": "1",
    },
    "payment": {"PASAR_PAYMENT_EXPIRY_SWEEP_SECONDS": "1"},
    FULFILLMENT: {"PASAR_FULFILLMENT_EVENT_POLL_SECONDS": "0.2"},
}


# Set in a test run's environment, the number of processes of every Python service of every
# stack that does not say (Stack's grpc_processes).
TEST_PROCESSES = "PASAR_TEST_GRPC_PROCESSES"
PROCESSES = "PASAR_GRPC_PROCESSES"


def sqlite_database_urls(folder: Path) -> dict[str, str]:
    """A SQLite database file per service under folder (created by the services' migrate)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: f"sqlite:///{folder / f'{name}.db'}" for name in DATABASE_SERVICES}


class Stack:
    """The three services and, optionally, the gateway, wired to each other."""

    def __init__(
        self,
        base: Path,
        database_urls: Mapping[str, str],
        *,
        smtp_url: str | None = None,
        env: Mapping[str, str] | None = None,
        component_env: Mapping[str, Mapping[str, str]] | None = None,
        jaeger: JaegerServer | None = None,
        grpc_processes: int | None = None,
    ) -> None:
        """database_urls: one URL per service name; env: for every component;
        component_env: per component name, on top of env and QUICK_BACKGROUND_ENV;
        jaeger: tracing on in every component (the Go service and the gateway too),
        exported to that Jaeger within a fraction of a second (JaegerServer.tracing_env);
        grpc_processes: worker processes of every Python service (PASAR_GRPC_PROCESSES; else
        PASAR_TEST_GRPC_PROCESSES of the test run, else what the services default to)."""
        self.base = base
        self.jaeger = jaeger
        self.database_urls = dict(database_urls)
        self.mail_dir = base / "mail"
        self.ports = {name: free_port() for name in STACK_COMPONENTS}
        common = {
            "PASAR_ENV": "development",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "3",
            "PASAR_HEALTH_PROBE_SECONDS": "0.5",
            **peer_addresses({name: self.address(name) for name in DATABASE_SERVICES}),
            "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
            "PASAR_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PASAR_BILLER_WEBHOOK_SECRET": BILLER_WEBHOOK_SECRET,
            "PASAR_MAIL_DIR": str(self.mail_dir),
            "PASAR_STOREFRONT_URL": self.gateway_url,
            **({"SMTP_URL": smtp_url} if smtp_url else {}),
            **(jaeger.tracing_env() if jaeger else {}),
            **(env or {}),
        }
        per_component = component_env or {}
        processes = grpc_processes or os.environ.get(TEST_PROCESSES)
        python_services = {PROCESSES: str(processes)} if processes else {}
        self.components: dict[str, ComponentProcess] = {}
        for name in STACK_COMPONENTS:
            database = {"DATABASE_URL": self._database_url(name)} if name in DATABASE_SERVICES else {}
            # svc-fulfillment's binary is built when it is first started (start()).
            command = [str(fulfillment_binary()), "serve"] if name == FULFILLMENT else component_command(name)
            self.components[name] = ComponentProcess(
                name,
                command=command,
                env={
                    **common,
                    **database,
                    **(python_services if name in SERVICES else {}),
                    **QUICK_BACKGROUND_ENV.get(name, {}),
                    **per_component.get(name, {}),
                },
                log_dir=base / "logs",
                port=self.ports[name],
            )

    def _database_url(self, name: str) -> str:
        """name's URL in database_urls; svc-fulfillment's, if absent, a SQLite file of the stack."""
        if name == FULFILLMENT and name not in self.database_urls:
            self.database_urls[name] = f"sqlite:///{self.base / 'databases' / 'fulfillment.db'}"
        return self.database_urls[name]

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.address('gateway')}"

    def metrics_url(self, name: str) -> str:
        """The /metrics URL of a running component: its metrics listener's address as its
        start-up log line names it (field ``metrics_address``; ``PASAR_METRICS_ADDRESS``
        defaults to a free loopback port). LookupError if the log names none, or ``off``."""
        address = self.components[name].logged("metrics_address")
        if not isinstance(address, str) or not address or address == "off":
            raise LookupError(f"{name}'s log names no metrics_address (found {address!r})")
        return f"http://{address}/metrics"

    def __getitem__(self, name: str) -> ComponentProcess:
        return self.components[name]

    def load_demo_catalog(self) -> None:
        """`pasar-product load-demo` against the product database (migrating it first)."""
        result = subprocess.run(
            [console_script("pasar-product"), "load-demo"],
            env=self.components["product"].env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pasar-product load-demo failed:\n{result.stdout}\n{result.stderr}")

    def start(self, *names: str) -> None:
        """Starts the named components (all three services by default), in order."""
        for name in names or SERVICES:
            if name == FULFILLMENT:
                build_fulfillment()  # once per test session; Go's cache makes it quick
            if not self.components[name].running:
                self.components[name].start()

    def stop(self) -> None:
        """Stops every component this stack started, gateway first."""
        for name in reversed(STACK_COMPONENTS):
            self.components[name].stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def mails(self, kind: str | None = None, order_id: str | None = None) -> list[EmailMessage]:
        """The e-mails the order service wrote to the mail folder (no SMTP_URL), oldest first."""
        return mails_in(self.mail_dir, kind, order_id)

    def logs(self) -> str:
        """The tail of every component's log, for a failing test's report."""
        return "\n".join(f"--- {name}\n{component.log_tail()}" for name, component in self.components.items())
