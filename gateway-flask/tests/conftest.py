"""Fixtures: fake services on port 0, and the gateway application pointed at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from fakes import ADMIN_TOKEN, FakeShop, running_shop
from flask.testing import FlaskClient

from pasar_gateway.app import create_app, gateway_of

pytest_plugins = ["pasar_testkit.fixtures"]

AppFactory = Callable[..., flask.Flask]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway reads PASAR_* variables: the tests' own settings must be the only ones."""
    import os

    for name in list(os.environ):
        if name.startswith("PASAR_") or name == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    yield from running_shop()


@pytest.fixture
def make_app(shop: FakeShop) -> Iterator[AppFactory]:
    """Makes gateway applications on the fakes, with overrides; closes them afterwards."""
    made: list[flask.Flask] = []

    def make(**overrides: Any) -> flask.Flask:
        config = {
            **shop.config(),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "CORS_ORIGINS": "https://shop.example",
            "ORDER_RATE_LIMIT": "off",
            "ORDER_LOOKUP_RATE_LIMIT": "off",
            "BREAKER_RESET_SECONDS": "0.5",
            **overrides,
        }
        app = create_app(config)
        made.append(app)
        return app

    yield make
    for app in made:
        gateway_of(app).close()


@pytest.fixture
def app(make_app: AppFactory) -> flask.Flask:
    return make_app()


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()
