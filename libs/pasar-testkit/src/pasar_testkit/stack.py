"""The whole shop as real processes on free loopback ports, for cross-service tests.

Each component runs from its console entry point with the environment a user would give
it (see CONTRIBUTING.md, "Configuration"). Ports are chosen when the stack is made and
kept across restarts, so a component can be stopped, killed or restarted while the others
keep their channels to it. Everything the stack started is stopped by PID in ``stop``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, console_script

SERVICES = ("product", "payment", "order")
COMPONENTS = (*SERVICES, "gateway")
ADMIN_TOKEN = "test-admin-token"  # noqa: S105 - a test credential
WEBHOOK_SECRET = "test-webhook-secret"  # noqa: S105 - a test credential


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
    ) -> None:
        """database_urls: one URL per service name; env: for every component;
        component_env: per component name, on top of env."""
        self.base = base
        self.mail_dir = base / "mail"
        self.ports = {name: free_port() for name in COMPONENTS}
        common = {
            "PASAR_ENV": "development",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "3",
            "PASAR_HEALTH_PROBE_SECONDS": "0.5",
            "PASAR_PRODUCT_ADDRESS": self.address("product"),
            "PASAR_PAYMENT_ADDRESS": self.address("payment"),
            "PASAR_ORDER_ADDRESS": self.address("order"),
            "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
            "PASAR_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PASAR_MAIL_DIR": str(self.mail_dir),
            "PASAR_STOREFRONT_URL": f"http://{self.address('gateway')}",
            **({"SMTP_URL": smtp_url} if smtp_url else {}),
            **(env or {}),
        }
        per_component = component_env or {}
        self.components: dict[str, ComponentProcess] = {}
        for name in SERVICES:
            self.components[name] = ComponentProcess(
                name,
                command=[console_script(f"pasar-{name}"), "serve"],
                env={**common, "DATABASE_URL": database_urls[name], **per_component.get(name, {})},
                log_dir=base / "logs",
                port=self.ports[name],
            )
        self.components["gateway"] = ComponentProcess(
            "gateway",
            command=[console_script("pasar-gateway")],
            env={**common, **per_component.get("gateway", {})},
            log_dir=base / "logs",
            port=self.ports["gateway"],
            http_ready_path="/healthz",
        )

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.address('gateway')}"

    def __getitem__(self, name: str) -> ComponentProcess:
        return self.components[name]

    def start(self, *names: str) -> None:
        """Starts the named components (all three services by default), in order."""
        for name in names or SERVICES:
            if not self.components[name].running:
                self.components[name].start()

    def stop(self) -> None:
        """Stops every component this stack started, gateway first."""
        for name in reversed(COMPONENTS):
            self.components[name].stop()

    def logs(self) -> str:
        """The tail of every component's log, for a failing test's report."""
        return "\n".join(f"--- {name}\n{component.log_tail()}" for name, component in self.components.items())
