"""The README's table of ErrorInfo.reason values is written from the ErrorReason enums' comments."""

from __future__ import annotations

from pathlib import Path

import contracts_tool
import pytest
from test_breaking import mutate
from toolchain import ContractsError

PRODUCT_REASONS = "proto/pasar/product/v1/error_reason.proto"
OUT_OF_STOCK_COMMENT = (
    "  // FAILED_PRECONDITION: a package has fewer units available than requested. Metadata:\n"
)


def test_committed_readme_matches_the_enums() -> None:
    assert contracts_tool.stale_readme() == []


def test_table_rows_come_from_the_comments() -> None:
    table = contracts_tool.error_reason_table()
    assert (
        "| product | `OUT_OF_STOCK` | FAILED_PRECONDITION | a package has fewer units available than "
        "requested | `package_id`, `requested`, `available` (decimal integers) |"
    ) in table.splitlines()
    assert "| any | `DATABASE_UNAVAILABLE` | UNAVAILABLE |" in table
    assert "ERROR_REASON_UNSPECIFIED" not in table


def test_changed_comment_makes_the_table_stale_until_generated(contracts_copy: Path) -> None:
    mutate(
        contracts_copy,
        PRODUCT_REASONS,
        OUT_OF_STOCK_COMMENT,
        "  // ABORTED: a package has fewer units available than requested. Metadata:\n",
    )
    problems = contracts_tool.stale_readme(contracts_copy)
    assert any("reason table differs" in problem for problem in problems), problems
    contracts_tool.write_error_reason_table(contracts_copy)
    assert contracts_tool.stale_readme(contracts_copy) == []
    readme = (contracts_copy / "README.md").read_text()
    assert "| product | `OUT_OF_STOCK` | ABORTED |" in readme


def test_comment_without_its_status_code_is_refused(contracts_copy: Path) -> None:
    mutate(
        contracts_copy,
        PRODUCT_REASONS,
        OUT_OF_STOCK_COMMENT,
        "  // A package has fewer units available than requested. Metadata:\n",
    )
    with pytest.raises(ContractsError) as failure:
        contracts_tool.error_reason_table(contracts_copy)
    assert "pasar.product.v1.OUT_OF_STOCK must start 'CODE: " in str(failure.value)


def test_install_commands_must_name_the_version(contracts_copy: Path) -> None:
    (contracts_copy / "VERSION").write_text("1.7.0\n")
    problems = contracts_tool.stale_readme(contracts_copy)
    assert len(problems) == len(contracts_tool.README_INSTALL_VERSIONS), problems
    readme = contracts_copy / "README.md"
    readme.write_text(contracts_tool.with_install_version(readme.read_text(), "1.7.0"))
    assert contracts_tool.stale_readme(contracts_copy) == []
    assert "go get github.com/pasar-shop/pasar/contracts/go@v1.7.0" in readme.read_text()
