"""The deployment files as the tools that run them read them.

The compose model is what ``docker compose config`` makes of compose.yaml (interpolated
from .env.example, anchors merged, defaults filled in), read as JSON: the same model
``docker compose up`` would start. The Kubernetes objects are what ``kustomize build``
renders for an overlay. Both are then seen as containers: which image (so which Pasar
component), which command, which environment.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from deploy_tools import DeployTools
from paths import DOCKER, REPO

IMAGE_COMPONENTS = {
    "pasar-product": "product",
    "pasar-payment": "payment",
    "pasar-order": "order",
    "pasar-fulfillment": "fulfillment",
    "pasar-gateway": "gateway",
    "pasar-storefront": "storefront",
}

# The components that serve, by the OTEL_SERVICE_NAME each is given: each sends its traces
# to the OTLP endpoint and serves Prometheus metrics on METRICS_PORT (never published).
OBSERVED = {
    "product": "svc-product",
    "payment": "svc-payment",
    "order": "svc-order",
    "fulfillment": "svc-fulfillment",
    "gateway": "gateway",
}
METRICS_PORT = 9464
JAEGER_BUILD_SCRIPT = REPO / "scripts" / "lib" / "jaeger.sh"
JAEGER_MODULE_VERSION = re.compile(r'^JAEGER_VERSION="v1\.(\d+)\.(\d+)"$', re.MULTILINE)


def jaeger_image() -> str:
    """The Jaeger v2 image of the release scripts/lib/jaeger.sh builds from the Go module
    proxy (for scripts/run --observe and the tests): module v1.X.Y is Jaeger 2.(X-63).Y
    (v1.75.0 is 2.12.0: one tag, one commit), so compose and Kubernetes run what was tested."""
    found = JAEGER_MODULE_VERSION.search(JAEGER_BUILD_SCRIPT.read_text())
    assert found, f"no JAEGER_VERSION in {JAEGER_BUILD_SCRIPT}"
    return f"jaegertracing/jaeger:2.{int(found.group(1)) - 63}.{found.group(2)}"


def compose_config(
    tools: DeployTools, files: Sequence[str], env_file: Path, project: Path = DOCKER
) -> dict[str, Any]:
    """``docker compose config`` of the files (relative to project) with env_file, as a dict."""
    command = [str(tools.docker_compose), "--project-directory", str(project), "--env-file", str(env_file)]
    for file in files:
        command += ["-f", str(project / file)]
    result = subprocess.run(
        [*command, "config", "--format", "json"], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise AssertionError(f"docker compose config failed:\n{result.stderr}")
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def kustomize_build(tools: DeployTools, folder: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(tools.kustomize), "build", str(folder)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {folder} failed:\n{result.stderr}")
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def docker_tree_with_certs(tools_scratch: Path) -> Path:
    """A copy of docker/ with development certificates in certs/out, as a user has it after
    running make-dev-certs (the repository's own tree is left as it is)."""
    copy = tools_scratch / "docker"
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("out", ".env", "__pycache__"))
    subprocess.run(
        [str(copy / "certs" / "make-dev-certs"), str(copy / "certs" / "out")], check=True, capture_output=True
    )
    return copy


def component_of_image(image: str) -> str | None:
    repository = image.split("@", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return IMAGE_COMPONENTS.get(repository)


@dataclass(frozen=True)
class Container:
    """One container of a deployment: where it is declared, its image and what it is given."""

    where: str
    image: str
    arguments: tuple[str, ...]
    env: Mapping[str, str]
    value_sources: Mapping[str, str]  # variable -> "value", "configMap:NAME" or "secret:NAME"

    @property
    def component(self) -> str | None:
        return component_of_image(self.image)


def compose_containers(model: Mapping[str, Any]) -> Iterator[Container]:
    for name, service in model["services"].items():
        environment = {
            key: "" if value is None else str(value)
            for key, value in (service.get("environment") or {}).items()
        }
        yield Container(
            where=f"compose service {name}",
            image=str(service.get("image", "")),
            arguments=tuple(service.get("command") or ()),
            env=environment,
            value_sources=dict.fromkeys(environment, "value"),
        )


def by_kind(documents: Sequence[Mapping[str, Any]], kind: str) -> dict[str, Mapping[str, Any]]:
    return {str(document["metadata"]["name"]): document for document in documents if document["kind"] == kind}


def _data_of(document: Mapping[str, Any]) -> dict[str, str]:
    data = {key: str(value) for key, value in (document.get("stringData") or {}).items()}
    for key, value in (document.get("data") or {}).items():
        data[key] = base64.b64decode(value).decode() if document["kind"] == "Secret" else str(value)
    return data


def pod_templates(documents: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for document in documents:
        kind = document["kind"]
        if kind in ("Deployment", "StatefulSet", "Job"):
            yield f"{kind} {document['metadata']['name']}", document["spec"]["template"]


def kubernetes_containers(documents: Sequence[Mapping[str, Any]]) -> Iterator[Container]:
    config_maps = by_kind(documents, "ConfigMap")
    secrets = by_kind(documents, "Secret")
    for where, template in pod_templates(documents):
        spec = template["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            env: dict[str, str] = {}
            sources: dict[str, str] = {}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    name = source["configMapRef"]["name"]
                    values = _data_of(config_maps[name])
                    origin = f"configMap:{name}"
                else:
                    name = source["secretRef"]["name"]
                    values = _data_of(secrets[name])
                    origin = f"secret:{name}"
                env.update(values)
                sources.update(dict.fromkeys(values, origin))
            for variable in container.get("env", []):
                env[variable["name"]] = str(variable.get("value", ""))
                sources[variable["name"]] = "value" if "value" in variable else "reference"
            yield Container(
                where=f"{where}, container {container['name']}",
                image=str(container["image"]),
                arguments=tuple(container.get("args") or container.get("command") or ()),
                env=env,
                value_sources=sources,
            )
