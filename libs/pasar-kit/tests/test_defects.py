"""PASAR_TEST_DEFECT: a test-only setting, refused in production and when it names no defect.

What each defect does to a service's answers is proved where it matters, by the conformance
kit failing against a service started with it (conformance/tests/test_defects_caught.py).
"""

from __future__ import annotations

import pytest

from pasar_kit.config import ConfigError, Env
from pasar_kit.defects import DEFECTS, VARIABLE, DefectInterceptor, defect_from_env, defect_interceptors
from pasar_kit.server import ServerSettings


def test_without_the_setting_there_is_no_defect_and_no_interceptor() -> None:
    assert defect_from_env(Env({})) is None
    assert defect_interceptors(None) == []


@pytest.mark.parametrize("name", DEFECTS)
def test_each_defect_is_accepted_in_development_and_reaches_the_server_settings(name: str) -> None:
    env = Env({VARIABLE: name})
    assert defect_from_env(env) == name
    assert ServerSettings.from_env(env, "127.0.0.1:0").test_defect == name
    [interceptor] = defect_interceptors(name)
    assert isinstance(interceptor, DefectInterceptor)


def test_production_refuses_the_setting_naming_it() -> None:
    with pytest.raises(ConfigError, match=f"^{VARIABLE} must not be set when PASAR_ENV is 'production'"):
        ServerSettings.from_env(Env({VARIABLE: DEFECTS[0], "PASAR_ENV": "production"}), "127.0.0.1:50051")


def test_an_unknown_defect_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=f"^{VARIABLE} must be one of {', '.join(DEFECTS)}, not 'typo'"):
        defect_from_env(Env({VARIABLE: "typo"}))
