"""Fixtures of the deployment checks: the repository's deployment files, the pinned tools
that read them, and development certificates made by docker/certs/make-dev-certs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_tools import DeployTools, ensure_tools
from deployment import compose_config, docker_tree_with_certs, kustomize_build
from image_build import BuiltStage, ImageEnvironments
from paths import DOCKER, REPO
from repository import COMPONENTS, default_port

pytest_plugins = ["pasar_testkit.fixtures"]


# The first test to need a tool or an image installs or builds it (pinned downloads, a Go
# build of kustomize, pip and npm runs); the suite's 300 s per test is too short for that
# on a cold machine.
FIRST_USE_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(FIRST_USE_TIMEOUT))


@pytest.fixture(scope="session")
def tools() -> DeployTools:
    """hadolint, kustomize, docker-compose, kubernetes-validate, check-jsonschema (pinned)."""
    return ensure_tools()


@pytest.fixture(scope="session")
def dev_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh set of development certificates, made exactly as a user makes them."""
    out = tmp_path_factory.mktemp("certs")
    subprocess.run([str(DOCKER / "certs" / "make-dev-certs"), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def docker_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of docker/ as a user has it after make-dev-certs (certs/out), and with a
    kustomization that adds the payment-surge component to the local overlay."""
    copy = docker_tree_with_certs(tmp_path_factory.mktemp("docker-copy"))
    surge = copy / "k8s" / "overlays" / "local-surge"
    surge.mkdir()
    (surge / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        "resources:\n  - ../local\n"
        "components:\n  - ../../components/payment-surge\n"
    )
    return copy


@pytest.fixture(scope="session")
def compose_model(tools: DeployTools) -> dict[str, Any]:
    """docker compose config of compose.yaml with .env.example: what `docker compose up` starts."""
    return compose_config(tools, ["compose.yaml"], DOCKER / ".env.example")


@pytest.fixture(scope="session")
def made_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docker/.env as docker/make-env writes it: a fresh random value for every secret (the
    services refuse .env.example's placeholders, as they refuse any public secret)."""
    target = tmp_path_factory.mktemp("env") / "pasar.env"
    subprocess.run([str(DOCKER / "make-env"), str(target)], check=True, capture_output=True)
    return target


@pytest.fixture(scope="session")
def compose_stack_model(tools: DeployTools, made_env: Path) -> dict[str, Any]:
    """compose.yaml with make-env's secrets: what the user starts after docker/make-env."""
    return compose_config(tools, ["compose.yaml"], made_env)


@pytest.fixture(scope="session")
def compose_tls_stack_model(tools: DeployTools, docker_copy: Path, made_env: Path) -> dict[str, Any]:
    """compose.yaml with compose.tls.yaml on top and make-env's secrets, certificates made."""
    return compose_config(tools, ["compose.yaml", "compose.tls.yaml"], made_env, docker_copy)


@pytest.fixture(scope="session")
def compose_tls_model(tools: DeployTools, docker_copy: Path) -> dict[str, Any]:
    """compose.yaml with compose.tls.yaml on top, certificates made."""
    return compose_config(
        tools, ["compose.yaml", "compose.tls.yaml"], docker_copy / ".env.example", docker_copy
    )


KUSTOMIZATIONS = ("base", "overlays/local", "overlays/local-mtls", "overlays/local-surge")


@pytest.fixture(scope="session")
def rendered(tools: DeployTools, docker_copy: Path) -> dict[str, list[dict[str, Any]]]:
    """kustomize build of the base and of each overlay, by its path under k8s/."""
    return {name: kustomize_build(tools, docker_copy / "k8s" / name) for name in KUSTOMIZATIONS}


@pytest.fixture(scope="session")
def image_environments(tmp_path_factory: pytest.TempPathFactory) -> ImageEnvironments:
    """The build stage of docker/python/Dockerfile, run here for each component on demand."""
    return ImageEnvironments(
        tmp_path_factory.mktemp("images"), REPO, REPO / ".tools" / "deploy" / "pip-cache"
    )


def built_image(environments: ImageEnvironments, component: str) -> BuiltStage:
    facts = COMPONENTS[component]
    return environments.build(component, facts.folder, default_port(component))
