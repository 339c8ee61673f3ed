"""Where the contracts and their pinned tools are, and how a step runs one of those tools.

Shared by the modules under contracts/tools/ (contracts_tool, artifacts), so that each
of them raises the same ContractsError, which ``scripts/contracts`` reports.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parent.parent
REPO = CONTRACTS.parent
TOOLS = CONTRACTS / "tools"
BUF = REPO / "node_modules" / ".bin" / "buf"
TSC = REPO / "node_modules" / ".bin" / "tsc"
PYTHON = REPO / ".venv" / "bin" / "python"
BUILD = CONTRACTS / ".build"
THIRD_PARTY = BUILD / "third_party"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class ContractsError(Exception):
    """A step failed; the message says which and why."""


def run(args: Sequence[str | Path], cwd: Path = CONTRACTS, env: dict[str, str] | None = None) -> str:
    """Runs a tool, returning its output, or raises with the output when it fails."""
    completed = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        command = " ".join(str(a) for a in args)
        raise ContractsError(f"`{command}` exited with {completed.returncode}:\n{completed.stdout.rstrip()}")
    return completed.stdout


def read_version(root: Path = CONTRACTS) -> str:
    """The contract's semantic version: the one place it is written is contracts/VERSION."""
    version = (root / "VERSION").read_text().strip()
    if not SEMVER.match(version):
        raise ContractsError(f"contracts/VERSION holds {version!r}, not a semantic version X.Y.Z")
    return version
