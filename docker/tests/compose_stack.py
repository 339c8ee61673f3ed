"""The compose stack, run on this machine without Docker, as close to `docker compose up` as it gets.

- MySQL is the MariaDB server the tests start, initialised by the same
  mysql/initdb/10-pasar-databases.sh with the mysql service's own variables.
- Each Pasar container is its image's environment (the Dockerfile's build stage, run by
  image_build.py; for the Go fulfillment service, its static binary built from the same
  source as its Dockerfile builds it, by pasar_testkit.go_service), started with the
  image's entry point and the service's ``command``,
  with the image's ENV and then the service's ``environment`` exactly as
  ``docker compose config`` resolves them (PASAR_ENV=production, the secrets docker/make-env
  writes, DATABASE_URL with each service's own least-privilege user).
- Only what Docker's network provides is changed: host names become 127.0.0.1 with the
  ports of this run (mysql:3306, mailpit:1025, dns:///product:50051 ...), and the TLS
  files compose mounts under /etc/pasar/tls come from a make-dev-certs folder.
- Start order follows depends_on: a container starts when what it depends on is healthy,
  and "healthy" is the image's own health check, run as Docker runs it. The demo catalog
  is loaded by the catalog-demo one-shot, and the storefront's nginx passes /api/ to the
  gateway. Mailpit's part is played by pasar_testkit's MailCatcher, an SMTP server that
  keeps what it receives.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy_tools import DeployTools
from dockerfiles import expand, parse
from image_build import ImageEnvironments
from paths import DOCKER, REPO
from repository import COMPONENTS, DEPLOYED_SERVICES, GO_SERVICE, default_port, go_binary
from storefront_server import StorefrontServer

from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.mail import MailCatcher
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.ports import free_port
from pasar_testkit.processes import OwnedProcess
from pasar_testkit.waiting import wait_for

TLS_FOLDER = "/etc/pasar/tls/"
COMPOSE_HOSTS = (
    "mysql",
    "mailpit",
    "jaeger",
    "product",
    "payment",
    "order",
    "fulfillment",
    "gateway",
    "storefront",
)
# Where compose has every component serve its metrics, and send its traces.
COMPOSE_METRICS_ADDRESS = "0.0.0.0:9464"
COMPOSE_OTLP_ENDPOINT = "http://jaeger:4317"
PYTHON_DOCKERFILE = "docker/python/Dockerfile"
GO_DOCKERFILE = "docker/fulfillment/Dockerfile"


@dataclass(frozen=True)
class Image:
    """What a container runs: its entry point, its health check and its ENV, as local paths."""

    entrypoint: Sequence[str]
    healthcheck: Sequence[str]
    env: Mapping[str, str]


def go_image() -> Image:
    """The fulfillment image as its Dockerfile's final stage declares it, with the binary
    built here from the same source (static, as the image's build stage makes it) in place
    of the image's copy wherever the ENTRYPOINT and the HEALTHCHECK name it."""
    dockerfile = parse(REPO / GO_DOCKERFILE)
    final = dockerfile.final
    binary = go_binary()
    defaults = {name: value or "" for name, value in dockerfile.global_args.items()}

    def local(words: Sequence[str]) -> list[str]:
        return [str(binary) if Path(word).name == binary.name else word for word in words]

    entrypoint = final.last("ENTRYPOINT")
    healthcheck = final.last("HEALTHCHECK")
    assert entrypoint is not None, f"{GO_DOCKERFILE}: an ENTRYPOINT"
    assert entrypoint.exec_form, f"{GO_DOCKERFILE}: an exec-form ENTRYPOINT"
    assert healthcheck is not None, f"{GO_DOCKERFILE}: a HEALTHCHECK"
    command = json.loads(healthcheck.arguments.split("CMD", 1)[1].strip())
    env: dict[str, str] = {}
    for instruction in final.all("ENV"):
        for assignment in shlex.split(instruction.arguments):
            name, _, value = assignment.partition("=")
            env[name] = expand(value, defaults)
    return Image(local(entrypoint.exec_form), local(command), env)


class ContainerProcess(OwnedProcess):
    """One Pasar container: its entry point started by PID, its health checked as Docker checks
    it, stopped with SIGTERM as `docker stop` sends (STOPSIGNAL), then SIGKILL after 30 s."""

    stop_seconds = 30.0

    def __init__(
        self, name: str, image: Image, arguments: list[str], env: Mapping[str, str], base: Path
    ) -> None:
        super().__init__(name, base / f"{name}.log")
        self.image = image
        self.command = [*image.entrypoint, *arguments]
        self.env = dict(env)
        self.workdir = base / name
        self.workdir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )

    def run_to_completion(self, timeout: float = 120) -> int:
        self.start()
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def health_check(self) -> subprocess.CompletedProcess[str]:
        """The image's HEALTHCHECK, in the container's environment."""
        return subprocess.run(
            list(self.image.healthcheck),
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    def healthy(self) -> bool:
        """Whether the health check passes; RuntimeError once the container has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
        return self.health_check().returncode == 0

    def wait_until_healthy(self, timeout: float = 90.0) -> None:
        try:
            wait_for(self.healthy, timeout, f"{self.name} healthy", interval=0.3)
        except AssertionError:
            raise RuntimeError(f"{self.name} was not healthy within {timeout}s:\n{self.log_tail()}") from None


class ComposeStack:
    """compose.yaml's services, started in its order, on this machine."""

    def __init__(
        self,
        model: Mapping[str, Any],
        images: ImageEnvironments,
        mariadb: MariaDBServer,
        *,
        tools: DeployTools,
        base: Path,
        jaeger: JaegerServer,
        certs: Path | None = None,
    ) -> None:
        self.model = model
        self.jaeger = jaeger
        self.services: Mapping[str, Any] = model["services"]
        self.images = images
        self.mariadb = mariadb
        self.tools = tools
        self.base = base
        self.certs = certs
        self.mail = MailCatcher()
        self.ports = {name: free_port() for name in (*COMPONENTS, GO_SERVICE)}
        self.metrics_ports = {name: free_port() for name in (*COMPONENTS, GO_SERVICE)}
        self.containers: dict[str, ContainerProcess] = {}
        self.storefront: StorefrontServer | None = None

    # What Docker's network and mounts provide, given here instead.

    def localise(self, name: str, value: str) -> str:
        replacements = {
            "@mysql:3306/": f"@127.0.0.1:{self.mariadb.port}/",
            "smtp://mailpit:1025": f"smtp://127.0.0.1:{self.mail.port}",
            COMPOSE_OTLP_ENDPOINT: self.jaeger.otlp_endpoint,
            **{
                f"dns:///{service}:{default_port(service)}": f"dns:///{self.address(service)}"
                for service in (*COMPONENTS, *DEPLOYED_SERVICES)
            },
        }
        for original, local in replacements.items():
            value = value.replace(original, local)
        if value.startswith(TLS_FOLDER):
            assert self.certs is not None, f"{name} names a certificate, but this stack has none"
            value = str(self.certs / value.removeprefix(TLS_FOLDER))
        for host in COMPOSE_HOSTS:
            assert not re.search(rf"(//|@){host}[:/]", value), f"{name}={value} still names the host {host}"
        return value

    def address(self, component: str) -> str:
        return f"127.0.0.1:{self.ports[component]}"

    def container_env(self, service: str) -> tuple[Image, dict[str, str]]:
        definition = self.services[service]
        if definition["build"]["dockerfile"] == GO_DOCKERFILE:
            component = GO_SERVICE
            image = go_image()
        else:
            assert definition["build"]["dockerfile"] == PYTHON_DOCKERFILE, service
            component = definition["build"]["args"]["COMPONENT"]
            built = self.images.build(component, COMPONENTS[component].folder, default_port(component))
            image = Image(
                [str(built.path("/opt/pasar/bin/pasar-component"))],
                [str(built.path("/opt/pasar/bin/pasar-healthcheck"))],
                built.image_env,
            )
        env = dict(image.env)
        for name, value in (definition.get("environment") or {}).items():
            env[name] = self.localise(name, str(value))
        # The image's and compose's 0.0.0.0:PORT, on this run's loopback port.
        assert env["PASAR_LISTEN_ADDRESS"] == f"0.0.0.0:{default_port(component)}"
        env["PASAR_LISTEN_ADDRESS"] = self.address(component)
        # Likewise the metrics listener, where compose has one (not the one-shot containers).
        if "PASAR_METRICS_ADDRESS" in env:
            assert env["PASAR_METRICS_ADDRESS"] == COMPOSE_METRICS_ADDRESS, service
            env["PASAR_METRICS_ADDRESS"] = self.metrics_address(component)
        return image, env

    def metrics_address(self, component: str) -> str:
        return f"127.0.0.1:{self.metrics_ports[component]}"

    def container(self, service: str) -> ContainerProcess:
        image, env = self.container_env(service)
        process = ContainerProcess(
            service, image, list(self.services[service].get("command") or []), env, self.base
        )
        self.containers[service] = process
        return process

    # Starting and stopping, in compose's order.

    def initialise_database(self) -> subprocess.CompletedProcess[str]:
        """mysql/initdb/10-pasar-databases.sh with the mysql service's variables, on the test server."""
        mysql_env = {name: str(value) for name, value in self.services["mysql"]["environment"].items()}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **mysql_env,
            # The test server's root has no password; the client reaches it over TCP.
            "MYSQL_ROOT_PASSWORD": "",
            "PASAR_INIT_MYSQL": (
                f"mariadb --protocol=tcp --host=127.0.0.1 --port={self.mariadb.port} --user=root"
            ),
        }
        return subprocess.run(
            [str(DOCKER / "mysql" / "initdb" / "10-pasar-databases.sh")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )

    def start(self, static_dir: Path) -> None:
        self.initialise_database()
        for service in ("product", "payment", "fulfillment"):
            self.container(service).start()
        for service in ("product", "payment", "fulfillment"):
            self.containers[service].wait_until_healthy()
        status = self.container("catalog-demo").run_to_completion()
        assert status == 0, self.containers["catalog-demo"].log_tail()
        self.mail.start()
        self.container("order").start()
        self.containers["order"].wait_until_healthy()
        self.container("gateway").start()
        self.containers["gateway"].wait_until_healthy()
        self.storefront = StorefrontServer(
            self.tools, self.base / "nginx", static_dir, self.address("gateway")
        )
        self.storefront.start()

    def stop(self) -> dict[str, int | None]:
        """Stops everything it started, the storefront first; the services' exit statuses."""
        if self.storefront is not None:
            self.storefront.stop()
        statuses: dict[str, int | None] = {}
        for service in ("gateway", "order", "fulfillment", "payment", "product", "catalog-demo"):
            if service in self.containers:
                statuses[service] = self.containers[service].stop()
        self.mail.stop()
        return statuses

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{process.log_tail()}" for name, process in self.containers.items())
