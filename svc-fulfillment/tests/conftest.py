"""Fixtures of svc-fulfillment's Python-side tests: the built binary (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pasar_testkit.go_service import build_fulfillment

pytest_plugins = ["pasar_testkit.fixtures"]


@pytest.fixture(scope="session")
def binary() -> Path:
    """svc-fulfillment, built by scripts/lib/go_service.sh into .tools/bin."""
    return build_fulfillment()
