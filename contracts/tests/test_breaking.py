"""The breaking-change check fails on each kind of break and passes on additions.

Every case mutates a scratch copy of the contracts (see ``contracts_copy``) and runs the
same check as ``scripts/contracts check``: ``buf breaking`` against the latest release.
"""

from __future__ import annotations

from pathlib import Path

import contracts_tool
import pytest
from toolchain import BUF, ContractsError, run

PRODUCT = "proto/pasar/product/v1/product.proto"
PRODUCT_SERVICE = "proto/pasar/product/v1/product_service.proto"


def mutate(root: Path, relative: str, old: str, new: str) -> None:
    """Replaces exactly one occurrence of old, so a case cannot silently test nothing."""
    path = root / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {relative}"
    path.write_text(text.replace(old, new))


BREAKING_CASES = {
    "deleted field": (
        PRODUCT,
        "  string description = 3 [(buf.validate.field).string.max_len = 2000];\n",
        "",
        'Previously present field "3" with name "description" on message "Product" was deleted',
    ),
    "renumbered field": (
        PRODUCT,
        "  string image_url = 5 [",
        "  string image_url = 50 [",
        'Previously present field "5" with name "image_url" on message "Product" was deleted',
    ),
    "changed field type": (
        PRODUCT,
        "  int32 stock_available = 6 [(buf.validate.field).int32 = {",
        "  int64 stock_available = 6 [(buf.validate.field).int64 = {",
        'Field "6" with name "stock_available" on message "Package" changed type from "int32" to "int64"',
    ),
    "renamed field (JSON name change)": (
        PRODUCT,
        "  string category_id = 4 [",
        "  string category = 4 [",
        'Field "4" with name "category" on message "Product" changed option "json_name" '
        'from "categoryId" to "category"',
    ),
    "deleted RPC": (
        PRODUCT_SERVICE,
        "  rpc BatchGetPackages(BatchGetPackagesRequest) returns (BatchGetPackagesResponse) {\n"
        "    option idempotency_level = NO_SIDE_EFFECTS;\n  }\n",
        "",
        'Previously present RPC "BatchGetPackages" on service "ProductService" was deleted',
    ),
    "deleted enum value": (
        PRODUCT,
        "  PRODUCT_STATE_ARCHIVED = 2;\n",
        "",
        'Previously present enum value "2" on enum "ProductState" was deleted',
    ),
}


@pytest.mark.parametrize("case", BREAKING_CASES, ids=list(BREAKING_CASES))
def test_breaking_change_fails_naming_it(contracts_copy: Path, case: str) -> None:
    relative, old, new, expected_message = BREAKING_CASES[case]
    contracts_tool.check_breaking(contracts_copy)  # the unmutated copy passes
    mutate(contracts_copy, relative, old, new)
    with pytest.raises(ContractsError) as failure:
        contracts_tool.check_breaking(contracts_copy)
    assert expected_message in str(failure.value)
    assert "exited with 100" in str(failure.value)


ADDITIVE_CASES = {
    "new optional field": (
        PRODUCT,
        "  DeliveryKind delivery_kind = 13 [(buf.validate.field).enum.defined_only = true];\n",
        "  DeliveryKind delivery_kind = 13 [(buf.validate.field).enum.defined_only = true];\n"
        "  // A short tagline shown under the name.\n"
        "  optional string tagline = 50;\n",
    ),
    "new message": (
        PRODUCT,
        "// One line of a stock reservation",
        "// A badge shown on a product card.\nmessage Badge {\n  // The badge's text.\n"
        "  string text = 1;\n}\n\n// One line of a stock reservation",
    ),
    "stronger idempotency level": (
        PRODUCT_SERVICE,
        "  rpc CommitReservation(CommitReservationRequest) returns (CommitReservationResponse) {\n"
        "    option idempotency_level = IDEMPOTENT;\n",
        "  rpc CommitReservation(CommitReservationRequest) returns (CommitReservationResponse) {\n"
        "    option idempotency_level = NO_SIDE_EFFECTS;\n",
    ),
    "new RPC": (
        PRODUCT_SERVICE,
        "  rpc ReserveStock(",
        "  // Counts the active products.\n"
        "  rpc CountProducts(CountProductsRequest) returns (CountProductsResponse) {}\n\n"
        "  rpc ReserveStock(",
    ),
}


@pytest.mark.parametrize("case", ADDITIVE_CASES, ids=list(ADDITIVE_CASES))
def test_additive_change_passes(contracts_copy: Path, case: str) -> None:
    relative, old, new = ADDITIVE_CASES[case]
    mutate(contracts_copy, relative, old, new)
    if case == "new RPC":
        with (contracts_copy / relative).open("a") as proto:
            proto.write(
                "\n// The request of ProductService.CountProducts.\nmessage CountProductsRequest {}\n"
                "\n// The response of ProductService.CountProducts.\nmessage CountProductsResponse {\n"
                "  // How many active products there are.\n  int32 count = 1;\n}\n"
            )
    contracts_tool.check_lint(contracts_copy)
    contracts_tool.check_breaking(contracts_copy)


LOWERED_LEVELS = {
    "declared level removed": ("    option idempotency_level = IDEMPOTENT;\n", ""),
    "NO_SIDE_EFFECTS lowered to IDEMPOTENT": (
        "    option idempotency_level = NO_SIDE_EFFECTS;\n",
        "    option idempotency_level = IDEMPOTENT;\n",
    ),
}


@pytest.mark.parametrize("case", LOWERED_LEVELS, ids=list(LOWERED_LEVELS))
def test_lowered_idempotency_level_fails(contracts_copy: Path, case: str) -> None:
    """Clients retry and cache by the level: taking a promise back is breaking, although
    buf.yaml leaves out buf's rule (which also flags declaring one)."""
    old, new = LOWERED_LEVELS[case]
    released = contracts_tool.released_versions(contracts_copy)[-1]
    against = contracts_copy / "releases" / f"v{released}.binpb"
    # The release to compare with: today's contracts, so that their levels count as released.
    run([BUF, "build", "proto", "-o", against], cwd=contracts_copy)
    method = "GetProduct" if "NO_SIDE_EFFECTS" in old else "ReserveStock"
    mutate(
        contracts_copy,
        PRODUCT_SERVICE,
        f"  rpc {method}({method}Request) returns ({method}Response) {{\n{old}",
        f"  rpc {method}({method}Request) returns ({method}Response) {{\n{new}",
    )
    with pytest.raises(ContractsError) as failure:
        contracts_tool.check_breaking(contracts_copy)
    assert f"RPC pasar.product.v1.ProductService.{method} lowered idempotency_level" in str(failure.value)
