"""The order service's settings: defaults, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from pasar_kit.config import ConfigError, Env
from pasar_order.config import DEVELOPMENT_TOKEN_SECRET, Settings, SmtpTarget


def test_the_defaults_run_the_embedded_shop() -> None:
    settings = Settings.from_env(Env({}))
    assert settings.server.listen_address == "127.0.0.1:50053"
    assert settings.database_url == "sqlite:///var/order.db"
    assert settings.product_address == "127.0.0.1:50051"
    assert settings.payment_address == "127.0.0.1:50052"
    assert settings.fulfillment_address == "127.0.0.1:50054"
    assert settings.lookup.max_failures == 5
    assert settings.lookup.window_seconds == 900
    assert settings.storefront_url == "http://127.0.0.1:8080"
    assert settings.token_secret == DEVELOPMENT_TOKEN_SECRET
    assert settings.mail.smtp is None
    assert settings.mail.mail_dir == Path("var/mail")
    assert settings.mail.sender == "Pasar <no-reply@pasar.test>"
    assert settings.mail.smtp_ca_file is None
    assert settings.mail.smtp_allow_plaintext_login is False


def test_the_fulfillment_service_is_found_where_it_is_said_to_be() -> None:
    settings = Settings.from_env(Env({"PASAR_FULFILLMENT_ADDRESS": "dns:///fulfillment:50054"}))
    assert settings.fulfillment_address == "dns:///fulfillment:50054"


def test_smtp_urls() -> None:
    assert SmtpTarget.parse("smtp://mailer:p%40ss@mail.example.com:2525") == SmtpTarget(
        "mail.example.com", 2525, "mailer", "p@ss", use_tls=False
    )
    assert SmtpTarget.parse("smtps://mail.example.com") == SmtpTarget(
        "mail.example.com", 465, None, None, True
    )
    assert SmtpTarget.parse("smtp://localhost").port == 25


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"SMTP_URL": "http://mail.example.com"}, "SMTP_URL"),
        ({"SMTP_URL": "smtp://:25"}, "SMTP_URL"),
        ({"SMTP_URL": "smtp://host:port"}, "SMTP_URL"),
        ({"SMTP_URL": "smtp://user:pw@host?starttls=no"}, "SMTP_URL"),
        ({"PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN": "perhaps"}, "PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN"),
        # Removed: a deployment that still sets it would believe its orders expire after it.
        ({"PASAR_ORDER_TTL_SECONDS": "900"}, "PASAR_ORDER_TTL_SECONDS"),
        ({"PASAR_ORDER_LOOKUP_MAX_FAILURES": "0"}, "PASAR_ORDER_LOOKUP_MAX_FAILURES"),
        ({"PASAR_ORDER_LOOKUP_WINDOW_SECONDS": "soon"}, "PASAR_ORDER_LOOKUP_WINDOW_SECONDS"),
        ({"PASAR_MAIL_FROM": "Pasar"}, "PASAR_MAIL_FROM"),
        ({"PASAR_STOREFRONT_URL": "shop.example.com"}, "PASAR_STOREFRONT_URL"),
        ({"PASAR_ENV": "production"}, "PASAR_ORDER_TOKEN_SECRET"),
    ],
)
def test_a_bad_setting_is_an_error_naming_it(variables: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(Env(variables))


def test_production_takes_the_secret_it_is_given() -> None:
    settings = Settings.from_env(
        Env(
            {
                "PASAR_ENV": "production",
                "PASAR_ORDER_TOKEN_SECRET": "k" * 40,
                "PASAR_ORDER_CALLER_TOKEN": "c" * 40,
                "PASAR_STOREFRONT_URL": "https://pasar.example",
            }
        )
    )
    assert settings.token_secret == "k" * 40
    assert settings.caller_token == "c" * 40


def test_production_needs_the_caller_token_unless_a_client_certificate_says_who_calls() -> None:
    with pytest.raises(ConfigError, match="PASAR_ORDER_CALLER_TOKEN is required"):
        Settings.from_env(Env({"PASAR_ENV": "production", "PASAR_ORDER_TOKEN_SECRET": "k" * 40}))


def test_the_storefront_url_loses_its_trailing_slash() -> None:
    settings = Settings.from_env(Env({"PASAR_STOREFRONT_URL": "https://pasar.example/"}))
    assert settings.storefront_url == "https://pasar.example"


def test_a_ca_file_that_is_not_pem_certificates_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    for path in (tmp_path / "ca.pem", tmp_path / "missing.pem"):
        settings = Settings.from_env(Env({"SMTP_URL": "smtp://mail.test", "PASAR_SMTP_CA_FILE": str(path)}))
        with pytest.raises(ConfigError, match="PASAR_SMTP_CA_FILE"):
            settings.mail.tls_context()
