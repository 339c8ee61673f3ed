"""`pasar-gateway` as users start it: gunicorn with gthread workers, configured by the environment."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fakes import FakeShop

from pasar_kit.testing.processes import ComponentProcess, console_script


def gateway_process(shop: FakeShop, tmp_path: Path, **env: str) -> ComponentProcess:
    return ComponentProcess(
        "gateway",
        command=[console_script("pasar-gateway")],
        env={
            **{f"PASAR_{key}": value for key, value in shop.config().items()},
            "PASAR_GATEWAY_WORKERS": "2",
            "PASAR_GATEWAY_THREADS": "4",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "2",
            **env,
        },
        log_dir=tmp_path,
        http_ready_path="/healthz",
    )


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def test_the_console_script_serves_the_api_and_stops_on_sigterm(shop: FakeShop, tmp_path: Path) -> None:
    gateway = gateway_process(shop, tmp_path)
    gateway.start()
    try:
        base = f"http://{gateway.address}"
        status, headers, body = get(f"{base}/api/v1/products", {"X-Request-Id": "from-the-test"})
        assert status == 200
        assert headers["X-Request-Id"] == "from-the-test"
        assert b'"pulsa-nusantara"' in body
        status, _, metrics = get(f"{base}/metrics")
        assert status == 200
        assert b"pasar_gateway_http_requests_total" in metrics  # summed over the workers
        assert shop.product.metadata("ListProducts")[-1]["x-request-id"] == "from-the-test"
        too_long = f"{base}/api/v1/products?query={'x' * 5000}"
        with pytest.raises(urllib.error.HTTPError) as refused:  # gunicorn's own refusal...
            get(too_long)
        assert refused.value.code == 414
        assert refused.value.headers["Content-Type"] == "application/json"  # ...in the error shape
        assert json.loads(refused.value.read())["error"]["code"] == "RESOURCE_EXHAUSTED"
    finally:
        exit_status = gateway.stop()
    assert exit_status == 0
    log = gateway.log_path.read_text()
    assert '"request_id": "from-the-test"' in log  # JSON lines with the request id
    assert "Booting worker" in log  # gunicorn's own messages go through the same logging


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PASAR_GATEWAY_WORKERS": "none"}, "PASAR_GATEWAY_WORKERS"),
        ({"PASAR_PORT": "99999"}, "PASAR_PORT"),
        ({"PASAR_ENV": "production"}, "PASAR_ADMIN_TOKEN"),
        ({"PASAR_ORDER_DEADLINE_SECONDS": "-1"}, "PASAR_ORDER_DEADLINE_SECONDS"),
    ],
)
def test_configuration_errors_exit_with_status_2(env: dict[str, str], variable: str) -> None:
    result = subprocess.run(
        [console_script("pasar-gateway"), "--check-config"],
        env={"PATH": str(Path(sys.executable).parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert variable in result.stderr
    assert result.stderr.startswith("pasar-gateway: ")


def test_check_config_accepts_a_good_configuration() -> None:
    result = subprocess.run(
        [console_script("pasar-gateway"), "--check-config"],
        env={"PATH": str(Path(sys.executable).parent), "PASAR_ORDER_ADDRESS": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
