"""ComponentProcess's environment and its log, read without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from pasar_testkit.processes import ComponentProcess


def component(tmp_path: Path, **env: str) -> ComponentProcess:
    return ComponentProcess("product", command=["true"], env=env, log_dir=tmp_path)


def test_a_component_traces_only_when_its_test_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shell")
    monkeypatch.setenv("PASAR_SOMETHING", "kept")

    inherited = component(tmp_path).env
    told = component(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:14317").env

    assert not any(name.startswith("OTEL_") for name in inherited)
    assert inherited["PASAR_SOMETHING"] == "kept"
    assert told["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:14317"
    assert "OTEL_SERVICE_NAME" not in told


def test_a_logged_field_is_read_from_the_newest_json_line_that_has_it(tmp_path: Path) -> None:
    process = component(tmp_path)
    assert process.logged("metrics_address") is None  # no log yet
    process.log_path.write_text(
        '{"message": "starting", "metrics_address": "127.0.0.1:1001"}\n'
        "Traceback (most recent call last): not JSON\n"
        '{"message": "starting", "metrics_address": "127.0.0.1:1002"}\n'
        '{"message": "rpc", "method": "/pasar.product.v1.ProductService/GetProduct"}\n'
        "[1, 2]\n"
    )

    assert process.logged("metrics_address") == "127.0.0.1:1002"  # the restart's line
    assert process.logged("no_such_field") is None
    assert [line["message"] for line in process.logged_lines()] == ["starting", "starting", "rpc"]
