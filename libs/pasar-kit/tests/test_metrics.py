"""A service's metrics, scraped over HTTP from a real server: RED, its pool, its own figures."""

# mypy: disable-error-code="abstract"

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import grpc
import peewee
import pytest
from conftest import CALLER_TOKEN, PRODUCT_SERVICE, FakeCatalog, FakePaymentEvents, registration
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.channels import open_channel
from pasar_kit.config import ConfigError, Env
from pasar_kit.listen import ListenError
from pasar_kit.server import GrpcServer, ServerSettings
from pasar_testkit.ports import free_port
from pasar_testkit.waiting import wait_for

LOOPBACK = "127.0.0.1:0"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: GrpcServer) -> Samples:
    """Every sample the server's metrics listener serves, by name and labels."""
    assert server.metrics_address is not None
    with urllib.request.urlopen(f"http://{server.metrics_address}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def get_product(server: GrpcServer, product_id: str) -> grpc.StatusCode:
    stub = product_service_pb2_grpc.ProductServiceStub(
        open_channel(f"127.0.0.1:{server.port}", default_timeout=5)
    )
    try:
        stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id))
    except grpc.RpcError as error:
        return cast(grpc.Call, error).code()
    return grpc.StatusCode.OK


GET_PRODUCT = {"grpc_type": "unary", "grpc_service": PRODUCT_SERVICE.full_name, "grpc_method": "GetProduct"}


def test_every_call_is_counted_by_its_code_and_timed(start_server: Callable[..., GrpcServer]) -> None:
    server = start_server(FakeCatalog(), metrics_address=LOOPBACK)
    codes = [
        get_product(server, product_id) for product_id in ("pulsa", "pulsa", "missing", "crash", "Bad Id!")
    ]
    assert codes == [
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.INVALID_ARGUMENT,
    ]
    samples = scrape(server)
    assert sample(samples, "grpc_server_started_total", **GET_PRODUCT) == 5
    handled = {
        code: sample(samples, "grpc_server_handled_total", **GET_PRODUCT, grpc_code=code)
        for code in ("OK", "NotFound", "Internal", "InvalidArgument")
    }
    assert handled == {"OK": 2, "NotFound": 1, "Internal": 1, "InvalidArgument": 1}
    assert sample(samples, "grpc_server_handling_seconds_count", **GET_PRODUCT) == 5
    assert sample(samples, "grpc_server_handling_seconds_bucket", **GET_PRODUCT, le="10.0") == 5
    # go-grpc-middleware's (Prometheus Go's default) buckets, so one dashboard serves both languages
    buckets = sorted(
        float(dict(labels)["le"])
        for (name, labels) in samples
        if name == "grpc_server_handling_seconds_bucket" and dict(labels)["grpc_method"] == "GetProduct"
    )
    assert buckets == [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")]


def test_a_stream_counts_when_it_ends_and_a_cancelled_one_as_canceled(
    watch_server: Callable[..., tuple[GrpcServer, FakePaymentEvents]],
) -> None:
    server, events = watch_server(metrics_address=LOOPBACK)
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=10, caller_token=CALLER_TOKEN)
    stream = payment_service_pb2_grpc.PaymentServiceStub(channel).WatchPaymentEvents(
        payment_service_pb2.WatchPaymentEventsRequest(after_sequence=0)
    )
    next(stream)
    watch = {"grpc_type": "server_stream", "grpc_service": "pasar.payment.v1.PaymentService"}
    watch["grpc_method"] = "WatchPaymentEvents"
    assert sample(scrape(server), "grpc_server_started_total", **watch) == 1
    assert sample(scrape(server), "grpc_server_handled_total", **watch, grpc_code="Canceled") == 0
    cast(grpc.Call, stream).cancel()
    assert events.ended.wait(5)
    # counted once the stream's generators have unwound, just after the servicer's
    wait_for(
        lambda: sample(scrape(server), "grpc_server_handled_total", **watch, grpc_code="Canceled") == 1,
        timeout=5,
        what="the cancelled stream counted as Canceled",
    )
    assert sample(scrape(server), "grpc_server_handling_seconds_count", **watch) == 1


def test_the_pool_is_counted_in_use_during_a_call_and_idle_after_it(
    start_server: Callable[..., GrpcServer], pooled: peewee.Database
) -> None:
    catalog = FakeCatalog(pooled)
    server = start_server(catalog, pooled, metrics_address=LOOPBACK, health_probe_seconds=60)
    during: list[Samples] = []
    catalog.on_get = lambda _id: during.append(scrape(server))
    assert get_product(server, "needs-db") == grpc.StatusCode.OK
    after = scrape(server)
    assert sample(during[0], "pasar_db_connections", state="in_use") == 1
    assert sample(after, "pasar_db_connections", state="in_use") == 0
    # the start-up health check and the call each used the one pooled connection, now waiting
    assert sample(after, "pasar_db_connections", state="idle") == 1
    assert sample(after, "pasar_db_connections_max") == 4


class Figures(Collector):
    """A service's own figures, as svc-order's outbox collector yields them."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def collect(self) -> Iterator[Any]:
        if self.fail:
            raise peewee.OperationalError("the database does not answer")
        rows = GaugeMetricFamily("pasar_outbox_rows", "Rows waiting.", labels=["outbox"])
        rows.add_metric(["mail-outbox"], 3)
        yield rows


def test_a_services_own_figures_are_served_and_a_failing_collector_costs_only_its_own(
    grpc_servers: Callable[..., GrpcServer],
) -> None:
    server = grpc_servers(
        ServerSettings("127.0.0.1:0", metrics_address=LOOPBACK),
        [registration(FakeCatalog())],
        None,
        collectors=[Figures(), Figures(fail=True)],
    )
    assert get_product(server, "pulsa") == grpc.StatusCode.OK
    samples = scrape(server)
    assert sample(samples, "pasar_outbox_rows", outbox="mail-outbox") == 3
    assert sample(samples, "grpc_server_started_total", **GET_PRODUCT) == 1


def test_the_metrics_address_is_in_the_start_up_line_and_closed_at_stop(
    grpc_servers: Callable[..., GrpcServer], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pasar_kit.server"):
        server = grpc_servers(
            ServerSettings("127.0.0.1:0", metrics_address=LOOPBACK), [registration(FakeCatalog())], None
        )
    [serving] = [record for record in caplog.records if record.getMessage() == "serving"]
    address = server.metrics_address
    assert address is not None
    assert getattr(serving, "metrics_address", None) == address
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0
    server.stop(grace=0)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://{address}/metrics", timeout=2)


def test_without_a_metrics_address_there_is_no_listener_and_no_interceptor(
    start_server: Callable[..., GrpcServer],
) -> None:
    server = start_server(FakeCatalog())
    assert server.metrics is None
    assert server.metrics_address is None


@pytest.mark.parametrize(
    ("value", "address"),
    [(None, "127.0.0.1:0"), ("off", None), ("OFF", None), ("0.0.0.0:9464", "0.0.0.0:9464")],
)
def test_the_metrics_address_comes_from_the_environment(value: str | None, address: str | None) -> None:
    env = {"PASAR_METRICS_ADDRESS": value} if value is not None else {}
    assert ServerSettings.from_env(Env(env), "127.0.0.1:50051").metrics_address == address


def test_a_malformed_metrics_address_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="PASAR_METRICS_ADDRESS must be host:port"):
        ServerSettings.from_env(Env({"PASAR_METRICS_ADDRESS": "everywhere"}), "127.0.0.1:50051")


def test_a_sqlite_file_database_counts_connections_closed_by_close_all(tmp_path: Path) -> None:
    database = db.connect(f"sqlite:///{tmp_path / 'counted.db'}", max_connections=3)
    assert isinstance(database, db.CountedPool)
    with database.connection_context():
        assert database.pool_figures() == db.PoolFigures(in_use=1, idle=0, maximum=3)
    assert database.pool_figures() == db.PoolFigures(in_use=0, idle=1, maximum=3)
    db.close_pool(database)
    assert database.pool_figures() == db.PoolFigures(in_use=0, idle=0, maximum=3)


def test_a_taken_metrics_address_leaves_the_service_address_free(tmp_path: Path) -> None:
    """start() refuses a metrics address another socket holds, and lets go of the service's
    own address too (a caller may retry, or the process names the failure and exits)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        service_address = f"127.0.0.1:{free_port()}"
        server = GrpcServer(
            ServerSettings(service_address, metrics_address=taken), [registration(FakeCatalog())], None
        )
        with pytest.raises(ListenError):
            server.start()
    retry = GrpcServer(ServerSettings(service_address), [registration(FakeCatalog())], None)
    retry.start()  # ListenError here if the refused start still held the address
    retry.stop(grace=0)


def test_a_taken_service_address_leaves_the_metrics_address_free() -> None:
    metrics_address = f"127.0.0.1:{free_port()}"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        server = GrpcServer(
            ServerSettings(taken, metrics_address=metrics_address), [registration(FakeCatalog())], None
        )
        with pytest.raises(ListenError):
            server.start()
    retry = GrpcServer(
        ServerSettings("127.0.0.1:0", metrics_address=metrics_address), [registration(FakeCatalog())], None
    )
    retry.start()  # ListenError here if the refused start still held the metrics address
    retry.stop(grace=0)
