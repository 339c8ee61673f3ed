"""docker/k8s: rendered with kustomize, validated against the Kubernetes API's schemas, and
checked for what Pasar asks: per-service scaling, native gRPC probes, network policies
that let only the gateway (and the order service) reach the services, locked-down pods.

No cluster runs here. kustomize renders the base, the local overlay, the local overlay
with mutual TLS and with the payment-surge component; kubernetes-validate checks every
object strictly (unknown fields are errors) against the schemas of several Kubernetes
releases, which is what kubeconform does.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import KUSTOMIZATIONS
from deploy_tools import DeployTools
from deployment import METRICS_PORT, OBSERVED, by_kind, jaeger_image, kubernetes_containers, pod_templates
from dockerfiles import parse
from paths import DOCKER
from repository import COMPONENTS, DEPLOYED_SERVICES, GO_SERVICE, default_port

KUBERNETES_VERSIONS = ("1.30.0", "1.33.0", "1.37.0")
WORKLOADS = ("product", "payment", "order", "fulfillment", "gateway", "storefront")
# Who may open a connection to whom (pod name label -> the labels allowed in), local overlay.
EXPECTED_INGRESS = {
    # fulfillment: LookupDestination reads the product's destination fields.
    "product": {"gateway", "order", "fulfillment"},
    "payment": {"gateway", "order"},
    "order": {"gateway"},
    "fulfillment": {"gateway", "order"},
    "gateway": {"storefront"},
    "storefront": {"*"},
    "mysql": {"product", "payment", "order", "fulfillment", "catalog-demo"},
    "mailpit": {"order"},
    "catalog-demo": set(),
    # Spans, over OTLP (the UI is reached through kubectl port-forward).
    "jaeger": {"product", "payment", "order", "fulfillment", "gateway"},
}


def write_documents(documents: Sequence[Mapping[str, Any]], path: Path) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def validate(tools: DeployTools, file: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools.kubernetes_validate), "--strict", "--quiet", "--kubernetes-version", version, str(file)],
        capture_output=True,
        text=True,
        check=False,
    )


def image_healthcheck(service: str) -> list[str]:
    """The exec-form command of the HEALTHCHECK in the service's image."""
    dockerfile = DOCKER / ("fulfillment" if service == GO_SERVICE else "python") / "Dockerfile"
    healthcheck = parse(dockerfile).final.last("HEALTHCHECK")
    assert healthcheck is not None, dockerfile
    command: list[str] = json.loads(healthcheck.arguments.split("CMD", 1)[1].strip())
    return command


def containers_of(template: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    spec = template["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_rendered_manifests_validate_strictly_against_the_kubernetes_schemas(
    tools: DeployTools,
    rendered: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
    kustomization: str,
    version: str,
) -> None:
    result = validate(tools, write_documents(rendered[kustomization], tmp_path / "manifests.yaml"), version)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(
    tools: DeployTools, rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    documents = rendered["base"]
    deployment = dict(by_kind(documents, "Deployment")["payment"])
    broken = yaml.safe_load(yaml.safe_dump(deployment).replace("readinessProbe", "readynessProbe"))
    result = validate(tools, write_documents([broken], tmp_path / "broken.yaml"), KUBERNETES_VERSIONS[-1])
    assert result.returncode != 0
    assert "readynessProbe" in result.stdout + result.stderr


def test_everything_lives_in_the_pasar_namespace_under_the_restricted_pod_security_standard(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for name, documents in rendered.items():
        namespaces = by_kind(documents, "Namespace")
        assert set(namespaces) == {"pasar"}, name
        labels = namespaces["pasar"]["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        for document in documents:
            if document["kind"] != "Namespace":
                assert document["metadata"].get("namespace") == "pasar", (
                    f"{name}: {document['metadata']['name']}"
                )


@pytest.mark.parametrize("service", DEPLOYED_SERVICES)
def test_each_service_is_probed_natively_over_grpc_on_the_port_it_listens_on(
    rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    documents = rendered["base"]
    port = default_port(service)
    (container,) = by_kind(documents, "Deployment")[service]["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [
        {"name": "grpc", "containerPort": port},
        {"name": "metrics", "containerPort": METRICS_PORT},
    ]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": port}, probe
    assert container["args"] == ["serve", "--no-migrate"]
    config = by_kind(documents, "ConfigMap")[f"{service}-config"]["data"]
    assert config["PASAR_LISTEN_ADDRESS"] == f"0.0.0.0:{port}"


@pytest.mark.parametrize("service", DEPLOYED_SERVICES)
def test_each_service_migrates_in_an_init_container_before_it_serves(
    rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    spec = by_kind(rendered["base"], "Deployment")[service]["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    (main,) = spec["containers"]
    assert init["args"] == ["migrate"]
    assert init["image"] == main["image"]
    assert init["envFrom"] == main["envFrom"]


@pytest.mark.parametrize("service", DEPLOYED_SERVICES)
def test_each_service_has_a_headless_service_that_its_callers_resolve_to_every_pod(
    rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    documents = rendered["base"]
    definition = by_kind(documents, "Service")[service]["spec"]
    assert definition["clusterIP"] == "None"
    assert definition["selector"] == {"app.kubernetes.io/name": service}
    assert [(port["port"], port["targetPort"]) for port in definition["ports"]] == [
        (default_port(service), "grpc")
    ]
    for caller in ("order", "gateway", "fulfillment"):
        config = by_kind(documents, "ConfigMap")[f"{caller}-config"]["data"]
        variable = f"PASAR_{service.upper()}_ADDRESS"
        if variable in config:
            assert config[variable] == f"dns:///{service}:{default_port(service)}"


@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_workload_scales_on_its_own(rendered: dict[str, list[dict[str, Any]]], workload: str) -> None:
    documents = rendered["base"]
    autoscaler = by_kind(documents, "HorizontalPodAutoscaler")[workload]["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload}
    assert 1 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    (metric,) = autoscaler["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # The autoscaler owns the replica count: a Deployment that sets one fights it on every apply.
    assert "replicas" not in by_kind(documents, "Deployment")[workload]["spec"]


def test_the_payment_surge_changes_the_payment_service_alone(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    local = {
        (document["kind"], document["metadata"]["name"]): document for document in rendered["overlays/local"]
    }
    surge = {(d["kind"], d["metadata"]["name"]): d for d in rendered["overlays/local-surge"]}
    assert set(local) == set(surge)
    changed = {key for key in local if local[key] != surge[key]}
    assert changed == {("HorizontalPodAutoscaler", "payment"), ("PodDisruptionBudget", "payment")}
    payment = surge["HorizontalPodAutoscaler", "payment"]["spec"]
    assert payment["minReplicas"] > local["HorizontalPodAutoscaler", "payment"]["spec"]["minReplicas"]
    assert payment["maxReplicas"] > local["HorizontalPodAutoscaler", "payment"]["spec"]["maxReplicas"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_container_has_requests_and_limits_and_runs_locked_down(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str
) -> None:
    for where, template in pod_templates(rendered[kustomization]):
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False, where
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, where
        assert pod_security["runAsUser"] != 0, where
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in containers_of(template):
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert set(resources[kind]) == {"cpu", "memory"}, f"{where} {container['name']} {kind}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            if not where.startswith("StatefulSet mysql"):
                assert security["readOnlyRootFilesystem"] is True, where


def test_base_secrets_are_empty_placeholders_and_the_local_overlay_fills_every_one(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for name, secret in by_kind(rendered["base"], "Secret").items():
        assert secret.get("stringData"), name
        assert all(value == "" for value in secret["stringData"].values()), f"{name} holds a value"
        assert not secret.get("data"), name
    for container in kubernetes_containers(rendered["overlays/local"]):
        for variable, source in container.value_sources.items():
            if source.startswith("secret:"):
                assert container.env[variable], f"{container.where}: {variable} is empty"


@pytest.mark.parametrize("service", DEPLOYED_SERVICES)
def test_the_local_database_urls_match_the_passwords_mysql_is_initialised_with(
    rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    documents = rendered["overlays/local"]
    containers = {c.where: c for c in kubernetes_containers(documents)}
    url = urlsplit(containers[f"Deployment {service}, container {service}"].env["DATABASE_URL"])
    mysql = containers["StatefulSet mysql, container mysql"].env
    assert (url.scheme, url.hostname, url.port) == ("mysql", "mysql", 3306)
    assert url.username == f"pasar_{service}"
    assert url.path == f"/pasar_{service}"
    assert url.password == mysql[f"PASAR_{service.upper()}_DB_PASSWORD"]


def test_the_local_mysql_runs_the_compose_init_script(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from paths import DOCKER

    documents = rendered["overlays/local"]
    (config_map,) = [
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("mysql-initdb")
    ]
    script = (DOCKER / "mysql" / "initdb" / "10-pasar-databases.sh").read_text()
    assert config_map["data"] == {"10-pasar-databases.sh": script}
    template = by_kind(documents, "StatefulSet")["mysql"]["spec"]["template"]["spec"]
    volume = next(v for v in template["volumes"] if v["name"] == "initdb")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert volume["configMap"]["defaultMode"] & 0o111  # the image runs executable scripts
    (mysql,) = template["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in mysql["volumeMounts"]}
    assert mounts["initdb"] == "/docker-entrypoint-initdb.d"
    assert mounts["run"] == "/var/run/mysqld"  # where the init script's client finds the socket


def allowed_sources(documents: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """For each pod (by its name label), which pods' name labels may connect to it ("*": any)."""
    pods = {
        str(template["metadata"]["labels"]["app.kubernetes.io/name"]): template["metadata"]["labels"]
        for _, template in pod_templates(documents)
    }

    def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
        if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
            return False
        for expression in selector.get("matchExpressions", []):
            present = labels.get(expression["key"])
            if expression["operator"] == "In" and present not in expression["values"]:
                return False
        return True

    allowed: dict[str, set[str]] = {name: set() for name in pods}
    for policy in by_kind(documents, "NetworkPolicy").values():
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        targets = [name for name, labels in pods.items() if selects(spec["podSelector"], labels)]
        for rule in spec.get("ingress", []):
            if "from" not in rule:
                sources = {"*"}
            else:
                sources = set()
                for peer in rule["from"]:
                    assert set(peer) == {"podSelector"}, "only pods of this namespace are let in"
                    sources |= {name for name, labels in pods.items() if selects(peer["podSelector"], labels)}
            for target in targets:
                allowed[target] |= sources
    return allowed


def test_only_the_gateway_and_the_order_service_reach_the_services(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    documents = rendered["overlays/local"]
    policies = by_kind(documents, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert allowed_sources(documents) == EXPECTED_INGRESS


@pytest.mark.parametrize("service", DEPLOYED_SERVICES)
def test_the_network_policies_open_exactly_the_port_each_service_listens_on(
    rendered: dict[str, list[dict[str, Any]]], service: str
) -> None:
    policy = by_kind(rendered["base"], "NetworkPolicy")[service]["spec"]
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": default_port(service)}]


def test_the_gateways_metrics_have_a_pod_port_of_their_own_that_no_service_or_policy_opens(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    documents = rendered["overlays/local"]
    config = by_kind(documents, "ConfigMap")["gateway-config"]["data"]
    metrics_port = int(config["PASAR_METRICS_ADDRESS"].rpartition(":")[2])
    assert metrics_port != default_port("gateway")
    template = by_kind(documents, "Deployment")["gateway"]["spec"]["template"]
    (container,) = template["spec"]["containers"]
    assert {"name": "metrics", "containerPort": metrics_port} in container["ports"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == str(metrics_port)
    service_ports = by_kind(documents, "Service")["gateway"]["spec"]["ports"]
    assert [port["targetPort"] for port in service_ports] == ["http"]  # the public port only
    (rule,) = by_kind(documents, "NetworkPolicy")["gateway"]["spec"]["ingress"]
    assert [port["port"] for port in rule["ports"]] == [default_port("gateway")]


def test_with_mutual_tls_the_services_are_probed_by_the_tls_health_check(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    documents = rendered["overlays/local-mtls"]
    (secret,) = [
        d for d in documents if d["kind"] == "Secret" and d["metadata"]["name"].startswith("pasar-tls")
    ]
    assert "ca.key" not in secret["data"]
    for name in (*DEPLOYED_SERVICES, "gateway"):
        spec = by_kind(documents, "Deployment")[name]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        volume = next(v for v in spec["volumes"] if v["name"] == "tls")
        assert volume["secret"]["secretName"] == secret["metadata"]["name"]
        files = {item["path"] for item in volume["secret"]["items"]}
        assert files <= set(secret["data"])
        mount = next(m for m in container["volumeMounts"] if m["name"] == "tls")
        for variable in container["env"]:
            if variable["name"].startswith("PASAR_TLS_"):
                directory, _, file = variable["value"].rpartition("/")
                assert directory == mount["mountPath"]
                assert file in files, f"{name}: {variable['name']} names a file the pod does not mount"
        if name in DEPLOYED_SERVICES:
            assert spec["securityContext"]["fsGroup"] == 10001
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert "grpc" not in container[probe]
                # The image's own HEALTHCHECK, which speaks TLS as its service does.
                assert container[probe]["exec"] == {"command": image_healthcheck(name)}


def test_the_images_are_the_components_at_their_released_version(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for container in kubernetes_containers(rendered["overlays/local"]):
        repository, _, tag = container.image.rpartition(":")
        if container.component in COMPONENTS:
            assert tag == COMPONENTS[container.component].version, container.where
        elif container.component is None:
            assert repository in ("mysql", "axllent/mailpit", "jaegertracing/jaeger"), container.where


def test_the_order_service_and_the_gateway_find_the_fulfillment_service(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    config_maps = by_kind(rendered["base"], "ConfigMap")
    for caller in ("order", "gateway"):
        assert config_maps[f"{caller}-config"]["data"]["PASAR_FULFILLMENT_ADDRESS"] == (
            f"dns:///fulfillment:{default_port('fulfillment')}"
        )
    assert config_maps["fulfillment-config"]["data"]["PASAR_PRODUCT_ADDRESS"] == (
        f"dns:///product:{default_port('product')}"
    )


def test_only_the_local_overlay_lets_the_sandbox_biller_make_deliveries_up(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """Production refuses the sandbox biller unless a demo says so; the base says nothing."""
    base = by_kind(rendered["base"], "ConfigMap")["fulfillment-config"]["data"]
    assert "PASAR_BILLER" not in base
    assert "PASAR_DEMO_FAKE_DELIVERIES" not in base
    local = by_kind(rendered["overlays/local"], "ConfigMap")
    (config,) = [data for name, data in local.items() if name.startswith("fulfillment-config")]
    assert config["data"]["PASAR_BILLER"] == "sandbox"
    assert config["data"]["PASAR_DEMO_FAKE_DELIVERIES"] == "true"


def test_the_fulfillment_pod_runs_as_the_user_its_image_was_made_for(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """The scratch image's only writable folder belongs to its USER: the pod keeps that uid."""
    user = parse(DOCKER / "fulfillment" / "Dockerfile").final.last("USER")
    assert user is not None
    uid, _, gid = user.arguments.partition(":")
    spec = by_kind(rendered["base"], "Deployment")[GO_SERVICE]["spec"]["template"]["spec"]
    assert (str(spec["securityContext"]["runAsUser"]), str(spec["securityContext"]["runAsGroup"])) == (
        uid,
        gid or uid,
    )


@pytest.mark.parametrize("workload", OBSERVED)
def test_each_service_and_the_gateway_are_scraped_on_a_port_no_service_or_policy_opens(
    rendered: dict[str, list[dict[str, Any]]], workload: str
) -> None:
    documents = rendered["overlays/local"]
    template = by_kind(documents, "Deployment")[workload]["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
    }
    container = next(c for c in kubernetes_containers(documents) if c.where.endswith(f"container {workload}"))
    assert container.env["PASAR_METRICS_ADDRESS"] == f"0.0.0.0:{METRICS_PORT}"
    (main,) = template["spec"]["containers"]
    assert {"name": "metrics", "containerPort": METRICS_PORT} in main["ports"]
    service_ports = by_kind(documents, "Service")[workload]["spec"]["ports"]
    assert all(port["targetPort"] != "metrics" and port["port"] != METRICS_PORT for port in service_ports)
    for policy in by_kind(documents, "NetworkPolicy").values():
        for rule in policy["spec"].get("ingress", []):
            assert all(port.get("port") != METRICS_PORT for port in rule.get("ports", [])), policy


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_container_of_each_service_and_the_gateway_gets_the_otlp_endpoint_setting(
    rendered: dict[str, list[dict[str, Any]]], kustomization: str
) -> None:
    """The base leaves the endpoint empty (no traces) for the cluster's own collector; the
    local overlays send them to the Jaeger they run."""
    documents = rendered[kustomization]
    expected = "" if kustomization == "base" else "http://jaeger:4317"
    observed = [
        c
        for c in kubernetes_containers(documents)
        if c.where.split(",")[0] in {f"Deployment {name}" for name in OBSERVED}
    ]
    assert len(observed) == 2 * len(OBSERVED) - 1  # each service's migrate and serve; the gateway
    for container in observed:
        deployment = container.where.split(",")[0].removeprefix("Deployment ")
        assert container.env["OTEL_EXPORTER_OTLP_ENDPOINT"] == expected, container.where
        assert container.env["OTEL_SERVICE_NAME"] == OBSERVED[deployment], container.where
    if expected:
        jaeger = by_kind(documents, "Service")["jaeger"]["spec"]
        assert {"name": "otlp-grpc", "port": 4317, "targetPort": "otlp-grpc", "appProtocol": "grpc"} in (
            jaeger["ports"]
        )
        (container,) = by_kind(documents, "Deployment")["jaeger"]["spec"]["template"]["spec"]["containers"]
        assert container["image"] == jaeger_image()
