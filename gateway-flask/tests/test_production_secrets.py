"""``pasar-gateway`` in production refuses an administrator's token that anyone could know
or guess: missing, any development default of the shop, or shorter than 32 bytes."""

from __future__ import annotations

import pytest

from pasar_testkit.processes import console_script
from pasar_testkit.production import REFUSED_SECRETS, assert_refused, refused_secret_ids, with_secret


@pytest.mark.parametrize(("value", "says"), REFUSED_SECRETS, ids=refused_secret_ids())
def test_the_gateway_refuses_a_public_or_short_admin_token(value: str | None, says: str) -> None:
    env = with_secret({"PASAR_CORS_ORIGINS": "https://shop.example"}, "PASAR_ADMIN_TOKEN", value)
    result = assert_refused([console_script("pasar-gateway")], env, "PASAR_ADMIN_TOKEN", says)
    assert result.stderr.startswith("pasar-gateway: ")
