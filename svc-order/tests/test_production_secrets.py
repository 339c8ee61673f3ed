"""``pasar-order serve`` in production refuses an order-token secret that anyone could know
or guess (missing, any development default of the shop, shorter than 32 bytes): with it,
anyone could compute any order's access token, then read or cancel the order."""

from __future__ import annotations

from pathlib import Path

import pytest

from pasar_testkit.processes import console_script
from pasar_testkit.production import REFUSED_SECRETS, assert_refused, refused_secret_ids, with_secret


@pytest.mark.parametrize(("value", "says"), REFUSED_SECRETS, ids=refused_secret_ids())
def test_serve_refuses_a_public_or_short_token_secret(tmp_path: Path, value: str | None, says: str) -> None:
    env = with_secret(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'order.db'}", "PASAR_MAIL_DIR": str(tmp_path / "mail")},
        "PASAR_ORDER_TOKEN_SECRET",
        value,
    )
    result = assert_refused([console_script("pasar-order"), "serve"], env, "PASAR_ORDER_TOKEN_SECRET", says)
    assert result.stderr.startswith("pasar-order: ")
