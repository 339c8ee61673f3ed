"""Shared fixtures of the contracts' tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CONTRACTS / "tools"))

import contracts_tool  # noqa: E402  (found through the path above)


@pytest.fixture(scope="session", autouse=True)
def third_party_protos() -> None:
    """The imported third-party .proto files, staged once like `scripts/contracts` does."""
    contracts_tool.stage_third_party()


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    """A scratch copy of contracts/ that tests may mutate; the real files stay untouched.

    The toolchain folders beside it are symbolic links to the repository's, so the
    relative tool paths in buf.gen.yaml resolve as they do in the real tree.
    """
    copy = tmp_path / "contracts"
    ignored = shutil.ignore_patterns("node_modules", "__pycache__", "cache", "*.egg-info")

    def ignore(directory: str, names: list[str]) -> set[str]:
        # Of the build folder, only the staged third-party .proto files matter to a copy.
        build_outputs = {"bin", "npm"} if Path(directory) == CONTRACTS / ".build" else set()
        return set(ignored(directory, names)) | (build_outputs & set(names))

    shutil.copytree(CONTRACTS, copy, ignore=ignore)
    for toolchain in (".venv", "node_modules", ".tools"):
        (tmp_path / toolchain).symlink_to(CONTRACTS.parent / toolchain)
    return copy
