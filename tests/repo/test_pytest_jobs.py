"""scripts/test's python stage: the parallel runner reports failures, and misses no suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "scripts/lib/pytest_jobs.py"


def _run(*targets: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--jobs", "2", *map(str, targets)],
        capture_output=True,
        text=True,
        check=False,
        cwd=targets[0].parent,
    )


def _suite(folder: Path, name: str, body: str) -> Path:
    target = folder / name
    target.mkdir()
    (target / f"test_{name}.py").write_text(f"def test_{name}() -> None:\n    {body}\n")
    return target


def test_every_target_is_run_and_a_failing_one_fails_the_run(tmp_path: Path) -> None:
    passing = _suite(tmp_path, "passing", "assert True")
    failing = _suite(tmp_path, "failing", "assert 1 == 2")
    finished = _run(passing, failing, _suite(tmp_path, "other", "assert True"))
    assert finished.returncode == 1
    assert "failed: " in finished.stderr
    assert str(failing) in finished.stderr
    assert "1 failed" in finished.stdout
    assert finished.stdout.count("1 passed") == 2
    assert f"ok    {passing}" in finished.stdout


def test_a_run_where_every_target_passes_succeeds(tmp_path: Path) -> None:
    finished = _run(_suite(tmp_path, "one", "assert True"), _suite(tmp_path, "two", "assert True"))
    assert finished.returncode == 0, finished.stdout + finished.stderr


def _bash_array(script: str, name: str) -> list[str]:
    match = re.search(rf"^{name}=\(([^)]*)\)", script, re.MULTILINE)
    assert match, f"scripts/test has no {name}"
    return match.group(1).split()


def test_the_python_stage_runs_the_tests_of_every_python_component_and_of_the_go_service() -> None:
    script = (REPO / "scripts/test").read_text()
    packages = _bash_array(script, "PYTHON_PACKAGES")
    suites = _bash_array(script, "COMPONENT_TESTS")
    assert sorted(suites) == sorted([f"{package}/tests" for package in packages] + ["svc-fulfillment/tests"])
