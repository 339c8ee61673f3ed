"""The e-mails' links lead to the shop's own address, PASAR_STOREFRONT_URL: production
refuses to start without it, since its development default (http://127.0.0.1:8080) reaches
no shopper and every link of every e-mail would lead there."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RunningService, create_request

from pasar_kit.config import Env
from pasar_order.config import Settings
from pasar_testkit.mail import body_text, mails_in
from pasar_testkit.processes import console_script
from pasar_testkit.production import assert_refused
from pasar_testkit.waiting import wait_for

PRODUCTION_SECRETS = {"PASAR_ORDER_TOKEN_SECRET": "k" * 40, "PASAR_ORDER_CALLER_TOKEN": "c" * 40}
URL = re.compile(r"https?://[^\s\"<>]+")


def test_production_refuses_to_start_without_the_shop_s_address(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'order.db'}",
        "PASAR_MAIL_DIR": str(tmp_path / "mail"),
        **PRODUCTION_SECRETS,
    }
    result = assert_refused(
        [console_script("pasar-order"), "serve"], env, "PASAR_STOREFRONT_URL", "is required when PASAR_ENV is"
    )
    assert "http://127.0.0.1:8080" in result.stderr  # it says which address it will not use


def test_production_links_to_the_address_it_is_given_and_development_to_the_local_shop() -> None:
    production = Env(
        {"PASAR_ENV": "production", "PASAR_STOREFRONT_URL": "https://toko.example/", **PRODUCTION_SECRETS}
    )
    assert Settings.from_env(production).storefront_url == "https://toko.example"
    assert Settings.from_env(Env({})).storefront_url == "http://127.0.0.1:8080"


def test_every_link_of_an_email_leads_to_the_shop(service: RunningService) -> None:
    placed = service.stub.CreateOrder(create_request())
    [message] = wait_for(lambda: mails_in(service.mail_dir, "order_created", placed.order.id))
    for part in body_text(message):
        links = URL.findall(part)
        assert links, part
        assert all(link.startswith("http://shop.test/") for link in links), links
