"""Drives the contracts: generate code, check everything CI guards, cut releases, package them.

Run through ``scripts/contracts generate|check|release X.Y.Z|package --out DIR``, which
first installs the pinned toolchain (buf and protoc-gen-es from npm, protoc-gen-go and protoc-gen-go-grpc from
the Go module proxy, grpcio-tools and mypy-protobuf from PyPI). Every step calls those
tools; this module only orders them and explains failures.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import re
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import artifacts
import reason_table
from google.api import annotations_pb2 as google_api_annotations
from google.protobuf import descriptor_pb2
from google.rpc import status_pb2 as google_rpc_status
from toolchain import (
    BUF,
    BUILD,
    CONTRACTS,
    PYTHON,
    REPO,
    SEMVER,
    THIRD_PARTY,
    TSC,
    ContractsError,
    read_version,
    run,
)

# buf/validate/validate.proto comes from this source distribution on PyPI; the hash pins it.
PROTOVALIDATE_SDIST = "protovalidate==1.2.0"
PROTOVALIDATE_SDIST_SHA256 = "4cb9a5065f32abc9baf2cf25c5bd09a139f7dffb7b8692f636a8e3e6883bb9a2"
VALIDATE_PROTO_IN_SDIST = "upstream/proto/buf/validate/validate.proto"
# google/api/{annotations,http}.proto come from the installed googleapis-common-protos,
# and so do google/rpc/{error_details,status}.proto, which only the npm package compiles
# (protobuf's runtimes in Go and Python have their own).
GOOGLE_API_PROTOS = ("annotations.proto", "http.proto")
GOOGLE_RPC_PROTOS = ("error_details.proto", "status.proto")

# Everything under these paths (relative to contracts/) is written by `generate` and
# nothing else; `check` fails when any of it differs from a fresh generation.
GENERATED_TREES = ("python/src/pasar", "python/src/buf", "go/pasar", "ts/src")
GENERATED_FILES = (
    "python/src/pasar_contracts/_version.py",
    "python/src/pasar_contracts/descriptor_set.binpb",
    "python/src/pasar_contracts/pasar.openapi.json",
    "openapi/pasar.openapi.json",
)
README = "README.md"
# How README.md names the version in its install commands; `release` rewrites them and
# `check` fails when one names another version than contracts/VERSION.
README_INSTALL_VERSIONS = (
    re.compile(r"(?<=contracts/go@v)(\d+\.\d+\.\d+)"),
    re.compile(r"(?<=pasar-contracts-)(\d+\.\d+\.\d+)(?=\.tgz)"),
    re.compile(r"(?<=pasar_contracts-)(\d+\.\d+\.\d+)(?=-py3-none-any\.whl)"),
)


def version_key(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def released_versions(root: Path = CONTRACTS) -> list[str]:
    """Released versions, oldest first, from the images under releases/."""
    versions = [
        path.name[1 : -len(".binpb")]
        for path in (root / "releases").glob("v*.binpb")
        if SEMVER.match(path.name[1 : -len(".binpb")])
    ]
    return sorted(versions, key=version_key)


def stage_third_party() -> None:
    """Puts the imported third-party .proto files under .build/third_party/."""
    google_api = THIRD_PARTY / "google" / "api"
    google_api.mkdir(parents=True, exist_ok=True)
    installed = Path(google_api_annotations.__file__).parent
    for name in GOOGLE_API_PROTOS:
        shutil.copyfile(installed / name, google_api / name)
    google_rpc = THIRD_PARTY / "google" / "rpc"
    google_rpc.mkdir(parents=True, exist_ok=True)
    for name in GOOGLE_RPC_PROTOS:
        shutil.copyfile(Path(google_rpc_status.__file__).parent / name, google_rpc / name)

    validate = THIRD_PARTY / "buf" / "validate" / "validate.proto"
    if validate.exists():
        return
    cache = BUILD / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"{PROTOVALIDATE_SDIST.replace('==', '-')}.tar.gz"
    if not sdist.exists():
        run(
            [
                PYTHON,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                cache,
                PROTOVALIDATE_SDIST,
            ]
        )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != PROTOVALIDATE_SDIST_SHA256:
        sdist.unlink()
        raise ContractsError(f"{sdist.name} has sha256 {digest}, expected {PROTOVALIDATE_SDIST_SHA256}")
    with tarfile.open(sdist) as archive:
        member = archive.getmember(f"{sdist.name[: -len('.tar.gz')]}/{VALIDATE_PROTO_IN_SDIST}")
        source = archive.extractfile(member)
        if source is None:
            raise ContractsError(f"{VALIDATE_PROTO_IN_SDIST} is not a file in {sdist.name}")
        validate.parent.mkdir(parents=True, exist_ok=True)
        validate.write_bytes(source.read())


def generate_into(dest: Path, root: Path = CONTRACTS) -> None:
    """Generates every language's code into dest, laid out as in contracts/."""
    for template in ("buf.gen.yaml", "buf.gen.validate.yaml", "buf.gen.openapi.yaml"):
        run([BUF, "generate", "--template", template, "-o", dest], cwd=root)
    python_src = dest / "python" / "src"
    for tree in ("pasar", "buf"):
        for directory in [python_src / tree, *sorted((python_src / tree).rglob("*"))]:
            if directory.is_dir():
                (directory / "__init__.py").touch()
        (python_src / tree / "py.typed").touch()
    package = python_src / "pasar_contracts"
    package.mkdir(parents=True, exist_ok=True)
    (package / "_version.py").write_text(
        '"""Generated by scripts/contracts from contracts/VERSION; do not edit."""\n\n'
        f'__version__ = "{read_version(root)}"\n'
    )
    run(
        [BUF, "build", "proto", "--as-file-descriptor-set", "-o", package / "descriptor_set.binpb"],
        cwd=root,
    )


def error_reason_table(root: Path = CONTRACTS) -> str:
    """The README's table of ErrorInfo.reason values, from the enums' source comments."""
    with tempfile.TemporaryDirectory(prefix="pasar-image-") as scratch:
        image = Path(scratch) / "with_comments.binpb"
        run([BUF, "build", "proto", "--as-file-descriptor-set", "-o", image], cwd=root)
        files = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    return reason_table.render(reason_table.reasons(files))


def write_error_reason_table(root: Path = CONTRACTS) -> None:
    path = root / README
    path.write_text(reason_table.with_table(path.read_text(), error_reason_table(root)))


def with_install_version(readme: str, version: str) -> str:
    """The README with every install command naming version."""
    for pattern in README_INSTALL_VERSIONS:
        readme = pattern.sub(version, readme)
    return readme


def stale_readme(root: Path = CONTRACTS) -> list[str]:
    """Where README.md disagrees with the contracts: its reason table or its install versions."""
    readme = (root / README).read_text()
    problems = []
    if reason_table.with_table(readme, error_reason_table(root)) != readme:
        problems.append(
            "the ErrorInfo.reason table differs from the ErrorReason enums' comments: "
            "run `scripts/contracts generate` and commit"
        )
    version = read_version(root)
    for pattern in README_INSTALL_VERSIONS:
        named = sorted(set(pattern.findall(readme)))
        if named != [version]:
            problems.append(
                f"install commands matching /{pattern.pattern}/ name {named or 'nothing'}, "
                f"not contracts/VERSION {version}"
            )
    return problems


def generated_paths(root: Path) -> list[Path]:
    """Every generated file under root, relative to it."""
    found: list[Path] = []
    for tree in GENERATED_TREES:
        found.extend(
            p.relative_to(root)
            for p in (root / tree).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts  # bytecode of running the code
        )
    found.extend(Path(f) for f in GENERATED_FILES if (root / f).is_file())
    return sorted(found)


def generate() -> None:
    """Regenerates the committed code in place."""
    stage_third_party()
    with tempfile.TemporaryDirectory(prefix="pasar-gen-") as scratch:
        fresh = Path(scratch)
        generate_into(fresh)
        for tree in GENERATED_TREES:
            shutil.rmtree(CONTRACTS / tree, ignore_errors=True)
        for relative in generated_paths(fresh):
            target = CONTRACTS / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / relative, target)
    set_package_json_version(read_version())
    write_error_reason_table()


def stale_generated_code(root: Path = CONTRACTS) -> list[str]:
    """Generated files that differ from, are missing from, or are absent in a fresh run."""
    with tempfile.TemporaryDirectory(prefix="pasar-gen-") as scratch:
        fresh = Path(scratch)
        generate_into(fresh, root)
        expected = set(generated_paths(fresh))
        committed = set(generated_paths(root))
        problems = [f"missing: {p}" for p in sorted(expected - committed)]
        problems += [f"not generated by the current contracts: {p}" for p in sorted(committed - expected)]
        problems += [
            f"differs from a fresh generation: {p}"
            for p in sorted(expected & committed)
            if not filecmp.cmp(fresh / p, root / p, shallow=False)
        ]
    ts_version = json.loads((root / "ts" / "package.json").read_text())["version"]
    if ts_version != read_version(root):
        problems.append(f"ts/package.json has version {ts_version}, contracts/VERSION {read_version(root)}")
    return problems


def set_package_json_version(version: str) -> None:
    path = CONTRACTS / "ts" / "package.json"
    manifest = json.loads(path.read_text())
    if manifest["version"] != version:
        manifest["version"] = version
        path.write_text(json.dumps(manifest, indent=2) + "\n")


# How a workspace's package.json names the version of @pasar/contracts it depends on.
_CONTRACTS_DEPENDENCY = re.compile(r'("@pasar/contracts":\s*")(\d+\.\d+\.\d+)(")')


def pin_workspace_dependents(version: str, repo: Path = REPO) -> None:
    """Points the repository's other npm workspaces (the storefront) at the released version.

    They depend on the exact version of the contracts' workspace, so after ts/package.json
    changes npm would look for the old version in the registry; the lock file follows with
    npm's own update of it.
    """
    workspaces = json.loads((repo / "package.json").read_text())["workspaces"]
    for workspace in workspaces:
        manifest = repo / workspace / "package.json"
        text = manifest.read_text()
        if json.loads(text)["name"] == "@pasar/contracts":
            continue
        pinned = _CONTRACTS_DEPENDENCY.sub(rf"\g<1>{version}\g<3>", text)
        if pinned != text:
            manifest.write_text(pinned)
    run(
        [
            "npm",
            "install",
            "--package-lock-only",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--loglevel=error",
        ],
        cwd=repo,
    )


def check_format(root: Path = CONTRACTS) -> None:
    run([BUF, "format", "--diff", "--exit-code", "proto"], cwd=root)


def check_lint(root: Path = CONTRACTS) -> None:
    run([BUF, "lint", "proto"], cwd=root)


def check_breaking(root: Path = CONTRACTS) -> None:
    """Compares proto/ with the latest released image: wire, JSON and generated-code compatibility."""
    versions = released_versions(root)
    if not versions:
        raise ContractsError("no released image under contracts/releases/ to compare with")
    against = root / "releases" / f"v{versions[-1]}.binpb"
    try:
        run([BUF, "breaking", "proto", "--against", against], cwd=root)
    except ContractsError as error:
        raise ContractsError(f"breaking change against released v{versions[-1]}:\n{error}") from error
    lowered = lowered_idempotency_levels(against, root)
    if lowered:
        listing = "\n  ".join(lowered)
        raise ContractsError(f"breaking change against released v{versions[-1]}:\n  {listing}")


# Idempotency levels from the weakest promise to the strongest.
_IDEMPOTENCY_STRENGTH = {
    descriptor_pb2.MethodOptions.IDEMPOTENCY_UNKNOWN: 0,
    descriptor_pb2.MethodOptions.IDEMPOTENT: 1,
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS: 2,
}


def lowered_idempotency_levels(against: Path, root: Path = CONTRACTS) -> list[str]:
    """The methods whose idempotency_level promises less than in the released image.

    Clients retry and cache by that option, so taking a promise back breaks them; giving
    one is additive. buf's RPC_SAME_IDEMPOTENCY_LEVEL flags both, so buf.yaml leaves it
    out and this check keeps the breaking half.
    """
    with tempfile.TemporaryDirectory(prefix="pasar-image-") as scratch:
        image = Path(scratch) / "current.binpb"
        run([BUF, "build", "proto", "-o", image], cwd=root)
        current = _idempotency_levels(image)
    problems = []
    for name, released in sorted(_idempotency_levels(against).items()):
        now = current.get(name)
        if now is not None and _IDEMPOTENCY_STRENGTH[now] < _IDEMPOTENCY_STRENGTH[released]:
            level = descriptor_pb2.MethodOptions.IdempotencyLevel.Name
            problems.append(f"RPC {name} lowered idempotency_level from {level(released)} to {level(now)}")
    return problems


def _idempotency_levels(image: Path) -> dict[str, descriptor_pb2.MethodOptions.IdempotencyLevel.ValueType]:
    """Every method's idempotency_level in a buf image (a FileDescriptorSet on the wire)."""
    files = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    return {
        f"{file.package}.{service.name}.{method.name}": method.options.idempotency_level
        for file in files.file
        for service in file.service
        for method in service.method
    }


def check_generated() -> None:
    problems = stale_generated_code()
    if problems:
        listing = "\n  ".join(problems)
        raise ContractsError(
            f"generated code is stale; run `scripts/contracts generate` and commit:\n  {listing}"
        )


def check_version() -> None:
    version = read_version()
    versions = released_versions()
    if versions and version_key(version) < version_key(versions[-1]):
        raise ContractsError(f"contracts/VERSION {version} is older than the latest release {versions[-1]}")
    changelog = (CONTRACTS / "CHANGELOG.md").read_text()
    for released in versions:
        if f"## {released}" not in changelog:
            raise ContractsError(f"CHANGELOG.md has no section for released version {released}")


def check_readme() -> None:
    problems = stale_readme()
    if problems:
        raise ContractsError("README.md is stale:\n  " + "\n  ".join(problems))


def check_go() -> None:
    go = CONTRACTS / "go"
    run(["go", "build", "./..."], cwd=go)
    run(["go", "vet", "./..."], cwd=go)
    run(["go", "test", "-count=1", "./..."], cwd=go)


def check_typescript() -> None:
    """Type-checks the generated code strictly, then runs the TypeScript tests.

    The tests are compiled inside contracts/ts/ so that Node resolves their imports from
    the repository's node_modules.
    """
    ts = CONTRACTS / "ts"
    out = ts / ".test-build"
    shutil.rmtree(out, ignore_errors=True)
    run([TSC, "--noEmit", "-p", "tsconfig.json"], cwd=ts)
    run([TSC, "-p", "tsconfig.test.json", "--outDir", out], cwd=ts)
    run(["node", "--test", *sorted(str(p) for p in out.rglob("*.test.js"))], cwd=ts)


def check_python_example() -> None:
    run([PYTHON, "-m", "mypy", "--strict", "examples/python"], cwd=CONTRACTS)


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[], None]


CHECKS = (
    Step("buf format", check_format),
    Step("buf lint (STANDARD)", check_lint),
    Step("buf breaking (FILE) against the latest release", check_breaking),
    Step("version and changelog", check_version),
    Step("generated code is fresh", check_generated),
    Step("README: reason table from the enums, install commands of VERSION", check_readme),
    Step("Go: build, vet and test", check_go),
    Step("TypeScript: tsc --strict and tests", check_typescript),
    Step("Python: mypy --strict on the example client", check_python_example),
)


def check() -> int:
    """Runs every check, reporting each, and returns the number that failed."""
    stage_third_party()
    failures = 0
    for step in CHECKS:
        try:
            step.action()
        except ContractsError as error:
            failures += 1
            print(f"FAIL  {step.name}\n{error}\n", flush=True)
        else:
            print(f"ok    {step.name}", flush=True)
    return failures


def release(version: str) -> None:
    """Cuts a release: checks the contracts, writes the image, bumps the version everywhere."""
    if not SEMVER.match(version):
        raise ContractsError(f"{version!r} is not a semantic version X.Y.Z")
    versions = released_versions()
    if versions and version_key(version) <= version_key(versions[-1]):
        raise ContractsError(f"{version} is not newer than the latest release {versions[-1]}")
    stage_third_party()
    check_format()
    check_lint()
    if versions:
        check_breaking()
    changelog_path = CONTRACTS / "CHANGELOG.md"
    changelog = changelog_path.read_text()
    if "## Unreleased" not in changelog:
        raise ContractsError("CHANGELOG.md needs an '## Unreleased' section describing the release")
    (CONTRACTS / "VERSION").write_text(version + "\n")
    changelog_path.write_text(
        changelog.replace("## Unreleased", f"## Unreleased\n\n## {version} — {date.today().isoformat()}", 1)
    )
    run([BUF, "build", "proto", "-o", CONTRACTS / "releases" / f"v{version}.binpb"])
    readme = CONTRACTS / README
    readme.write_text(with_install_version(readme.read_text(), version))
    generate()
    pin_workspace_dependents(version)
    print(
        f"released {version}: commit contracts/ (and the storefront's pin of it in "
        f"storefront-vue/package.json and package-lock.json), tag the Go module with "
        f"`git tag contracts/go/v{version}`, and build what teams install with "
        f"`scripts/contracts package --out DIR`"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/contracts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="regenerate Python, Go and TypeScript code")
    commands.add_parser("check", help="run every contract check CI runs")
    release_parser = commands.add_parser("release", help="release the contracts as version X.Y.Z")
    release_parser.add_argument("version")
    package_parser = commands.add_parser(
        "package", help="build the Go module proxy folder, npm tarball and wheel of VERSION"
    )
    package_parser.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            generate()
        elif args.command == "check":
            return 1 if check() else 0
        elif args.command == "package":
            stage_third_party()
            built = artifacts.package(args.out.resolve())
            for path in built.files():
                print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}")
        else:
            release(args.version)
    except ContractsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
