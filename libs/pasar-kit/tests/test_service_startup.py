"""The services as real processes, started where they cannot run: one line, status 2.

A second svc-product with an empty database once shared the first one's port (grpcio's
SO_REUSEPORT) and answered NOT_FOUND to 13 of 30 new connections; start-up failures
printed tracebacks of 24 to 68 lines.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess, console_script

SERVICES = ("product", "payment", "order")


def start_failure(service: str, tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    """Runs pasar-<service> serve, which must end by itself; its status and stderr lines."""
    result = subprocess.run(
        [console_script(f"pasar-{service}"), "serve"],
        env={
            **os.environ,
            "PASAR_ENV": "development",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_MAIL_DIR": str(tmp_path / "mail"),
            "DATABASE_URL": f"sqlite:///{tmp_path / f'{service}.db'}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stderr.splitlines()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ComponentProcess]:
    """A real pasar-product with the demo catalog, stopped by its PID at the end."""
    url = f"sqlite:///{tmp_path / 'first' / 'product.db'}"
    loaded = subprocess.run(
        [console_script("pasar-product"), "load-demo"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    product = ComponentProcess(
        "product",
        command=[console_script("pasar-product"), "serve"],
        env={"PASAR_ENV": "development", "DATABASE_URL": url, "PASAR_LOG_FORMAT": "json"},
        log_dir=tmp_path / "logs",
    )
    product.start()
    try:
        yield product
    finally:
        product.stop()


def test_a_second_instance_on_a_taken_port_exits_and_the_first_serves_every_call(
    served: ComponentProcess, tmp_path: Path
) -> None:
    status, lines = start_failure(
        "product",
        tmp_path / "second",  # an empty database of its own, as in the probe
        PASAR_LISTEN_ADDRESS=served.address,
    )
    assert (status, lines) == (
        2,
        [f"pasar-product: cannot listen on {served.address}: the address is already in use"],
    )
    names = []
    for _ in range(30):  # a new connection each: the kernel would spread them over both
        with grpc.insecure_channel(served.address) as channel:
            stub = product_service_pb2_grpc.ProductServiceStub(channel)
            request = product_service_pb2.GetProductRequest(id="pulsa-nusantara")
            names.append(stub.GetProduct(request, timeout=10).product.display_name)
    assert names == ["Pulsa Nusantara"] * 30
    assert served.running


@pytest.mark.parametrize("service", SERVICES)
def test_a_port_held_by_any_other_socket_ends_the_start_in_one_line(service: str, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        status, lines = start_failure(service, tmp_path, PASAR_LISTEN_ADDRESS=address)
    assert (status, lines) == (
        2,
        [f"pasar-{service}: cannot listen on {address}: the address is already in use"],
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_listen_address_out_of_range_ends_the_start_in_one_line(service: str, tmp_path: Path) -> None:
    status, lines = start_failure(service, tmp_path, PASAR_LISTEN_ADDRESS="127.0.0.1:99999")
    message = "PASAR_LISTEN_ADDRESS must end with a port from 1 to 65535, not '127.0.0.1:99999'"
    assert (status, lines) == (2, [f"pasar-{service}: {message}"])


def test_an_unwritable_sqlite_path_ends_the_start_in_one_line(tmp_path: Path) -> None:
    # A path through a regular file: unwritable for root too (a read-only folder is not).
    (tmp_path / "plain-file").write_text("")
    url = f"sqlite:///{tmp_path / 'plain-file' / 'product.db'}"
    status, lines = start_failure("product", tmp_path, DATABASE_URL=url)
    assert (status, len(lines)) == (2, 1), lines
    assert lines[0].startswith(f"pasar-product: cannot open the database {url}: ")


def test_an_unreachable_mysql_ends_the_start_in_one_line_without_its_password(tmp_path: Path) -> None:
    port = free_port()
    status, lines = start_failure("product", tmp_path, DATABASE_URL=f"mysql://u:p4ss@127.0.0.1:{port}/x")
    assert (status, len(lines)) == (2, 1), lines
    assert lines[0].startswith(
        f"pasar-product: cannot connect to the database mysql://u:***@127.0.0.1:{port}/x: "
    )
    assert "p4ss" not in lines[0]
