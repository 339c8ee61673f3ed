"""A release moves every pin of the contracts' version along with contracts/VERSION."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import contracts_tool
from toolchain import REPO


def test_storefront_follows_the_contracts_workspace_to_the_new_version(tmp_path: Path) -> None:
    """The storefront depends on the exact version of @pasar/contracts: once ts/package.json
    says 1.1.0, npm looks for 1.0.0 in the registry unless the dependency and lock follow."""
    for manifest in (
        "package.json",
        "package-lock.json",
        "contracts/ts/package.json",
        "storefront-vue/package.json",
    ):
        (tmp_path / manifest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / manifest, tmp_path / manifest)
    contracts_ts = tmp_path / "contracts" / "ts" / "package.json"
    workspace = json.loads(contracts_ts.read_text())
    workspace["version"] = "99.1.0"
    contracts_ts.write_text(json.dumps(workspace, indent=2) + "\n")

    contracts_tool.pin_workspace_dependents("99.1.0", repo=tmp_path)

    storefront = json.loads((tmp_path / "storefront-vue" / "package.json").read_text())
    assert storefront["dependencies"]["@pasar/contracts"] == "99.1.0"
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    assert lock["packages"]["contracts/ts"]["version"] == "99.1.0"
    assert lock["packages"]["storefront-vue"]["dependencies"]["@pasar/contracts"] == "99.1.0"
