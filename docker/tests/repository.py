"""What the code says about itself, for checking the deployment files against it.

The components and their folders, console scripts and commands (from the pyproject.toml
files and the command lines themselves), the port each listens on by default (from the
code's defaults), and the environment variables each one reads: found in its source with
``ast`` (every ``env.string("NAME")``, ``env.integer(...)``, ... and ``os.environ`` read,
with module constants and f-strings such as ``f"{PREFIX}_{key}_ADDRESS"`` resolved), plus
those of the pasar_kit modules it imports, plus the image's health check. And what
CONTRIBUTING.md's "Configuration" table says.

The fulfillment service is written in Go (svc-fulfillment): what it reads is every
``"PASAR_…"`` or ``"DATABASE_URL"`` string literal of its non-test Go source (its settings
name each variable once, as a literal or a constant, or build it as ``"PASAR_" + … +
"_CALLER_TOKEN"``), its secrets are its ``env.Secret("…")``
reads, its port is its ``DefaultListenAddress`` constant, and its command line is its
built binary's (pasar_testkit.go_service).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from paths import DOCKER, REPO

ENV_METHODS = frozenset({"string", "integer", "number", "flag", "optional", "secret"})
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
KIT_SOURCE = REPO / "libs" / "pasar-kit" / "src"
HEALTHCHECK = DOCKER / "python" / "healthcheck.py"


@dataclass(frozen=True)
class Component:
    """A Python component of the repository, as the images and manifests name it."""

    name: str  # product, payment, order, gateway
    folder: str  # svc-product, ..., gateway-flask
    package: str  # pasar_product, ..., pasar_gateway

    @property
    def path(self) -> Path:
        return REPO / self.folder

    @property
    def is_service(self) -> bool:
        return self.name != "gateway"

    def pyproject(self) -> dict[str, object]:
        data: dict[str, object] = tomllib.loads((self.path / "pyproject.toml").read_text())["project"]
        return data

    def console_scripts(self) -> dict[str, str]:
        scripts = self.pyproject().get("scripts", {})
        assert isinstance(scripts, dict)
        return {str(name): str(target) for name, target in scripts.items()}

    @property
    def version(self) -> str:
        return str(self.pyproject()["version"])


COMPONENTS = {
    component.name: component
    for component in (
        Component("product", "svc-product", "pasar_product"),
        Component("payment", "svc-payment", "pasar_payment"),
        Component("order", "svc-order", "pasar_order"),
        Component("gateway", "gateway-flask", "pasar_gateway"),
    )
}
SERVICES = tuple(name for name, component in COMPONENTS.items() if component.is_service)
# The gRPC service written in Go, and every deployed gRPC service.
GO_SERVICE = "fulfillment"
GO_SOURCE = REPO / "svc-fulfillment"
DEPLOYED_SERVICES = (*SERVICES, GO_SERVICE)
GO_SETTINGS = GO_SOURCE / "internal" / "config" / "settings.go"
GO_ENV_NAME = re.compile(r'"((?:PASAR_[A-Z0-9_]+)|DATABASE_URL)"')
# A name built at run time: "PASAR_" + strings.ToUpper(name) + "_CALLER_TOKEN".
GO_BUILT_NAME = re.compile(r'"PASAR_"\s*\+[^\n]*\+\s*"(_[A-Z0-9_]+)"')
GO_SECRET = re.compile(r'\.Secret\(\s*"([A-Z][A-Z0-9_]*)"')
GO_DEFAULT_LISTEN = re.compile(r'DefaultListenAddress\s*=\s*"([^"]+)"')


@cache
def default_port(name: str) -> int:
    """The port the component listens on when nothing is configured, from its own code."""
    from pasar_kit.config import Env

    if name == GO_SERVICE:
        found = GO_DEFAULT_LISTEN.search(GO_SETTINGS.read_text())
        assert found, f"no DefaultListenAddress in {GO_SETTINGS}"
        address = found.group(1)
    elif name == "gateway":
        from pasar_gateway.main import HttpServerSettings

        address = HttpServerSettings.from_env(Env({})).listen_address
    else:
        config = __import__(f"{COMPONENTS[name].package}.config", fromlist=["DEFAULT_LISTEN_ADDRESS"])
        address = str(config.DEFAULT_LISTEN_ADDRESS)
    return int(address.rpartition(":")[2])


@cache
def accepts_arguments(name: str, arguments: tuple[str, ...]) -> bool:
    """Does the component's console script accept these arguments?

    It runs them with a DATABASE_URL and a PASAR_PORT that cannot work: a command line it
    accepts gets as far as reading its settings and stops there, naming the variable
    (status 2); one it refuses stops earlier with argparse's usage message.
    """
    script = go_binary() if name == GO_SERVICE else Path(sys.executable).parent / f"pasar-{name}"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "nowhere://", "PASAR_PORT": "not-a-port"}
    result = subprocess.run(
        [str(script), *arguments], capture_output=True, text=True, check=False, timeout=60, env=env
    )
    refused = "usage:" in result.stderr or "flag provided but not defined" in result.stderr
    reached_settings = "DATABASE_URL" in result.stderr or "PASAR_PORT" in result.stderr
    return result.returncode == 2 and reached_settings and not refused


# --- environment variables the code reads -------------------------------------------------


@dataclass(frozen=True)
class EnvReads:
    """Variable names read, exactly, and patterns for names built at run time."""

    names: frozenset[str]
    patterns: frozenset[str]

    def __or__(self, other: EnvReads) -> EnvReads:
        return EnvReads(self.names | other.names, self.patterns | other.patterns)

    def covers(self, name: str) -> bool:
        return name in self.names or any(re.fullmatch(pattern, name) for pattern in self.patterns)


def _constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _name_of(node: ast.expr, constants: dict[str, str]) -> tuple[str | None, str | None]:
    """(exact name, or None; regex pattern, or None) of the expression naming a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, None
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id], None
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        dynamic = False
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(re.escape(value.value))
            elif (
                isinstance(value, ast.FormattedValue)
                and isinstance(value.value, ast.Name)
                and value.value.id in constants
            ):
                parts.append(re.escape(constants[value.value.id]))
            else:
                parts.append("[A-Z0-9_]+")
                dynamic = True
        pattern = "".join(parts)
        if not dynamic:
            return re.sub(r"\\(.)", r"\1", pattern), None
        return None, pattern
    return None, None


def reads_in_source(source: str) -> EnvReads:
    tree = ast.parse(source)
    constants = _constants(tree)
    names: set[str] = set()
    patterns: set[str] = set()
    for node in ast.walk(tree):
        argument: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            attribute = node.func.attr
            owner = ast.unparse(node.func.value)
            if (
                attribute in ENV_METHODS
                or (attribute == "get" and owner == "os.environ")
                or (attribute == "getenv" and owner == "os")
            ):
                argument = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            argument = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.endswith("Setting")
            and node.args
        ):
            # A record naming a setting that its Env reads later, such as the gateway's
            # RateLimitSetting(f"{PREFIX}_ORDER_RATE_LIMIT", ...): its first argument.
            argument = node.args[0]
        if argument is None:
            continue
        name, pattern = _name_of(argument, constants)
        if name is not None and ENV_NAME.match(name):
            names.add(name)
        elif pattern is not None and pattern.startswith(("PASAR", "DATABASE", "SMTP")):
            patterns.add(pattern)
    return EnvReads(frozenset(names), frozenset(patterns))


def _python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "migrations" not in path.parts)


def _kit_modules_imported(files: Iterable[Path]) -> set[str]:
    modules: set[str] = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pasar_kit"):
                modules.add(node.module)
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names if alias.name.startswith("pasar_kit"))
    return modules


def _kit_file(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (KIT_SOURCE / relative.with_suffix(".py"), KIT_SOURCE / relative / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@cache
def kit_files(modules: frozenset[str]) -> frozenset[Path]:
    """The kit modules' files, with the kit modules they import in turn (not the test helpers)."""
    seen: set[Path] = set()
    pending = [file for module in modules if (file := _kit_file(module))]
    while pending:
        file = pending.pop()
        if file in seen or "testing" in file.parts:
            continue
        seen.add(file)
        pending.extend(f for module in _kit_modules_imported([file]) if (f := _kit_file(module)))
    return frozenset(seen)


@cache
def kit_reads(modules: frozenset[str]) -> EnvReads:
    """What the kit modules read, with the kit modules they import in turn."""
    reads = EnvReads(frozenset(), frozenset())
    for file in sorted(kit_files(modules)):
        reads |= reads_in_source(file.read_text())
    return reads


# OpenTelemetry's own settings (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, ...): the SDK reads
# them, in every component that configures tracing (pasar_kit.telemetry; the Go SDK).
OTEL_SETTINGS = EnvReads(frozenset(), frozenset({"OTEL_[A-Z0-9_]+"}))
KIT_TELEMETRY = KIT_SOURCE / "pasar_kit" / "telemetry.py"
GO_OTEL_SDK = re.compile(r'"go\.opentelemetry\.io/otel/sdk/trace"')


@cache
def configures_tracing(name: str) -> bool:
    """Does the component set up OpenTelemetry (so that the SDK reads the OTEL_* variables)?"""
    if name == GO_SERVICE:
        return any(GO_OTEL_SDK.search(file.read_text()) for file in _go_files())
    files = _python_files(COMPONENTS[name].path / "src")
    return KIT_TELEMETRY in kit_files(frozenset(_kit_modules_imported(files)))


@cache
def go_binary() -> Path:
    """svc-fulfillment, built from the working tree as the tests build it."""
    from pasar_testkit.go_service import build_fulfillment

    return build_fulfillment()


def _go_files() -> list[Path]:
    return sorted(path for path in GO_SOURCE.rglob("*.go") if not path.name.endswith("_test.go"))


@cache
def go_reads() -> EnvReads:
    """The variables the Go service's own source names."""
    sources = [file.read_text() for file in _go_files()]
    names = {name for source in sources for name in GO_ENV_NAME.findall(source)}
    built = {
        f"PASAR_[A-Z0-9_]+{re.escape(suffix)}"
        for source in sources
        for suffix in GO_BUILT_NAME.findall(source)
    }
    return EnvReads(frozenset(names), frozenset(built))


@cache
def component_reads(name: str) -> EnvReads:
    """Every variable the component's own code and the kit code it uses read."""
    otel = OTEL_SETTINGS if configures_tracing(name) else EnvReads(frozenset(), frozenset())
    if name == GO_SERVICE:
        return go_reads() | otel
    files = _python_files(COMPONENTS[name].path / "src")
    reads = EnvReads(frozenset(), frozenset())
    for file in files:
        reads |= reads_in_source(file.read_text())
    return reads | kit_reads(frozenset(_kit_modules_imported(files))) | otel


@cache
def healthcheck_reads() -> EnvReads:
    """What the images' health check reads (it runs in every Python container)."""
    return reads_in_source(HEALTHCHECK.read_text()) | kit_reads(
        frozenset(_kit_modules_imported([HEALTHCHECK]))
    )


def container_reads(name: str) -> EnvReads:
    """What a container of the component's image reads: the component and the health check
    (the Go image's probe is the binary's own)."""
    if name == GO_SERVICE:
        return component_reads(name)
    return component_reads(name) | healthcheck_reads()


@cache
def secrets_read(name: str) -> frozenset[str]:
    """The variables the component reads with env.secret: required when PASAR_ENV is production."""
    if name == GO_SERVICE:
        return frozenset(name for file in _go_files() for name in GO_SECRET.findall(file.read_text()))
    secrets: set[str] = set()
    for file in _python_files(COMPONENTS[name].path / "src"):
        tree = ast.parse(file.read_text())
        constants = _constants(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "secret"
                and node.args
            ):
                found, _ = _name_of(node.args[0], constants)
                if found:
                    secrets.add(found)
    return frozenset(secrets)


# --- CONTRIBUTING.md ----------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentedVariable:
    name: str
    read_by: frozenset[str]  # component names
    meaning: str


READERS = {
    "all": {*COMPONENTS, GO_SERVICE},
    "services": set(DEPLOYED_SERVICES),
    "each service": set(DEPLOYED_SERVICES),
    "callers": {"gateway", "order"},
}


def documented_variables() -> dict[str, DocumentedVariable]:
    """CONTRIBUTING.md's "Configuration" table: variable -> which components read it."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    found: dict[str, DocumentedVariable] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        readers: set[str] = set()
        for written in re.sub(r"`[^`]*`", "", cells[1]).split(","):
            word = written.strip()
            if word in READERS:
                readers |= READERS[word]
            elif word in COMPONENTS or word == GO_SERVICE:
                readers.add(word)
        for name in names:
            found[name] = DocumentedVariable(name, frozenset(readers), cells[2])
    return found
