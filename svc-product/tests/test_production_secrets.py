"""``pasar-product serve`` in production refuses an administrator's token that anyone could
know or guess: missing, any development default of the shop, or shorter than 32 bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pasar_testkit.processes import console_script
from pasar_testkit.production import REFUSED_SECRETS, assert_refused, refused_secret_ids, with_secret


@pytest.mark.parametrize(("value", "says"), REFUSED_SECRETS, ids=refused_secret_ids())
def test_serve_refuses_a_public_or_short_admin_token(tmp_path: Path, value: str | None, says: str) -> None:
    env = with_secret({"DATABASE_URL": f"sqlite:///{tmp_path / 'product.db'}"}, "PASAR_ADMIN_TOKEN", value)
    result = assert_refused([console_script("pasar-product"), "serve"], env, "PASAR_ADMIN_TOKEN", says)
    assert result.stderr.startswith("pasar-product: ")
