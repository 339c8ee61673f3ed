"""The deployment files against what production refuses (pasar_kit.config.Env.secret, the
payment service's settings): every secret a Pasar container is given, by docker/make-env or
by the local cluster's overlay, is one production accepts; .env.example's placeholders are
not, so a copy of it as it is cannot run a shop; and the sandboxes, which mark payments paid
for anyone who asks and make deliveries up, run in production only where the deployment
declares a demo. The Go fulfillment service is run itself with what it is given."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from deployment import Container, compose_containers, kubernetes_containers
from repository import COMPONENTS, GO_SERVICE, go_binary, secrets_read
from test_compose import env_example

from pasar_kit.config import ConfigError, Env, check_production_secret
from pasar_payment.config import DEMO_FAKE_PAYMENTS, SANDBOX, Settings
from pasar_testkit.go_service import fulfillment_process

DEMO_FAKE_DELIVERIES = "PASAR_DEMO_FAKE_DELIVERIES"

DEMOS = ("compose", "overlays/local", "overlays/local-mtls", "overlays/local-surge")


def production_containers(containers: Iterator[Container]) -> Iterator[tuple[Container, str]]:
    for container in containers:
        component = container.component
        pasar = component in COMPONENTS or component == GO_SERVICE
        if component is not None and pasar and container.env.get("PASAR_ENV") == "production":
            yield container, component


def deployments(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> dict[str, list[Container]]:
    found = {"compose": list(compose_containers(compose_stack_model))}
    found.update({name: list(kubernetes_containers(documents)) for name, documents in rendered.items()})
    return found


def test_every_secret_make_env_and_the_local_cluster_give_is_one_production_accepts(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    checked = 0
    for name, containers in deployments(compose_stack_model, rendered).items():
        if name == "base":
            continue  # empty placeholders, for an overlay or a secret manager to fill
        for container, component in production_containers(iter(containers)):
            for secret in secrets_read(component):
                if secret in container.env:
                    check_production_secret(secret, container.env[secret])
                    checked += 1
    assert checked >= 4 * 5, "each deployment's product, payment, order, fulfillment and gateway secrets"


def test_the_example_placeholders_are_refused_so_a_copy_cannot_run_a_shop() -> None:
    read = set().union(*(secrets_read(component) for component in (*COMPONENTS, GO_SERVICE)))
    placeholders = {name: value for name, value in env_example().items() if name in read}
    assert set(placeholders) >= {
        "PASAR_ADMIN_TOKEN",
        "PASAR_PAYMENT_WEBHOOK_SECRET",
        "PASAR_ORDER_TOKEN_SECRET",
        "PASAR_BILLER_WEBHOOK_SECRET",
    }
    for name, value in placeholders.items():
        with pytest.raises(ConfigError, match=f"^{name} "):
            check_production_secret(name, value)


def test_the_sandbox_runs_in_production_only_where_a_demo_is_declared(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    for name, containers in deployments(compose_stack_model, rendered).items():
        payments = [c for c, component in production_containers(iter(containers)) if component == "payment"]
        assert payments, name
        for container in payments:
            sandbox = container.env.get("PASAR_PAYMENT_PROVIDER") == SANDBOX
            demo = container.env.get(DEMO_FAKE_PAYMENTS) == "true"
            assert sandbox == demo, (
                f"{name}: {container.where}: a demo flag without the sandbox, or the reverse"
            )
            assert sandbox == (name in DEMOS), f"{name}: {container.where}"


@pytest.mark.parametrize("name", ["compose", "overlays/local"])
def test_the_demo_payment_service_starts_with_what_it_is_given(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    containers = deployments(compose_stack_model, rendered)[name]
    [payment] = [
        c
        for c, component in production_containers(iter(containers))
        if component == "payment" and c.arguments[:1] != ("migrate",)
    ]
    # The certificates of mutual TLS (the local overlay's default) are files in the pod only.
    env = {key: value for key, value in payment.env.items() if not key.startswith("PASAR_TLS_")}
    settings = Settings.from_env(Env(env))
    assert (settings.sandbox_enabled, settings.demo) == (True, True)
    with pytest.raises(ConfigError, match=r"^PASAR_PAYMENT_PROVIDER must not be 'sandbox'"):
        Settings.from_env(Env({key: value for key, value in env.items() if key != DEMO_FAKE_PAYMENTS}))


def test_the_sandbox_biller_runs_in_production_only_where_a_demo_is_declared(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    for name, containers in deployments(compose_stack_model, rendered).items():
        fulfillments = [
            c for c, component in production_containers(iter(containers)) if component == GO_SERVICE
        ]
        assert fulfillments, name
        for container in fulfillments:
            sandbox = container.env.get("PASAR_BILLER") == "sandbox"
            demo = container.env.get(DEMO_FAKE_DELIVERIES) == "true"
            assert sandbox == demo, (
                f"{name}: {container.where}: a demo flag without the sandbox, or the reverse"
            )
            assert sandbox == (name in DEMOS), f"{name}: {container.where}"


def demo_fulfillment_env(containers: list[Container], database: Path) -> dict[str, str]:
    """The demo's fulfillment container's environment, on a SQLite database of this test
    (MySQL's host is a name only the deployment resolves), without the TLS files and the
    listening address (the container's port, 0.0.0.0:50054, may be taken here)."""
    [fulfillment] = [
        c
        for c, component in production_containers(iter(containers))
        if component == GO_SERVICE and c.arguments[:1] != ("migrate",)
    ]
    env = {
        key: value
        for key, value in fulfillment.env.items()
        if not key.startswith("PASAR_TLS_") and key != "PASAR_LISTEN_ADDRESS"  # a free port here
    }
    return {**env, "DATABASE_URL": f"sqlite:///{database}"}


def refusal(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """svc-fulfillment serve with env only: a refused setting ends it at once, status 2."""
    return subprocess.run(
        [str(go_binary()), "serve"],
        env={"PATH": "/usr/bin:/bin", **env, "PASAR_LISTEN_ADDRESS": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", ["compose", "overlays/local"])
def test_the_demo_fulfillment_service_starts_with_what_it_is_given(
    compose_stack_model: dict[str, Any],
    rendered: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
    name: str,
) -> None:
    """Its own production checks (secrets at least 32 bytes and no development default, the
    sandbox biller only with the demo flag) pass on what the deployment gives it."""
    env = demo_fulfillment_env(deployments(compose_stack_model, rendered)[name], tmp_path / "f.db")
    process = fulfillment_process(env=env, log_dir=tmp_path)
    process.start()  # SERVING on gRPC health
    process.stop()
    without_demo = refusal({key: value for key, value in env.items() if key != DEMO_FAKE_DELIVERIES})
    assert without_demo.returncode == 2
    assert "PASAR_BILLER" in without_demo.stderr


def test_the_fulfillment_service_refuses_the_example_placeholder(
    compose_stack_model: dict[str, Any], rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    env = demo_fulfillment_env(deployments(compose_stack_model, rendered)["compose"], tmp_path / "f.db")
    secret = "PASAR_BILLER_WEBHOOK_SECRET"
    result = refusal({**env, secret: env_example()[secret]})
    assert result.returncode == 2
    assert secret in result.stderr
    assert not (tmp_path / "f.db").exists()  # refused before it touched the database


def test_every_components_development_secret_is_refused_by_every_component() -> None:
    """Env.secret refuses each of the shop's development defaults for any secret, from its list."""
    from pasar_gateway.settings import DEVELOPMENT_ADMIN_TOKEN as GATEWAY_ADMIN_TOKEN
    from pasar_kit.callers import development_caller_token
    from pasar_kit.config import DEVELOPMENT_SECRETS
    from pasar_order.config import DEVELOPMENT_TOKEN_SECRET
    from pasar_payment.config import DEVELOPMENT_WEBHOOK_SECRET
    from pasar_product.config import DEVELOPMENT_ADMIN_TOKEN

    defaults = {
        DEVELOPMENT_ADMIN_TOKEN,
        GATEWAY_ADMIN_TOKEN,
        DEVELOPMENT_WEBHOOK_SECRET,
        DEVELOPMENT_TOKEN_SECRET,
        development_caller_token("order"),
    }
    assert defaults <= DEVELOPMENT_SECRETS
