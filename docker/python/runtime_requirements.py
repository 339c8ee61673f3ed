"""Prints one Pasar component's run-time requirements, pinned and hashed, out of requirements/dev.lock.

The container images install nothing that the repository's one lock file does not pin.
Starting from the dependencies the component's pyproject.toml files name (the component,
pasar-kit and pasar-contracts, with the extras they ask for), it follows the lock's
``# via`` annotations to every package those pull in, and prints their entries of the lock
as they stand (version and hashes). Linters, test tools and code generators stay out.

    python runtime_requirements.py requirements/dev.lock contracts/python libs/pasar-kit svc-order

The Dockerfile installs the result with ``pip --require-hashes``, which refuses a package
the list lacks, and then runs ``pip check``. Only the standard library is used: the build
stage has nothing else.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+")


class LockError(Exception):
    """The lock cannot give what the components need; the message says what to do."""


def normalise(name: str) -> str:
    """The PEP 503 form of a distribution name: pasar_kit, Pasar.Kit and pasar-kit are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, set[str]]:
    """The distribution name and extras of a PEP 508 requirement string."""
    match = REQUIREMENT.match(text)
    if match is None:
        raise LockError(f"cannot read the requirement {text!r}")
    extras = {normalise(extra) for extra in (match.group(2) or "").split(",") if extra.strip()}
    return normalise(match.group(1)), extras


@dataclass
class LockEntry:
    """One package of the lock: its lines as written (pin and hashes) and who pulls it in."""

    name: str
    lines: list[str] = field(default_factory=list)
    required_by: set[str] = field(default_factory=set)


def read_lock(text: str) -> dict[str, LockEntry]:
    """The entries of a uv/pip-tools lock file with hashes and ``# via`` annotations."""
    entries: dict[str, LockEntry] = {}
    current: LockEntry | None = None
    in_via = False
    for line in text.splitlines():
        match = LOCK_ENTRY.match(line)
        if match:
            current = LockEntry(normalise(match.group(1)), [line])
            entries[current.name] = current
            in_via = False
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("--hash="):
            current.lines.append(line)
        elif stripped.startswith("# via"):
            in_via = True
            rest = stripped.removeprefix("# via").strip()
            if rest:
                current.required_by.add(_via_name(rest))
        elif in_via and stripped.startswith("#"):
            current.required_by.add(_via_name(stripped.lstrip("#").strip()))
        else:
            in_via = False
    return entries


def _via_name(text: str) -> str:
    # "-r requirements/dev.in" marks a direct entry; anything else is a package name.
    return text if text.startswith("-r") else normalise(text.split(maxsplit=1)[0])


@dataclass(frozen=True)
class Project:
    """A component of the repository, as its pyproject.toml describes it."""

    name: str
    dependencies: tuple[str, ...]
    extras: dict[str, tuple[str, ...]]

    @classmethod
    def read(cls, folder: Path) -> Project:
        data = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        extras = {
            normalise(name): tuple(values) for name, values in data.get("optional-dependencies", {}).items()
        }
        return cls(normalise(data["name"]), tuple(data.get("dependencies", ())), extras)


def third_party_roots(projects: list[Project]) -> set[str]:
    """The third-party packages the projects name, with the extras of one another they ask for."""
    local = {project.name: project for project in projects}
    roots: set[str] = set()
    pending = [(project.name, requirement) for project in projects for requirement in project.dependencies]
    seen_extras: set[tuple[str, str]] = set()
    while pending:
        owner, requirement = pending.pop()
        name, extras = parse_requirement(requirement)
        if name not in local:
            roots.add(name)
            continue
        for extra in extras:
            if (name, extra) in seen_extras:
                continue
            seen_extras.add((name, extra))
            if extra not in local[name].extras:
                raise LockError(f"{owner} asks for {name}[{extra}], which {name} does not define")
            pending.extend((name, needed) for needed in local[name].extras[extra])
    return roots


def runtime_closure(lock: dict[str, LockEntry], roots: set[str]) -> list[LockEntry]:
    """The roots and everything the lock says they pull in, in the lock's order."""
    missing = sorted(root for root in roots if root not in lock)
    if missing:
        raise LockError(
            f"{', '.join(missing)} not in the lock: add them to requirements/dev.in and run scripts/lock"
        )
    needed = set(roots)
    grew = True
    while grew:
        grew = False
        for entry in lock.values():
            if entry.name not in needed and entry.required_by & needed:
                needed.add(entry.name)
                grew = True
    return [entry for entry in lock.values() if entry.name in needed]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    lock_file, *folders = argv
    try:
        lock = read_lock(Path(lock_file).read_text())
        projects = [Project.read(Path(folder)) for folder in folders]
        entries = runtime_closure(lock, third_party_roots(projects))
    except (LockError, OSError, KeyError, tomllib.TOMLDecodeError) as error:
        print(f"runtime_requirements: {error}", file=sys.stderr)
        return 1
    names = ", ".join(project.name for project in projects)
    print(
        f"# Run-time requirements of {names}, taken from {lock_file} by docker/python/runtime_requirements.py"
    )
    for entry in entries:
        print("\n".join(entry.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
