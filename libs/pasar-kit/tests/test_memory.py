"""The malloc arena cap applies on this machine's glibc."""

from __future__ import annotations

import subprocess
import sys


def test_the_arena_cap_is_accepted_by_glibc() -> None:
    # In a child process: the cap is process-wide and must not change the test runner.
    code = (
        "from pasar_kit.memory import limit_malloc_arenas\n"
        "raise SystemExit(0 if limit_malloc_arenas() else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
