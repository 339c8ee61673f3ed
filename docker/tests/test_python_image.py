"""The Python image's build, run here step by step (image_build.py), for each component.

What the final image gets: exactly the component's run-time dependencies at the versions
requirements/dev.lock pins (no test tool, linter or code generator), every file of the
component's package (its migrations, templates, demo data: a package-data line missing
from a pyproject.toml would break the image and nothing else), the console script behind
the image's entry point, and the health check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import built_image
from image_build import BuiltStage, ImageEnvironments
from packaging.requirements import Requirement
from paths import REPO
from repository import COMPONENTS

LOCK = REPO / "requirements" / "dev.lock"
NOT_AT_RUN_TIME = {
    "pasar-testkit",
    "pytest",
    "ruff",
    "mypy",
    "grpcio-tools",
    "mypy-protobuf",
    "playwright",
    "setuptools",
    "pip",
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extras_the_lock_asks_for() -> dict[str, tuple[str, ...]]:
    """Extras requirements/dev.in asks for on third-party packages (pymysql[rsa])."""
    text = (REPO / "requirements" / "dev.in").read_text()
    return {
        normalise(match.group(1)): tuple(sorted(extra.strip() for extra in match.group(2).split(",")))
        for match in re.finditer(r"^([A-Za-z0-9._-]+)\[([^\]]+)\]", text, re.MULTILINE)
    }


def runtime_closure(distribution: str) -> set[str]:
    """The distributions a component needs at run time, from the installed metadata here,
    with the extras the lock asks for (the image installs from the lock)."""
    lock_extras = extras_the_lock_asks_for()
    seen: set[tuple[str, tuple[str, ...]]] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(distribution, ())]
    while pending:
        name, extras = pending.pop()
        extras = tuple(sorted({*extras, *lock_extras.get(normalise(name), ())}))
        if (normalise(name), extras) in seen:
            continue
        seen.add((normalise(name), extras))
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                pending.append((requirement.name, tuple(sorted(requirement.extras))))
    return {name for name, _ in seen}


def installed(image: BuiltStage) -> dict[str, str]:
    """name -> version of what the image's environment holds."""
    python = image.path("/opt/pasar/bin/python")
    result = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m\n"
            "for d in m.distributions(): print(d.metadata['Name'], d.version)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split(" ", 1) for line in result.stdout.splitlines())


def lock_pins() -> dict[str, str]:
    return {
        normalise(match.group(1)): match.group(2)
        for match in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", LOCK.read_text(), re.MULTILINE)
    }


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_image_holds_exactly_the_components_runtime_dependencies_at_the_locked_versions(
    image_environments: ImageEnvironments, component: str
) -> None:
    image = built_image(image_environments, component)
    present = {normalise(name): version for name, version in installed(image).items()}
    assert set(present) == runtime_closure(f"pasar-{component}")
    assert not set(present) & NOT_AT_RUN_TIME
    pins = lock_pins()
    for name, version in present.items():
        if not name.startswith("pasar-"):
            assert version == pins[name], f"{name} {version} is not the locked {pins[name]}"


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_image_holds_no_test_harness(image_environments: ImageEnvironments, component: str) -> None:
    """The harness (pasar-testkit, once pasar_kit.testing, which imports pytest) is for tests only."""
    image = built_image(image_environments, component)
    site = next(image.path("/opt/pasar/lib").glob("python3*/site-packages"))
    assert (site / "pasar_kit").is_dir()
    assert not (site / "pasar_kit" / "testing").exists()
    assert list(site.glob("pasar_testkit*")) == []


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_file_of_the_component_package_is_in_the_image(
    image_environments: ImageEnvironments, component: str
) -> None:
    image = built_image(image_environments, component)
    package = COMPONENTS[component].package
    source = REPO / COMPONENTS[component].folder / "src" / package
    site = next(image.path("/opt/pasar/lib").glob(f"python3*/site-packages/{package}"))
    expected = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    shipped = {
        path.relative_to(site).as_posix() for path in site.rglob("*") if "__pycache__" not in path.parts
    }
    assert expected - shipped == set(), "files the wheel leaves out (pyproject.toml package-data?)"


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_entry_point_is_the_components_console_script(
    image_environments: ImageEnvironments, component: str
) -> None:
    image = built_image(image_environments, component)
    entry = image.path("/opt/pasar/bin/pasar-component")
    assert os.readlink(entry) == f"pasar-{component}"
    result = subprocess.run([str(entry), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert f"pasar-{component}" in result.stdout


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_health_check_is_installed_and_says_unhealthy_when_nothing_listens(
    image_environments: ImageEnvironments, component: str
) -> None:
    image = built_image(image_environments, component)
    check = image.path("/opt/pasar/bin/pasar-healthcheck")
    assert check.stat().st_mode & 0o777 == 0o755
    env = {**image.image_env, "PASAR_LISTEN_ADDRESS": "127.0.0.1:9"}  # port 9: nothing listens
    result = subprocess.run([str(check)], capture_output=True, text=True, check=False, env=env, timeout=30)
    assert result.returncode == 1, result.stderr
    assert component in result.stderr
    assert image.image_env["PASAR_COMPONENT"] == component


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_image_can_log_in_to_mysql_8_without_tls(
    image_environments: ImageEnvironments, component: str
) -> None:
    """MySQL 8's caching_sha2_password full login encrypts the password with the server's RSA
    key when the connection has no TLS: the image's pymysql must be able to (cryptography)."""
    image = built_image(image_environments, component)
    script = (
        "from cryptography.hazmat.primitives.asymmetric import rsa\n"
        "from cryptography.hazmat.primitives import serialization\n"
        "from pymysql import _auth\n"
        "key = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n"
        "public = key.public_key().public_bytes(serialization.Encoding.PEM,"
        " serialization.PublicFormat.SubjectPublicKeyInfo)\n"
        "print(len(_auth.sha2_rsa_encrypt(b'secret', b'0123456789abcdefghij', public)))\n"
    )
    result = subprocess.run(
        [str(image.path("/opt/pasar/bin/python")), "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "256"


def test_the_runtime_requirements_come_from_the_lock_as_they_are(
    image_environments: ImageEnvironments,
) -> None:
    image = built_image(image_environments, "order")
    written = image.path("/src/runtime-requirements.txt").read_text()
    lock = LOCK.read_text()
    entries = [entry for entry in re.split(r"\n(?=[a-z])", written.split("\n", 1)[1]) if entry.strip()]
    assert entries
    for entry in entries:
        assert entry.strip() in lock, f"not as in dev.lock:\n{entry}"
    assert "--hash=sha256:" in written


def test_runtime_requirements_refuses_a_dependency_the_lock_lacks(tmp_path: Path) -> None:
    project = tmp_path / "svc-extra"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "pasar-extra"\nversion = "1.0.0"\ndependencies = ["pasar-kit>=1", "left-pad>=1"]\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "docker" / "python" / "runtime_requirements.py"),
            str(LOCK),
            str(REPO / "contracts" / "python"),
            str(REPO / "libs" / "pasar-kit"),
            str(project),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "left-pad not in the lock" in result.stderr
