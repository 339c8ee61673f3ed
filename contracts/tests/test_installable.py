"""Another team installs and uses the contracts as contracts/README.md says, from the artifacts.

``scripts/contracts package`` builds the artifacts into a scratch folder; then, for Go,
TypeScript and Python, the README's marked files are written into a scratch project outside
the repository and the README's marked commands run there exactly as written (only the
artifact folder's placeholder is replaced). Each program decodes a google.rpc.ErrorInfo
and compares its reason with the contracts' generated ErrorReason enum.

Go uses the machine's build and module caches so that a second run is fast; the module
under test itself is removed from the module cache first, as the cache would otherwise
serve the zip of an earlier run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import artifacts
import pytest
from readme_blocks import ARTIFACTS_PLACEHOLDER, Project, projects
from toolchain import CONTRACTS, REPO, read_version

GO_MODULE = "github.com/pasar-shop/pasar/contracts/go"
EXPECTED_LINE = "OUT_OF_STOCK: package pulsa-nusantara-10k"
LANGUAGES = ("go", "ts", "python")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifacts of contracts/VERSION, built by the documented command."""
    out = tmp_path_factory.mktemp("pasar-artifacts")
    result = subprocess.run(
        [REPO / "scripts" / "contracts", "package", "--out", out],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def readme_projects() -> dict[str, Project]:
    return projects((CONTRACTS / "README.md").read_text())


def test_artifacts_carry_the_version(built: Path) -> None:
    version = read_version()
    versions = built / "go" / GO_MODULE / "@v"
    assert (versions / "list").read_text() == f"v{version}\n"
    expected = {"list", *(f"v{version}.{extension}" for extension in ("info", "mod", "zip"))}
    assert {path.name for path in versions.iterdir()} == expected
    assert (built / "npm" / f"pasar-contracts-{version}.tgz").is_file()
    assert (built / "python" / f"pasar_contracts-{version}-py3-none-any.whl").is_file()


def test_artifacts_are_reproducible(built: Path, tmp_path: Path) -> None:
    """The same tree gives the same bytes, so a release's artifacts can be rebuilt and compared."""
    again = artifacts.package(tmp_path / "again")

    def digests(root: Path, files: list[Path]) -> dict[str, str]:
        return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}

    first = sorted(p for p in built.rglob("*") if p.is_file())
    assert digests(tmp_path / "again", again.files()) == digests(built, first)


def test_readme_marks_every_language(readme_projects: dict[str, Project]) -> None:
    assert sorted(readme_projects) == sorted(LANGUAGES)
    for language, project in readme_projects.items():
        assert project.files, f"no file for {language}"
        assert ARTIFACTS_PLACEHOLDER in project.commands, f"{language}'s commands do not use the artifacts"


def go_environment() -> dict[str, str]:
    """The caller's environment, with writable module cache entries so they can be removed."""
    flags = os.environ.get("GOFLAGS", "")
    return {**os.environ, "GOFLAGS": f"{flags} -modcacherw".strip()}


def forget_cached_module(version: str) -> None:
    """Removes this module's version from the Go module cache (only it: nothing else serves it)."""
    found = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True)
    cache = Path(found.stdout.strip())
    for path in (cache / f"{GO_MODULE}@v{version}", cache / "cache" / "download" / GO_MODULE / "@v"):
        if path.exists():
            for directory in [path, *(p for p in path.rglob("*") if p.is_dir())]:
                directory.chmod(0o755)
            shutil.rmtree(path)


def npm_environment() -> dict[str, str]:
    """The caller's environment; npm's cache answers what it holds without asking again."""
    return {
        **os.environ,
        "npm_config_prefer_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
    }


def python_environment() -> dict[str, str]:
    """The caller's environment, minus what would leak the repository's packages in."""
    kept = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**kept, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


ENVIRONMENTS: dict[str, Callable[[], dict[str, str]]] = {
    "go": go_environment,
    "ts": npm_environment,
    "python": python_environment,
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_readme_commands_install_and_use_the_artifacts(
    language: str, built: Path, readme_projects: dict[str, Project], tmp_path: Path
) -> None:
    project = readme_projects[language]
    if language == "go":
        forget_cached_module(read_version())
    directory = tmp_path / language
    directory.mkdir()
    project.write(directory)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", project.script(built)],
        cwd=directory,
        env=ENVIRONMENTS[language](),
        capture_output=True,
        text=True,
        timeout=270,
        check=False,
    )
    assert result.returncode == 0, f"{language} failed:\n{result.stdout}\n{result.stderr}"
    assert EXPECTED_LINE in result.stdout.splitlines(), result.stdout
    if language == "go":  # from the artifacts' proxy folder, not from an earlier run's cache
        assert f"go: downloading {GO_MODULE} v{read_version()}" in result.stderr, result.stderr
