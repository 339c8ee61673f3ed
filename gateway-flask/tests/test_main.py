"""`pasar-gateway` as users start it: gunicorn with gthread workers, configured by the environment."""

from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fakes import FakeShop

from pasar_testkit.jaeger import SPAN_KIND_CLIENT, SPAN_KIND_SERVER, JaegerServer, Trace
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, console_script


def gateway_process(shop: FakeShop | None, tmp_path: Path, **env: str) -> ComponentProcess:
    """pasar-gateway on a free port; without a shop, its backends are unreachable (/healthz still answers)."""
    backends = shop.config().items() if shop else [("ORDER_ADDRESS", "127.0.0.1:1")]
    return ComponentProcess(
        "gateway",
        command=[console_script("pasar-gateway")],
        env={
            **{f"PASAR_{key}": value for key, value in backends},
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
    metrics_address = f"127.0.0.1:{free_port()}"
    gateway = gateway_process(shop, tmp_path, PASAR_METRICS_ADDRESS=metrics_address)
    gateway.start()
    try:
        base = f"http://{gateway.address}"
        status, headers, body = get(f"{base}/api/v1/products", {"X-Request-Id": "from-the-test"})
        assert status == 200
        assert headers["X-Request-Id"] == "from-the-test"
        assert b'"pulsa-nusantara"' in body
        for _ in range(4):
            get(f"{base}/healthz")
        status, headers, metrics = get(f"http://{metrics_address}/metrics")
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain")
        healthz = re.findall(
            rb'pasar_gateway_http_requests_total\{[^}]*route="/healthz"[^}]*\} (\S+)', metrics
        )
        assert sum(float(value) for value in healthz) >= 4  # every worker's figures, added up
        with pytest.raises(urllib.error.HTTPError) as not_public:  # not on the public origin
            get(f"{base}/metrics")
        assert not_public.value.code == 404
        assert json.loads(not_public.value.read())["error"]["code"] == "NOT_FOUND"
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
    assert f'"metrics_address": "{metrics_address}"' in log


def test_every_worker_traces_its_requests_and_exports_them_when_it_stops(
    shop: FakeShop, jaeger: JaegerServer, tmp_path: Path
) -> None:
    """Tracing is set up in each worker after the fork, and flushed as the worker exits.

    The batch processor here waits a minute between exports, so every span Jaeger holds was
    sent by a worker's flush on SIGTERM; the requests go over fresh connections, which the
    kernel spreads over both workers' sockets.
    """
    gateway = gateway_process(
        shop,
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=jaeger.otlp_http_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY="60000",
        PASAR_CATALOG_CACHE="false",  # every request calls the product service
    )
    gateway.start()
    sent = {}
    try:
        for number in range(12):
            trace_id, browser_span = secrets.token_hex(16), secrets.token_hex(8)  # Jaeger is shared
            request_id = f"traced-{number}"
            status, _, _ = get(
                f"http://{gateway.address}/api/v1/products",
                {"traceparent": f"00-{trace_id}-{browser_span}-01", "X-Request-Id": request_id},
            )
            assert status == 200
            sent[trace_id] = (browser_span, request_id)
    finally:
        exit_status = gateway.stop()
    assert exit_status == 0

    def request_and_call(trace: Trace) -> bool:
        return bool(trace.find(kind=SPAN_KIND_SERVER)) and bool(trace.find(kind=SPAN_KIND_CLIENT))

    for trace_id, (browser_span, request_id) in sent.items():
        trace = jaeger.wait_for_trace(trace_id, request_and_call, what=f"request {request_id}'s spans")
        [http] = trace.find(kind=SPAN_KIND_SERVER)
        assert http.service == "gateway"
        assert http.parent_span_id == browser_span
        assert http.attributes["pasar.request_id"] == request_id
        calls = trace.find(kind=SPAN_KIND_CLIENT)
        assert [call.parent_span_id for call in calls] == [http.span_id]
        assert calls[0].name == "/pasar.product.v1.ProductService/ListProducts"


def test_the_start_up_log_names_the_address_the_workers_listen_on(tmp_path: Path) -> None:
    gateway = gateway_process(None, tmp_path)
    gateway.start()
    try:
        assert gateway.process is not None
        master = gateway.process.pid
        listening = [
            json.loads(line)["message"]
            for line in gateway.log_path.read_text().splitlines()
            if "Listening at" in line
        ]
    finally:
        gateway.stop()
    assert listening == [f"Listening at: http://{gateway.address} ({master})"]


def test_the_metrics_listener_is_on_loopback_at_a_free_port_by_default(tmp_path: Path) -> None:
    gateway = gateway_process(None, tmp_path)
    gateway.start()
    try:
        started = next(
            json.loads(line) for line in gateway.log_path.read_text().splitlines() if '"starting"' in line
        )
        host, _, port = started["metrics_address"].rpartition(":")
        assert host == "127.0.0.1"
        assert int(port) not in (0, gateway.port)
        status, _, metrics = get(f"http://{started['metrics_address']}/metrics")
        assert status == 200
        assert b"# HELP" in metrics
    finally:
        gateway.stop()


def test_a_second_gateway_on_the_same_port_exits_2_and_the_first_keeps_serving(tmp_path: Path) -> None:
    first = gateway_process(None, tmp_path)
    first.start()
    try:
        second = run_gateway({"PASAR_LISTEN_ADDRESS": first.address, "PASAR_ORDER_ADDRESS": "127.0.0.1:1"})
        assert second.returncode == 2
        refusal = f"cannot listen on {first.address}: the address is already in use"
        assert second.stderr.splitlines() == [f"pasar-gateway: PASAR_LISTEN_ADDRESS: {refusal}"]
        for _ in range(20):  # new connections all reach the first gateway, still serving
            status, _, _ = get(f"http://{first.address}/healthz")
            assert status == 200
        assert first.running
    finally:
        assert first.stop() == 0


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "so_reuseport"])
def test_a_port_held_by_another_socket_is_refused_with_one_line(reuse_port: bool) -> None:
    with socket.socket() as holder:
        if reuse_port:  # as gRPC servers and gunicorn's workers bind: still someone else's port
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        result = run_gateway({"PASAR_LISTEN_ADDRESS": address, "PASAR_ORDER_ADDRESS": "127.0.0.1:1"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pasar-gateway: PASAR_LISTEN_ADDRESS: cannot listen on {address}: the address is already in use"
    ]


def test_a_taken_metrics_address_is_refused_with_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        result = run_gateway(
            {
                "PASAR_LISTEN_ADDRESS": f"127.0.0.1:{free_port()}",
                "PASAR_METRICS_ADDRESS": address,
                "PASAR_ORDER_ADDRESS": "127.0.0.1:1",
            }
        )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"pasar-gateway: PASAR_METRICS_ADDRESS: cannot listen on {address}: ")


def run_gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("pasar-gateway"), *args],
        env={"PATH": str(Path(sys.executable).parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


TRACED = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PASAR_GATEWAY_WORKERS": "none"}, "PASAR_GATEWAY_WORKERS"),
        ({"PASAR_PORT": "99999"}, "PASAR_PORT"),
        ({"PASAR_LISTEN_ADDRESS": "127.0.0.1:99999"}, "PASAR_LISTEN_ADDRESS"),
        ({"PASAR_LISTEN_ADDRESS": "127.0.0.1:0"}, "PASAR_LISTEN_ADDRESS"),
        ({"PASAR_METRICS_ADDRESS": "loopback"}, "PASAR_METRICS_ADDRESS"),
        ({"PASAR_GATEWAY_HEADER_READ_SECONDS": "0"}, "PASAR_GATEWAY_HEADER_READ_SECONDS"),
        ({"PASAR_GATEWAY_BODY_READ_SECONDS": "soon"}, "PASAR_GATEWAY_BODY_READ_SECONDS"),
        ({"PASAR_ENV": "production"}, "PASAR_ADMIN_TOKEN"),
        ({"PASAR_ORDER_DEADLINE_SECONDS": "-1"}, "PASAR_ORDER_DEADLINE_SECONDS"),
        ({**TRACED, "OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        (
            {**TRACED, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        ({**TRACED, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
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


def test_a_tracing_setting_the_sdk_refuses_stops_the_master_before_it_forks() -> None:
    """Checked in the master: in a worker it was gunicorn's "Worker failed to boot", status 3."""
    result = run_gateway(
        {
            **TRACED,
            "OTEL_TRACES_SAMPLER": "sometimes",
            "PASAR_PORT": str(free_port()),
            "PASAR_ORDER_ADDRESS": "127.0.0.1:1",
        }
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("pasar-gateway: OTEL_TRACES_SAMPLER ")


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
