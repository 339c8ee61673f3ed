"""Every name the deployment files use matches what the code reads.

For each container in the compose stack (with and without TLS) and in the rendered
Kubernetes overlays: its image is a component that exists, built from that component's
folder and console script; its command is one that component's command line accepts;
every environment variable it is given is read by that component's code (or the image's
health check; for the Go fulfillment service, its Go source) and, when CONTRIBUTING.md's
table lists the variable, the table agrees that this component reads it; its addresses
and ports are the ones the code listens on; every secret the component requires in
production is given to it. And the table itself is checked against the code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import KUSTOMIZATIONS
from deployment import Container, compose_containers, kubernetes_containers
from dockerfiles import parse
from paths import DOCKER, REPO
from repository import (
    COMPONENTS,
    GO_SERVICE,
    SERVICES,
    accepts_arguments,
    component_reads,
    container_reads,
    default_port,
    documented_variables,
    secrets_read,
)

ADDRESS = re.compile(r"^PASAR_(PRODUCT|PAYMENT|ORDER|FULFILLMENT)_ADDRESS$")


def all_containers(
    compose_model: dict[str, Any],
    compose_tls_model: dict[str, Any],
    rendered: dict[str, list[dict[str, Any]]],
) -> Iterator[Container]:
    yield from compose_containers(compose_model)
    for container in compose_containers(compose_tls_model):
        yield Container(
            f"{container.where} (TLS)",
            container.image,
            container.arguments,
            container.env,
            container.value_sources,
        )
    for name in KUSTOMIZATIONS:
        for container in kubernetes_containers(rendered[name]):
            yield Container(
                f"{name}: {container.where}",
                container.image,
                container.arguments,
                container.env,
                container.value_sources,
            )


@pytest.fixture(scope="module")
def containers(
    compose_model: dict[str, Any],
    compose_tls_model: dict[str, Any],
    rendered: dict[str, list[dict[str, Any]]],
) -> list[Container]:
    return list(all_containers(compose_model, compose_tls_model, rendered))


def pasar_containers(containers: list[Container]) -> Iterator[tuple[Container, str]]:
    """The containers of Pasar's own components (the Python ones and the Go service)."""
    for container in containers:
        if container.component in COMPONENTS or container.component == GO_SERVICE:
            yield container, container.component


def test_every_container_runs_a_known_image(containers: list[Container]) -> None:
    for container in containers:
        assert container.component is not None or container.image.split(":")[0] in (
            "mysql",
            "axllent/mailpit",
            "jaegertracing/jaeger",
        ), f"{container.where}: unknown image {container.image}"


def test_every_variable_given_to_a_component_is_one_its_code_reads(containers: list[Container]) -> None:
    unread = [
        f"{container.where}: {variable}"
        for container, component in pasar_containers(containers)
        for variable in container.env
        if not container_reads(component).covers(variable)
    ]
    assert not unread, "variables no code reads:\n" + "\n".join(unread)


def test_the_configuration_table_agrees_with_who_gets_each_variable(containers: list[Container]) -> None:
    documented = documented_variables()
    disagreements = []
    for container, component in pasar_containers(containers):
        for variable in container.env:
            entry = documented.get(variable)
            if entry is None or component in entry.read_by:
                continue
            if variable.startswith("PASAR_TLS_") and component in SERVICES:
                continue  # the client half, for the image's health check (docker/python/healthcheck.py)
            disagreements.append(f"{container.where}: {variable} (CONTRIBUTING.md: {sorted(entry.read_by)})")
    assert not disagreements, "\n".join(disagreements)


def test_the_configuration_table_matches_the_code() -> None:
    """Every component the table names as a reader reads the variable (callers: of that service)."""
    wrong = []
    for variable, entry in documented_variables().items():
        readers = set(entry.read_by)
        if match := ADDRESS.match(variable):
            readers.discard(match.group(1).lower())  # a service does not call itself
        for component in sorted(readers):
            if not component_reads(component).covers(variable):
                wrong.append(f"{variable}: CONTRIBUTING.md says {component} reads it; its code does not")
    assert not wrong, "\n".join(wrong)


def test_the_scanner_finds_what_the_code_reads() -> None:
    """The source scan is the ground truth above: prove it sees plain, constant and f-string names."""
    gateway = component_reads("gateway")
    assert gateway.covers("PASAR_ADMIN_TOKEN")  # env.secret(f"{PREFIX}_ADMIN_TOKEN", ...)
    assert gateway.covers("PASAR_PAYMENT_ADDRESS")  # env.string(f"{PREFIX}_{key}_ADDRESS", ...)
    assert gateway.covers("PROMETHEUS_MULTIPROC_DIR")  # env.optional(MULTIPROCESS_DIR)
    assert gateway.covers("PASAR_ORDER_LOOKUP_RATE_LIMIT")  # RateLimitSetting(f"{PREFIX}_ORDER_LOOKUP_...")
    # (Not DATABASE_URL any more: pasar_kit.telemetry reads it, in the gateway too, to pick
    # the database driver's instrumentation.)
    assert not gateway.covers("SMTP_URL")
    # OpenTelemetry's variables, read by its SDK where pasar_kit.telemetry (Go: the SDK) sets it up.
    assert gateway.covers("OTEL_SERVICE_NAME")
    assert component_reads(GO_SERVICE).covers("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert component_reads("payment").covers("PASAR_TLS_CERT")  # through pasar_kit.server
    assert not component_reads("payment").covers("PASAR_TLS_CA")  # it calls no one
    assert not component_reads("product").covers("PASAR_NOT_A_SETTING")
    fulfillment = component_reads(GO_SERVICE)  # the Go source's literals and built names
    assert fulfillment.covers("PASAR_BILLER_WEBHOOK_SECRET")
    assert fulfillment.covers("PASAR_DEMO_FAKE_DELIVERIES")  # a Go constant
    assert fulfillment.covers("PASAR_ORDER_CALLER_TOKEN")  # "PASAR_" + name + "_CALLER_TOKEN"
    assert fulfillment.covers("PASAR_PRODUCT_ADDRESS")
    assert not fulfillment.covers("PASAR_PAYMENT_ADDRESS")
    assert not fulfillment.covers("PASAR_GRPC_WORKERS")  # a Python service's setting


def test_every_secret_a_component_requires_in_production_is_given_to_it(containers: list[Container]) -> None:
    missing = []
    for container, component in pasar_containers(containers):
        if container.env.get("PASAR_ENV") != "production" or container.arguments[:1] in (
            ("migrate",),
            ("load-demo",),
        ):
            continue
        missing += [
            f"{container.where}: {secret}"
            for secret in secrets_read(component)
            if secret not in container.env
        ]
    assert not missing, "\n".join(missing)


def test_every_container_listens_on_the_port_its_code_and_image_use(
    containers: list[Container], compose_model: dict[str, Any]
) -> None:
    for container, component in pasar_containers(containers):
        address = container.env.get("PASAR_LISTEN_ADDRESS")
        if address is not None:
            assert address == f"0.0.0.0:{default_port(component)}", container.where
    for name, service in compose_model["services"].items():
        build = service.get("build")
        if build and build["dockerfile"] == "docker/python/Dockerfile":
            component = build["args"]["COMPONENT"]
            assert build["args"]["PORT"] == str(default_port(component)), name


def test_every_address_a_caller_is_given_names_the_service_and_its_port(containers: list[Container]) -> None:
    for container, _ in pasar_containers(containers):
        for variable, value in container.env.items():
            if match := ADDRESS.match(variable):
                service = match.group(1).lower()
                assert value == f"dns:///{service}:{default_port(service)}", f"{container.where}: {variable}"


def test_every_command_is_one_the_component_accepts(containers: list[Container]) -> None:
    for container, component in pasar_containers(containers):
        assert accepts_arguments(component, container.arguments), (
            f"{container.where}: pasar-{component} {' '.join(container.arguments)} is refused"
        )


def test_the_command_check_can_fail() -> None:
    assert not accepts_arguments("payment", ("load-demo",))
    assert not accepts_arguments("product", ("serve", "--no-such-option"))


def test_each_image_is_built_from_its_components_folder_and_console_script(
    compose_model: dict[str, Any],
) -> None:
    dockerfile = parse(DOCKER / "python" / "Dockerfile")
    final = dockerfile.final
    assert [instruction.arguments for instruction in final.all("ARG")] == ["COMPONENT", "PORT"]
    built = 0
    for name, service in compose_model["services"].items():
        build = service.get("build")
        if not build or build["dockerfile"] != "docker/python/Dockerfile":
            continue
        component = COMPONENTS[build["args"]["COMPONENT"]]
        assert build["args"]["COMPONENT_DIR"] == component.folder, name
        assert (REPO / component.folder / "pyproject.toml").exists()
        # The image links pasar-component to pasar-$COMPONENT, which the component installs.
        assert f"pasar-{component.name}" in component.console_scripts(), name
        assert service["image"] == f"pasar-{component.name}:{component.version}", name
        built += 1
    assert built == 5  # the four components, and the product image again for the demo catalog
    build_stage = "\n".join(instruction.arguments for instruction in dockerfile.stage("build").all("RUN"))
    assert 'ln -s "pasar-${COMPONENT}" /opt/pasar/bin/pasar-component' in build_stage


def test_compose_and_kubernetes_run_the_same_images(
    compose_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    compose_images = {str(service["image"]) for service in compose_model["services"].values()}
    kubernetes_images = {container.image for container in kubernetes_containers(rendered["overlays/local"])}
    assert kubernetes_images == compose_images


def test_the_gateway_is_probed_where_it_answers(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from pasar_gateway.app import create_app

    app = create_app({"ENV": "development", "ORDER_RATE_LIMIT": "off"})
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    deployment = next(
        d for d in rendered["base"] if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway"
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in routes
        assert container[probe]["httpGet"]["port"] == "http"
    assert container["ports"][0] == {"name": "http", "containerPort": default_port("gateway")}
    # The image's health check asks the gateway for the same path: run against a server that
    # answers only there, it passes while that path answers 200 and fails when it does not.
    probe_path = container["readinessProbe"]["httpGet"]["path"]
    with ProbedServer(probe_path) as server:
        assert run_healthcheck(server.port) == 0
        assert server.paths == [probe_path]
        server.status = 503
        assert run_healthcheck(server.port) == 1
    assert run_healthcheck(server.port) == 1  # nothing listens any more


class ProbedServer:
    """An HTTP server on a free loopback port answering `status` on one path, 404 elsewhere."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.status = 200
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                self.send_response(outer.status if self.path == outer.path else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def __enter__(self) -> ProbedServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def run_healthcheck(port: int) -> int:
    """The image's health check of the gateway (as its HEALTHCHECK runs it) on 127.0.0.1:port."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PASAR_")}
    result = subprocess.run(
        [sys.executable, str(DOCKER / "python" / "healthcheck.py"), "gateway"],
        env={**env, "PASAR_LISTEN_ADDRESS": f"0.0.0.0:{port}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode


def test_every_build_names_a_dockerfile_and_context_that_exist(compose_model: dict[str, Any]) -> None:
    for name, service in compose_model["services"].items():
        build = service.get("build")
        if build:
            context = Path(build["context"])
            assert context == REPO, name
            assert (context / build["dockerfile"]).is_file(), name


def test_the_storefront_image_puts_the_build_where_nginx_serves_it() -> None:
    final = parse(DOCKER / "storefront" / "Dockerfile").final
    copies = [instruction.flags_and_words() for instruction in final.all("COPY")]
    destinations = {words[-1]: (flags, words[:-1]) for flags, words in copies}
    flags, sources = destinations["/usr/share/nginx/html"]
    assert flags.get("from") == "build"
    assert sources == ["/src/storefront-vue/dist"]
    assert "root /usr/share/nginx/html;" in (DOCKER / "storefront" / "nginx.conf").read_text()
    assert destinations["/etc/nginx/conf.d/default.conf"][1] == ["docker/storefront/nginx.conf"]


def test_where_the_order_service_writes_e_mails_without_smtp_is_writable_in_kubernetes(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    from pasar_kit.config import Env
    from pasar_order.config import Settings

    workdir = parse(DOCKER / "python" / "Dockerfile").final.last("WORKDIR")
    assert workdir is not None
    mail_dir = Path(workdir.arguments) / Settings.from_env(Env({})).mail.mail_dir
    deployment = next(
        d for d in rendered["base"] if d["kind"] == "Deployment" and d["metadata"]["name"] == "order"
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = [Path(mount["mountPath"]) for mount in container["volumeMounts"]]
    assert any(mail_dir.is_relative_to(mount) for mount in mounts), (
        f"{mail_dir} is on the read-only file system"
    )
