"""Fails when an error reason is spelled as a string literal outside generated code.

The contracts' `ErrorReason` enums are the one source of the reasons (their value names
are the `ErrorInfo.reason` strings on the wire). Code that raises, compares or
translates a reason uses the generated names (`ErrorReason.Name(ErrorReason.OUT_OF_STOCK)`
in Python, `ErrorReason[ErrorReason.OUT_OF_STOCK]` in TypeScript,
`productv1.ErrorReason_OUT_OF_STOCK.String()` in Go), so that a reason the contracts
rename or drop breaks the build instead of silently never matching. A quoted reason
name anywhere else, tests included, is reported with its file and line.

Usage: python scripts/lib/reason_literals.py [PATH...]   (default: the repository's tracked files)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2

from pasar_contracts.error_reasons import documented_reasons

REPO = Path(__file__).resolve().parents[2]
DESCRIPTOR_SET = REPO / "contracts/python/src/pasar_contracts/descriptor_set.binpb"

# The languages whose string literals are checked, with the characters that quote one
# (a backtick in Python is Markdown inside a string, not a quote).
QUOTES = {
    ".py": "\"'",
    ".pyi": "\"'",
    ".ts": "\"'`",
    ".vue": "\"'`",
    ".js": "\"'`",
    ".mjs": "\"'`",
    ".go": '"`',
}
SOURCE_SUFFIXES = tuple(QUOTES)
# Generated code, which spells every reason by construction.
GENERATED = re.compile(r"(_pb2(_grpc)?\.pyi?|_pb\.ts|\.pb\.go)$")
GENERATED_FOLDERS = ("contracts/python/src/", "contracts/go/pasar/", "contracts/ts/src/")


@dataclass(frozen=True)
class ReasonLiteral:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: the error reason {self.reason} spelled as a string literal"


def reason_names(descriptor_set: Path = DESCRIPTOR_SET) -> frozenset[str]:
    """Every value name of every ErrorReason enum of the contracts, but the zero value."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    return frozenset(reason.name for reason in documented_reasons(files))


def is_generated(relative: str) -> bool:
    return relative.startswith(GENERATED_FOLDERS) or GENERATED.search(relative) is not None


def find_reason_literals(
    paths: Iterable[Path], names: frozenset[str], root: Path = REPO
) -> Iterator[ReasonLiteral]:
    """The reason names quoted as a string in the given source files ("X", 'X', `X` in JS)."""
    alternatives = "|".join(sorted(names))
    patterns = {
        suffix: re.compile("([" + re.escape(quotes) + "])(" + alternatives + r")\1")
        for suffix, quotes in QUOTES.items()
    }
    for path in paths:
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        if not path.name.endswith(SOURCE_SUFFIXES) or is_generated(relative):
            continue
        quoted = patterns[path.suffix]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in quoted.finditer(line):
                yield ReasonLiteral(Path(relative), number, match.group(2))


def tracked_files(root: Path = REPO) -> list[Path]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    return [root / name for name in listing.decode().split("\0") if name and (root / name).is_file()]


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or tracked_files()
    found = list(find_reason_literals(paths, reason_names()))
    for literal in found:
        print(literal, file=sys.stderr)
    if found:
        print(
            f"{len(found)} error reason(s) spelled by hand: use the contracts' generated ErrorReason names",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
