"""The generated type stubs make mypy --strict reject code that misuses a message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def mypy_strict(source: str, directory: Path) -> subprocess.CompletedProcess[str]:
    module = directory / "client.py"
    module.write_text(source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(directory / ".mypy"),
            str(module),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


CORRECT = """
from pasar.order.v1 import order_service_pb2

def order_line(quantity: int) -> order_service_pb2.CreateOrderLine:
    return order_service_pb2.CreateOrderLine(package_id="pulsa-nusantara-10k", quantity=quantity)
"""


def test_correct_use_passes(tmp_path: Path) -> None:
    result = mypy_strict(CORRECT, tmp_path)
    assert result.returncode == 0, result.stdout


def test_wrong_field_type_is_caught(tmp_path: Path) -> None:
    result = mypy_strict(CORRECT.replace("quantity=quantity", 'quantity="two"'), tmp_path)
    assert result.returncode == 1
    assert 'Argument "quantity" to "CreateOrderLine" has incompatible type "str"' in result.stdout


def test_unknown_field_is_caught(tmp_path: Path) -> None:
    result = mypy_strict(CORRECT.replace("quantity=quantity", "qty=quantity"), tmp_path)
    assert result.returncode == 1
    assert 'Unexpected keyword argument "qty" for "CreateOrderLine"' in result.stdout
