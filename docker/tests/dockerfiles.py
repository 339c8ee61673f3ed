"""Reads Dockerfiles and their .dockerignore files as Docker does, for checks without a Docker engine.

``parse`` splits a Dockerfile into stages and instructions (line continuations, comments,
JSON or shell form); ``BuildContext`` answers which files of the repository a build sees
through a ``Dockerfile.dockerignore``, with the matching rules of Docker's pattern matcher
(the last matching pattern wins, a pattern that matches a parent folder matches what is in
it, ``!`` re-includes). The image-build test uses both to run a build stage's steps.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction (CMD, ENTRYPOINT, SHELL, RUN), or None."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"line {self.line}: {self.keyword} must be a JSON array of strings")
        return [str(item) for item in value]

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        """``--name=value`` flags, then the remaining words (COPY, HEALTHCHECK ...)."""
        words = shlex.split(self.arguments)
        flags: dict[str, str] = {}
        while words and words[0].startswith("--"):
            name, _, value = words.pop(0)[2:].partition("=")
            flags[name] = value
        return flags, words


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    path: Path
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, instruction text) with continuations joined and comments dropped."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and pending):
            continue  # comments, and empty lines inside a continued instruction
        if not stripped:
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].rstrip())
            continue
        pending.append(stripped)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def parse(path: Path) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for number, text in logical_lines(path.read_text()):
        keyword, _, arguments = text.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), number)
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            words = [word for word in words if not word.startswith("--platform")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages:
            if instruction.keyword != "ARG":
                raise ValueError(f"{path}:{number}: only ARG may come before the first FROM")
            name, _, default = instruction.arguments.partition("=")
            global_args[name] = default if "=" in instruction.arguments else None
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(path, global_args, stages)


def expand(text: str, values: Mapping[str, str]) -> str:
    """``$NAME``, ``${NAME}`` and ``${NAME:-default}`` as Dockerfile instructions expand them."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        value = values.get(name, "")
        if not value and match.group(2) is not None:
            return match.group(2)
        return value

    return VARIABLE.sub(substitute, text)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            if pattern.startswith("/", index):
                parts[-1] = "(?:.*/)?"
                index += 1
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts))


@dataclass(frozen=True)
class BuildContext:
    """The files of root that a build sees, after its .dockerignore."""

    root: Path
    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def for_dockerfile(cls, dockerfile: Path, root: Path) -> BuildContext:
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
        if not ignore.exists():
            ignore = root / ".dockerignore"
        rules: list[tuple[bool, re.Pattern[str]]] = []
        if ignore.exists():
            for raw in ignore.read_text().splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                include = line.startswith("!")
                pattern = line.removeprefix("!").strip().strip("/")
                rules.append((include, _pattern_regex(pattern)))
        return cls(root, tuple(rules))

    def includes(self, relative: str) -> bool:
        """Is this file (a path relative to the context root) sent to the build?"""
        parts = relative.split("/")
        candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        included = True
        for include, pattern in self.rules:
            if any(pattern.fullmatch(candidate) for candidate in candidates):
                included = include
        return included

    def files_under(self, relative: str) -> list[Path]:
        """The files a COPY of relative (a file or a folder of the context) copies."""
        source = self.root / relative
        if source.is_file():
            return [source] if self.includes(relative) else []
        files = []
        for path in sorted(source.rglob("*")):
            if path.is_file() and self.includes(path.relative_to(self.root).as_posix()):
                files.append(path)
        return files
