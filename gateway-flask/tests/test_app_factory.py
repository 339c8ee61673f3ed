"""create_app: defaults, then PASAR_* environment, then overrides; checked settings; one set of clients."""

from __future__ import annotations

from typing import Any

import flask
import grpc
import pytest
from conftest import AppFactory
from fakes import METER_PRODUCT_ID, FakeShop

from pasar_gateway.app import create_app, gateway_of
from pasar_gateway.bindings import contract_bindings
from pasar_gateway.settings import DEVELOPMENT_ADMIN_TOKEN
from pasar_kit.config import ConfigError


def test_the_factory_builds_a_configured_application(app: flask.Flask, shop: FakeShop) -> None:
    gateway = gateway_of(app)
    assert set(gateway.backends) == {"product", "payment", "order", "fulfillment"}
    assert gateway.backends["order"].settings.target == shop.servers["order"].address
    assert gateway.settings.catalog_cache is True  # on by default
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(api_rules) == len(contract_bindings())


def test_defaults_apply_without_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app()
    try:
        gateway = gateway_of(app)
        assert {name: backend.settings.target for name, backend in gateway.backends.items()} == {
            "product": "127.0.0.1:50051",
            "payment": "127.0.0.1:50052",
            "order": "127.0.0.1:50053",
            "fulfillment": "127.0.0.1:50054",
        }
        assert gateway.settings.admin_token == DEVELOPMENT_ADMIN_TOKEN
        assert gateway.settings.backends["order"].deadline_seconds == 10.0
    finally:
        gateway_of(app).close()


def test_environment_then_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASAR_ORDER_ADDRESS", "ipv4:127.0.0.1:7001,127.0.0.1:7002")
    monkeypatch.setenv("PASAR_PAYMENT_ADDRESS", "127.0.0.1:7003")
    monkeypatch.setenv("PASAR_ADMIN_TOKEN", "12345")  # stays text: not read as a number
    monkeypatch.setenv("PASAR_CATALOG_CACHE_TTL_SECONDS", "2.5")
    app = create_app({"PAYMENT_ADDRESS": "127.0.0.1:7004"})
    try:
        gateway = gateway_of(app)
        assert gateway.backends["order"].settings.target == "ipv4:127.0.0.1:7001,127.0.0.1:7002"
        assert gateway.backends["payment"].settings.target == "127.0.0.1:7004"
        assert gateway.settings.admin_token == "12345"
        assert gateway.settings.catalog_cache_ttl_seconds == 2.5
    finally:
        gateway_of(app).close()


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"ORDER_DEADLINE_SECONDS": "soon"}, "PASAR_ORDER_DEADLINE_SECONDS"),
        ({"CATALOG_CACHE": "maybe"}, "PASAR_CATALOG_CACHE"),
        ({"MAX_BODY_BYTES": "10"}, "PASAR_MAX_BODY_BYTES"),
        ({"BREAKER_FAILURES": "0"}, "PASAR_BREAKER_FAILURES"),
        ({"ORDER_RATE_LIMIT": "lots"}, "PASAR_ORDER_RATE_LIMIT"),
        ({"ORDER_LOOKUP_RATE_LIMIT": "10 a minute"}, "PASAR_ORDER_LOOKUP_RATE_LIMIT"),
        ({"CORS_ORIGINS": "shop.example"}, "PASAR_CORS_ORIGINS"),
        ({"STATIC_DIR": "/nonexistent"}, "PASAR_STATIC_DIR"),
        ({"ENV": "staging"}, "PASAR_ENV"),
        ({"ENV": "production"}, "PASAR_ADMIN_TOKEN"),
        (
            {
                "ENV": "production",
                "ADMIN_TOKEN": "s3cret-token-long-enough-for-production",
                "CORS_ORIGINS": "*",
            },
            "PASAR_CORS_ORIGINS",
        ),
        ({"ENV": "production", "ADMIN_TOKEN": DEVELOPMENT_ADMIN_TOKEN}, "PASAR_ADMIN_TOKEN"),
        ({"ENV": "production", "ADMIN_TOKEN": "dev-order-token-secret"}, "PASAR_ADMIN_TOKEN"),
        ({"ENV": "production", "ADMIN_TOKEN": "s3cret-token"}, "PASAR_ADMIN_TOKEN"),
    ],
)
def test_bad_settings_fail_naming_the_variable(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        create_app(overrides)


def test_production_takes_an_allow_list_and_a_real_token(make_app: AppFactory) -> None:
    app = make_app(
        ENV="production",
        ADMIN_TOKEN="s3cret-token-long-enough-for-production",
        CORS_ORIGINS="https://pasar.example",
    )
    settings = gateway_of(app).settings
    assert settings.cors_origins == ("https://pasar.example",)
    assert settings.admin_token == "s3cret-token-long-enough-for-production"


def test_clients_are_made_once_per_application(
    make_app: AppFactory, shop: FakeShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One channel per backend, made by create_app; requests (many, to every backend) make none."""
    opened: list[str] = []
    for name in ("insecure_channel", "secure_channel"):
        original = getattr(grpc, name)

        def counting(target: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            opened.append(target)
            return _original(target, *args, **kwargs)

        monkeypatch.setattr(grpc, name, counting)
    app = make_app(CATALOG_CACHE="false")  # every catalog read goes to the product service
    assert sorted(opened) == sorted(server.address for server in shop.servers.values())
    gateway = gateway_of(app)
    channels = {name: backend.channel for name, backend in gateway.backends.items()}
    client = app.test_client()
    routes = ["/api/v1/products", "/api/v1/payment-channels", f"/api/v1/orders/ord_{'0' * 32}?token=x"]
    lookup = {"productId": METER_PRODUCT_ID, "destination": {"meter_number": "12345678901"}}
    for _ in range(10):
        for route in routes:
            assert client.get(route).status_code in (200, 404)
        assert client.post("/api/v1/destinations:lookup", json=lookup).status_code == 200
    assert client.get("/readyz").status_code == 200
    for name in shop.servers:
        assert len(shop.behaviour(name).calls) >= 10, f"the requests reached the {name} service"
    made = len(shop.servers)
    assert len(opened) == made, f"channels opened while serving requests: {opened[made:]}"
    assert {name: backend.channel for name, backend in gateway.backends.items()} == channels
    assert gateway_of(app).cache is gateway.cache
