"""Builds the artifacts another team installs with its own ecosystem's tools, and nothing else.

``scripts/contracts package --out DIR`` writes, for the version in contracts/VERSION:

- ``DIR/go/``: the Go module laid out as a module proxy (``GOPROXY=file://DIR/go``), its
  zip made by golang.org/x/mod/zip (tools/gomodproxy), the code ``go`` itself checks with;
- ``DIR/npm/pasar-contracts-X.Y.Z.tgz``: ``@pasar/contracts`` compiled to JavaScript with
  ``.d.ts`` declarations, plus the ``google.rpc`` error-detail types, which no npm package
  of protobuf-es 2 ships;
- ``DIR/python/pasar_contracts-X.Y.Z-py3-none-any.whl``: the wheel of contracts/python.

The artifacts are built, never committed. The same tree gives the same bytes: every
timestamp written is the release's date from CHANGELOG.md (npm pack fixes its own).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolchain import BUF, BUILD, CONTRACTS, PYTHON, TOOLS, TSC, ContractsError, read_version, run

NPM_TEMPLATE = "buf.gen.rpc.yaml"
# The compiler options of the npm package's JavaScript and declarations: ES modules that
# plain Node (20+) imports, and bundlers too.
NPM_COMPILER_OPTIONS: dict[str, Any] = {
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "Bundler",
    "lib": ["ES2022"],
    "types": [],
    "strict": True,
    "verbatimModuleSyntax": True,
    "declaration": True,
    "newLine": "lf",
    "rootDir": "src",
    "outDir": "package/dist",
}


@dataclass(frozen=True)
class Artifacts:
    go_proxy: Path
    npm_tarball: Path
    wheel: Path

    def files(self) -> list[Path]:
        return sorted([*(p for p in self.go_proxy.rglob("*") if p.is_file()), self.npm_tarball, self.wheel])


def release_time(version: str, root: Path = CONTRACTS) -> datetime:
    """Midnight UTC of the version's release date, from its CHANGELOG.md heading."""
    changelog = (root / "CHANGELOG.md").read_text()
    match = re.search(rf"^## {re.escape(version)} — (\d{{4}}-\d{{2}}-\d{{2}})$", changelog, re.MULTILINE)
    if match is None:
        raise ContractsError(
            f"CHANGELOG.md has no '## {version} — YYYY-MM-DD' heading: "
            "package builds released versions (scripts/contracts release writes that heading)"
        )
    return datetime.strptime(match[1], "%Y-%m-%d").replace(tzinfo=UTC)


def package(out: Path) -> Artifacts:
    """Builds every artifact of the current version into out (emptied first)."""
    version = read_version()
    when = release_time(version)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return Artifacts(
        go_proxy=go_module_proxy(out / "go", version, when),
        npm_tarball=npm_tarball(out / "npm", version),
        wheel=python_wheel(out / "python", when),
    )


def gomodproxy() -> Path:
    """tools/gomodproxy, built once per version of its source and go.mod, then reused."""
    sources = [TOOLS / "go.mod", TOOLS / "go.sum", *sorted((TOOLS / "gomodproxy").glob("*.go"))]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    binary = BUILD / "bin" / f"gomodproxy-{digest}"
    if not binary.exists():
        run(["go", "build", "-trimpath", "-o", binary, "./gomodproxy"], cwd=TOOLS)
    return binary


def go_module_proxy(proxy: Path, version: str, when: datetime) -> Path:
    """contracts/go as version vX.Y.Z in a module proxy folder."""
    run(
        [
            gomodproxy(),
            "-dir",
            CONTRACTS / "go",
            "-version",
            f"v{version}",
            "-time",
            when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "-out",
            proxy,
        ]
    )
    return proxy


def npm_manifest(version: str) -> dict[str, Any]:
    """package.json of the published package: the workspace's, pointing at compiled code.

    In the repository, contracts/ts/package.json maps imports to the TypeScript sources
    (the storefront compiles them itself); the published package maps them to dist/.
    """
    workspace = json.loads((CONTRACTS / "ts" / "package.json").read_text())
    return {
        "name": workspace["name"],
        "version": version,
        "description": workspace["description"],
        "license": workspace["license"],
        "type": "module",
        "sideEffects": False,
        "exports": {
            "./*.js": {"types": "./dist/*.d.ts", "default": "./dist/*.js"},
            "./package.json": "./package.json",
        },
        "files": ["dist"],
        "dependencies": workspace["dependencies"],
    }


def npm_tarball(dest: Path, version: str) -> Path:
    """Compiles the generated TypeScript and the google.rpc types, and packs them.

    The staging folder is inside the repository so that tsc finds @bufbuild/protobuf in
    its node_modules.
    """
    stage = BUILD / "npm"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(CONTRACTS / "ts" / "src", stage / "ts" / "src")
    run([BUF, "generate", "--template", NPM_TEMPLATE, "-o", stage])
    compile_dir = stage / "ts"
    (compile_dir / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": NPM_COMPILER_OPTIONS, "include": ["src/**/*.ts"]}, indent=2) + "\n"
    )
    run([TSC, "-p", compile_dir / "tsconfig.json"], cwd=compile_dir)
    package_dir = compile_dir / "package"
    (package_dir / "package.json").write_text(json.dumps(npm_manifest(version), indent=2) + "\n")
    dest.mkdir(parents=True, exist_ok=True)
    packed = json.loads(run(["npm", "pack", "--json", "--pack-destination", dest], cwd=package_dir))
    filename: str = packed[0]["filename"]
    return dest / filename


def python_wheel(dest: Path, when: datetime) -> Path:
    """The wheel of a clean copy of contracts/python, with the venv's pinned setuptools."""
    with tempfile.TemporaryDirectory(prefix="pasar-wheel-") as scratch:
        source = Path(scratch) / "python"
        shutil.copytree(
            CONTRACTS / "python",
            source,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"),
        )
        run(
            [
                PYTHON,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
                dest,
                source,
            ],
            env={"SOURCE_DATE_EPOCH": str(int(when.timestamp()))},
        )
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ContractsError(f"pip wheel left {len(wheels)} wheels in {dest}, expected one")
    return wheels[0]
