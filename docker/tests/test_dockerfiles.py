"""The Dockerfiles, checked without a Docker engine: hadolint, and what Pasar asks of every image.

Multi-stage, a base image pinned to an exact version, a final stage without build tools
that runs as a numeric non-root user, stops on the signal its process drains on, has a
health check, and copies only what its .dockerignore lets into the build context.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from deploy_tools import DeployTools
from dockerfiles import BuildContext, Dockerfile, expand, parse
from paths import DOCKER, REPO
from repository import GO_SERVICE, default_port, go_binary

from pasar_testkit.ports import free_port

DOCKERFILES = {
    "python": DOCKER / "python" / "Dockerfile",
    "storefront": DOCKER / "storefront" / "Dockerfile",
    "fulfillment": DOCKER / "fulfillment" / "Dockerfile",
}
SHELL_SCRIPTS = [
    DOCKER / "certs" / "make-dev-certs",
    DOCKER / "make-env",
    DOCKER / "mysql" / "initdb" / "10-pasar-databases.sh",
]
# An exact release (3.11.14, 1.28.0, 20.20.2), optionally with a variant, or a digest.
EXACT_TAG = re.compile(r"^[a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "apt-get install", "apk add", "pip install", "npm ")


def resolved_bases(dockerfile: Dockerfile) -> list[str]:
    defaults = {name: value or "" for name, value in dockerfile.global_args.items()}
    return [expand(stage.base, defaults) for stage in dockerfile.stages]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_finds_nothing(tools: DeployTools, name: str) -> None:
    result = subprocess.run(
        [str(tools.hadolint), "--no-color", str(DOCKERFILES[name])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_complain(tools: DeployTools, tmp_path: Path) -> None:
    """The check can fail: an unpinned, root, apt-get image is refused."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get update && apt-get install -y curl\nCMD curl example.com\n")
    result = subprocess.run(
        [str(tools.hadolint), "--no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # the base image's tag is not pinned


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda path: path.name)
def test_shellcheck_finds_nothing_in_the_scripts(tools: DeployTools, script: Path) -> None:
    result = subprocess.run([str(tools.shellcheck), str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert script.stat().st_mode & 0o111, f"{script} is not executable"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_each_image_is_built_in_stages_from_bases_pinned_to_a_release(name: str) -> None:
    dockerfile = parse(DOCKERFILES[name])
    assert len(dockerfile.stages) >= 2
    for base in resolved_bases(dockerfile):
        # scratch is no image at all (the static Go binary's final stage): nothing to pin.
        assert base == "scratch" or EXACT_TAG.match(base), f"{base} is not pinned to an exact version"
    # The final stage starts from a base image, never from the build stage with its tools.
    assert dockerfile.final.base not in {stage.name for stage in dockerfile.stages}


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_final_stage_has_no_build_tools_and_runs_as_a_numeric_non_root_user(name: str) -> None:
    final = parse(DOCKERFILES[name]).final
    for run in final.all("RUN"):
        for tool in BUILD_TOOLS:
            assert tool not in run.arguments, f"line {run.line}: the final stage runs {tool!r}"
    user = final.last("USER")
    assert user is not None
    uid = user.arguments.split(":")[0]
    assert uid.isdigit(), "Kubernetes' runAsNonRoot can only verify a numeric user"
    assert int(uid) != 0


def test_the_python_image_stops_on_sigterm_and_checks_its_health() -> None:
    final = parse(DOCKERFILES["python"]).final
    stop = final.last("STOPSIGNAL")
    assert stop is not None
    assert stop.arguments == "SIGTERM"  # the services' and gunicorn's graceful stop
    healthcheck = final.last("HEALTHCHECK")
    assert healthcheck is not None
    flags, words = healthcheck.flags_and_words()
    assert words[0] == "CMD"
    assert healthcheck.arguments.split("CMD", 1)[1].strip() == '["pasar-healthcheck"]'
    assert {"interval", "timeout", "start-period", "retries"} <= set(flags)
    copied = [instruction.arguments for instruction in final.all("COPY")]
    assert any(
        "docker/python/healthcheck.py /opt/pasar/bin/pasar-healthcheck" in line and "--chmod=0755" in line
        for line in copied
    )
    entrypoint = final.last("ENTRYPOINT")
    assert entrypoint is not None
    assert entrypoint.exec_form == ["pasar-component"]


def test_the_fulfillment_image_is_the_static_binary_that_checks_its_own_health() -> None:
    """scratch holds nothing to run a health check with: the binary checks itself
    (`svc-fulfillment health`, gRPC health over TLS when the server speaks it)."""
    dockerfile = parse(DOCKERFILES["fulfillment"])
    final = dockerfile.final
    assert final.base == "scratch"
    entrypoint = final.last("ENTRYPOINT")
    assert entrypoint is not None
    assert entrypoint.exec_form is not None
    (binary,) = entrypoint.exec_form
    copied = {words[-1]: flags for flags, words in (i.flags_and_words() for i in final.all("COPY"))}
    assert copied[binary].get("from") == "build"
    stop = final.last("STOPSIGNAL")
    assert stop is not None
    assert stop.arguments == "SIGTERM"  # the Go server's graceful stop
    healthcheck = final.last("HEALTHCHECK")
    assert healthcheck is not None
    flags, words = healthcheck.flags_and_words()
    assert words[0] == "CMD"
    assert healthcheck.arguments.split("CMD", 1)[1].strip() == json.dumps([binary, "health"])
    assert {"interval", "timeout", "start-period", "retries"} <= set(flags)
    env = " ".join(instruction.arguments for instruction in final.all("ENV"))
    assert f"PASAR_LISTEN_ADDRESS=0.0.0.0:{default_port(GO_SERVICE)}" in env
    exposed = final.last("EXPOSE")
    assert exposed is not None
    assert exposed.arguments == str(default_port(GO_SERVICE))
    build = "\n".join(instruction.arguments for instruction in dockerfile.stage("build").instructions)
    assert "CGO_ENABLED=0" in build  # static: scratch has no C library


def test_the_fulfillment_binary_knows_its_health_command() -> None:
    """The HEALTHCHECK's `health` is a command of the binary (`serve` and `migrate` are run by
    the deployment files, checked in test_consistency): with nothing listening, unhealthy."""
    result = subprocess.run(
        [str(go_binary()), "health"],
        env={"PASAR_LISTEN_ADDRESS": f"127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode != 0
    assert "usage:" not in result.stderr
    assert "not healthy" in result.stderr


def test_the_storefront_image_drains_on_sigquit_and_checks_its_health() -> None:
    final = parse(DOCKERFILES["storefront"]).final
    stop = final.last("STOPSIGNAL")
    assert stop is not None
    assert stop.arguments == "SIGQUIT"  # nginx's graceful stop
    healthcheck = final.last("HEALTHCHECK")
    assert healthcheck is not None
    assert "http://127.0.0.1:8080/healthz" in healthcheck.arguments
    nginx = (DOCKER / "storefront" / "nginx.conf").read_text()
    assert "location = /healthz" in nginx
    assert "listen 8080;" in nginx
    exposed = final.last("EXPOSE")
    assert exposed is not None
    assert exposed.arguments == "8080"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_everything_copied_from_the_context_is_let_in_by_the_dockerignore(name: str) -> None:
    dockerfile = parse(DOCKERFILES[name])
    context = BuildContext.for_dockerfile(DOCKERFILES[name], REPO)
    # Every component folder the Python image may be asked for, and the storefront's sources.
    folders = {"COMPONENT_DIR": ["svc-product", "svc-payment", "svc-order", "gateway-flask"]}
    for stage in dockerfile.stages:
        for copy in stage.all("COPY"):
            flags, words = copy.flags_and_words()
            if "from" in flags:
                continue
            for source in words[:-1]:
                for value in folders["COMPONENT_DIR"] if "${COMPONENT_DIR}" in source else [None]:
                    path = expand(source, {"COMPONENT_DIR": value or ""}).strip("/")
                    assert (REPO / path).exists(), f"line {copy.line}: {path} does not exist"
                    assert context.files_under(path), (
                        f"line {copy.line}: {path} is left out by the .dockerignore"
                    )


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_dockerignore_keeps_local_state_and_secrets_out(name: str) -> None:
    context = BuildContext.for_dockerfile(DOCKERFILES[name], REPO)
    for path in (
        ".venv/bin/python",
        ".git/config",
        "docker/.env",
        "docker/certs/out/ca.key",
        "node_modules/vue/package.json",
        "storefront-vue/node_modules/x/package.json",
        "svc-product/var/product.db",
        "svc-order/tests/test_orders.py",
        "libs/pasar-kit/src/pasar_kit/__pycache__/server.cpython-311.pyc",
        "libs/pasar-kit/src/pasar_kit.egg-info/PKG-INFO",
        "storefront-vue/dist/index.html",
    ):
        assert not context.includes(path), f"{path} would be sent to the build"


def test_the_python_image_listens_where_its_port_argument_says() -> None:
    final = parse(DOCKERFILES["python"]).final
    env = " ".join(instruction.arguments for instruction in final.all("ENV"))
    assert "PASAR_LISTEN_ADDRESS=0.0.0.0:${PORT}" in env
    assert "PASAR_COMPONENT=${COMPONENT}" in env
    exposed = final.last("EXPOSE")
    assert exposed is not None
    assert exposed.arguments == "${PORT}"
