"""The check that no error reason is spelled by hand finds every spelling, and only those."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reason_literals import REPO, find_reason_literals, reason_names

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason

CHECK = REPO / "scripts/lib/reason_literals.py"

# The sources below are written from the enums, as this file may spell no reason either.
GONE = ProductReason.Name(ProductReason.PRODUCT_NOT_FOUND)
STOCK = ProductReason.Name(ProductReason.OUT_OF_STOCK)
DISABLED = PaymentReason.Name(PaymentReason.CHANNEL_DISABLED)
NO_ORDER = OrderReason.Name(OrderReason.ORDER_NOT_FOUND)
CONTENTION = CommonReason.Name(CommonReason.CONTENTION)


def test_the_reasons_are_every_value_of_every_error_reason_enum() -> None:
    names = reason_names()
    assert {STOCK, PaymentReason.Name(PaymentReason.PAYMENT_CONFLICT), NO_ORDER, CONTENTION} <= names
    assert "ERROR_REASON_UNSPECIFIED" not in names
    assert "PAYMENT_STATE_PAID" not in names, "only the ErrorReason enums are reasons"


def test_a_quoted_reason_in_any_language_is_found_with_its_line(tmp_path: Path) -> None:
    sources = {
        "svc/raise.py": f'x = 1\nraise NotFound("gone", reason="{GONE}")\n',
        "web/view.ts": f"if (error.reason === '{STOCK}') reload();\n",
        "web/page.vue": f"<script>const r = `{DISABLED}`;</script>\n",
        "go/client.go": f'if info.Reason == "{NO_ORDER}" {{}}\n',
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = find_reason_literals(sorted(tmp_path.rglob("*.*")), reason_names(), root=tmp_path)
    assert sorted((str(f.path), f.line, f.reason) for f in found) == [
        ("go/client.go", 1, NO_ORDER),
        ("svc/raise.py", 2, GONE),
        ("web/page.vue", 1, DISABLED),
        ("web/view.ts", 1, STOCK),
    ]


def test_generated_code_prose_and_longer_words_are_not_reported(tmp_path: Path) -> None:
    sources = {
        "contracts/go/pasar/product/v1/error_reason.pb.go": f'name := "{STOCK}"\n',
        "svc/reasons_pb2.py": f'X = "{STOCK}"\n',
        "svc/enum.py": f"reason = ErrorReason.Name(ErrorReason.{STOCK})  # says {STOCK}\n",
        "svc/other.py": f'state = "{STOCK}_LATER"\n',
        "README.md": f'`"{STOCK}"` in prose\n',
        "svc/table.py": f'row = "| product | `{STOCK}` | FAILED_PRECONDITION |"\n',
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert list(find_reason_literals(sorted(tmp_path.rglob("*.*")), reason_names(), root=tmp_path)) == []


def test_the_command_fails_and_names_the_file(tmp_path: Path) -> None:
    source = tmp_path / "raise.py"
    source.write_text(f'reason = "{CONTENTION}"\n')
    result = subprocess.run(
        [sys.executable, str(CHECK), str(source)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"raise.py:1: the error reason {CONTENTION}" in result.stderr
    source.write_text(f"reason = ErrorReason.Name(ErrorReason.{CONTENTION})\n")
    assert (
        subprocess.run([sys.executable, str(CHECK), str(source)], check=False, capture_output=True).returncode
        == 0
    )
