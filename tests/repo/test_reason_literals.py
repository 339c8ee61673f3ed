"""The check that no error reason is spelled by hand finds every spelling, and only those."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reason_literals import REPO, find_reason_literals, reason_names

CHECK = REPO / "scripts/lib/reason_literals.py"


def test_the_reasons_are_every_value_of_every_error_reason_enum() -> None:
    names = reason_names()
    assert {"OUT_OF_STOCK", "PAYMENT_CONFLICT", "ORDER_NOT_FOUND", "DEPENDENCY_UNAVAILABLE"} <= names
    assert "ERROR_REASON_UNSPECIFIED" not in names
    assert "PAYMENT_STATE_PAID" not in names, "only the ErrorReason enums are reasons"


def test_a_quoted_reason_in_any_language_is_found_with_its_line(tmp_path: Path) -> None:
    sources = {
        "svc/raise.py": 'x = 1\nraise NotFound("gone", reason="PRODUCT_NOT_FOUND")\n',
        "web/view.ts": "if (error.reason === 'OUT_OF_STOCK') reload();\n",
        "web/page.vue": "<script>const r = `CHANNEL_DISABLED`;</script>\n",
        "go/client.go": 'if info.Reason == "ORDER_NOT_FOUND" {}\n',
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = find_reason_literals(sorted(tmp_path.rglob("*.*")), reason_names(), root=tmp_path)
    assert sorted((str(f.path), f.line, f.reason) for f in found) == [
        ("go/client.go", 1, "ORDER_NOT_FOUND"),
        ("svc/raise.py", 2, "PRODUCT_NOT_FOUND"),
        ("web/page.vue", 1, "CHANNEL_DISABLED"),
        ("web/view.ts", 1, "OUT_OF_STOCK"),
    ]


def test_generated_code_prose_and_longer_words_are_not_reported(tmp_path: Path) -> None:
    sources = {
        "contracts/go/pasar/product/v1/error_reason.pb.go": 'name := "OUT_OF_STOCK"\n',
        "svc/reasons_pb2.py": 'X = "OUT_OF_STOCK"\n',
        "svc/enum.py": "reason = ErrorReason.Name(ErrorReason.OUT_OF_STOCK)  # says OUT_OF_STOCK\n",
        "svc/other.py": 'state = "PAYMENT_PAID_LATE"\n',
        "README.md": '`"OUT_OF_STOCK"` in prose\n',
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert list(find_reason_literals(sorted(tmp_path.rglob("*.*")), reason_names(), root=tmp_path)) == []


def test_the_command_fails_and_names_the_file(tmp_path: Path) -> None:
    source = tmp_path / "raise.py"
    source.write_text('reason = "CONTENTION"\n')
    result = subprocess.run(
        [sys.executable, str(CHECK), str(source)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "raise.py:1: the error reason CONTENTION" in result.stderr
    source.write_text("reason = ErrorReason.Name(ErrorReason.CONTENTION)\n")
    assert (
        subprocess.run([sys.executable, str(CHECK), str(source)], check=False, capture_output=True).returncode
        == 0
    )
