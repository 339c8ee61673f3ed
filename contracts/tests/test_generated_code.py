"""The committed generated code is what the contracts generate, and stale code is caught."""

from __future__ import annotations

from pathlib import Path

import contracts_tool
from test_breaking import mutate
from toolchain import read_version


def test_committed_code_is_fresh() -> None:
    assert contracts_tool.stale_generated_code() == []


def test_proto_change_without_regeneration_is_stale(contracts_copy: Path) -> None:
    mutate(
        contracts_copy,
        "proto/pasar/common/v1/money.proto",
        "  int64 amount = 2",
        "  // A note for the person reading the bill.\n  string memo = 3;\n  int64 amount = 2",
    )
    problems = contracts_tool.stale_generated_code(contracts_copy)
    stale = {problem.rsplit(": ", 1)[1] for problem in problems}
    assert "python/src/pasar/common/v1/money_pb2.py" in stale
    assert "go/pasar/common/v1/money.pb.go" in stale
    assert "ts/src/pasar/common/v1/money_pb.ts" in stale


def test_version_bump_without_regeneration_is_stale(contracts_copy: Path) -> None:
    current = read_version(contracts_copy)
    major, minor, patch = contracts_tool.version_key(current)
    (contracts_copy / "VERSION").write_text(f"{major}.{minor}.{patch + 1}\n")
    problems = contracts_tool.stale_generated_code(contracts_copy)
    assert "differs from a fresh generation: python/src/pasar_contracts/_version.py" in problems
    assert any(problem.startswith(f"ts/package.json has version {current},") for problem in problems)
