"""Checks over the repository's own sources; the checks themselves live in scripts/lib."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts/lib"))
