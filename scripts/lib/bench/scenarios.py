"""The scenarios: what is driven, through what, and how.

Every HTTP scenario runs wrk at the same number of connections (16 by default: the
concurrency the p99 target names) with one of the Lua scripts in ``lua/``; the raw gRPC
baseline runs h2load with 2 connections of 8 streams, as the gateway's two workers each
keep one channel and run 8 threads.

Every scenario names the processes it measures (:meth:`bench.shop.Deployment.cpu_groups`):
the CPU milliseconds per request of all of them, each server with every process it forked,
are reported beside its throughput.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import message

from bench.cpu import CpuGroups, CpuMeter
from bench.loadgen import Measurement, run_h2load_grpc, run_wrk, write_wrk_script
from bench.stock_check import rows
from bench.tracing import DRAIN_SECONDS
from pasar.product.v1 import product_service_pb2

CHECKOUT_CHANNEL = "qris"  # accepts every synthetic price (1,500 to about 1,000,000 rupiah)
MIX_WEIGHTS = {"home": 10, "product": 8, "order_page": 5, "buy": 2, "payment_page": 3}
GET_PRODUCT_PATH = "/pasar.product.v1.ProductService/GetProduct"
TRACING_BASELINES = ("browse", "checkout")
# Measured as browse is, drain included: cpu_per_browse_vs_monolith divides their CPU.
CPU_COMPARED_WITH_BROWSE = ("monolith_browse",)


def product_id(number: int) -> str:
    """The id of synthetic product `number` (see pasar_product.synthetic)."""
    return f"sintetis-{number:06d}"


def package_ids(products: int) -> list[str]:
    """The first package of each synthetic product: every one has at least 50 units."""
    return [f"{product_id(number)}-1" for number in range(1, products + 1)]


def random_products(products: int, count: int, seed: int) -> list[str]:
    chooser = random.Random(seed)  # noqa: S311 - a reproducible choice, not a secret
    numbers = list(range(1, products + 1))
    chooser.shuffle(numbers)
    return [product_id(number) for number in numbers[:count]]


@dataclass(frozen=True)
class Scenario:
    """One measured thing: a name, what it shows, and how to drive it for some seconds."""

    name: str
    description: str
    target: str
    kind: str  # "wrk" or "grpc"
    script: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    grpc_request: message.Message | None = None
    places_orders: bool = False
    # Whose CPU a run measures, per request (bench.cpu): e.g. the stack that serves it.
    cpu: CpuGroups = field(default_factory=dict, compare=False)
    # Seconds the CPU is still counted after the load: work the load left (spans exported).
    cpu_drain_seconds: float = 0.0

    def run(self, work_dir: Path, seconds: float, run_key: str, connections: int) -> Measurement:
        with CpuMeter(self.cpu) as meter:
            measured = self._drive(work_dir, seconds, run_key, connections)
            time.sleep(self.cpu_drain_seconds)
        return dataclasses.replace(measured, cpu_ms_per_request=meter.ms_per_request(measured.requests))

    def _drive(self, work_dir: Path, seconds: float, run_key: str, connections: int) -> Measurement:
        if self.kind == "grpc":
            assert self.grpc_request is not None
            return run_h2load_grpc(
                self.target.removeprefix("grpc://"),
                GET_PRODUCT_PATH,
                self.grpc_request,
                work_dir / self.name,
                seconds=seconds,
                connections=2,
                streams=max(1, connections // 2),
            )
        data = dict(self.data)
        if self.places_orders:
            data["RUN_KEY"] = run_key
        script = write_wrk_script(work_dir / self.name / f"{self.script}.lua", self.script, data)
        return run_wrk(self.target, script, seconds=seconds, connections=connections)


def browse(name: str, description: str, base_url: str, cpu: CpuGroups | None = None) -> Scenario:
    return Scenario(
        name, description, base_url, "wrk", "browse", {"PATHS": ["/api/v1/products"]}, cpu=cpu or {}
    )


def get_by_id(
    name: str,
    description: str,
    base_url: str,
    products: int,
    *,
    seed: int = 7,
    cpu: CpuGroups | None = None,
) -> Scenario:
    ids = random_products(products, min(products, 2000), seed)
    return Scenario(
        name,
        description,
        base_url,
        "wrk",
        "browse",
        {"PATHS": [f"/api/v1/products/{i}" for i in ids]},
        cpu=cpu or {},
    )


def example_destinations(product_url: str) -> dict[str, str]:
    """Each package's destination as its product asks for it (each field's example), as the
    JSON object an order line carries: the orders the scenarios place are valid."""
    found = {}
    for package_id, stored in rows(
        product_url,
        "SELECT pk.id, p.destination_fields FROM package pk JOIN product p ON p.id = pk.product_id",
    ):
        fields = json.loads(stored or "[]")
        found[str(package_id)] = json.dumps({field["name"]: field["example"] for field in fields})
    return found


def orderable(products: int, destinations: Mapping[str, str]) -> dict[str, Any]:
    """The packages the order scenarios buy, with their destinations in the same order."""
    packages = package_ids(products)
    return {"PACKAGES": packages, "DESTINATIONS": [destinations[package] for package in packages]}


def checkout(
    name: str,
    description: str,
    base_url: str,
    products: int,
    destinations: Mapping[str, str],
    *,
    cpu: CpuGroups | None = None,
) -> Scenario:
    return Scenario(
        name,
        description,
        base_url,
        "wrk",
        "checkout",
        {**orderable(products, destinations), "CHANNEL": CHECKOUT_CHANNEL},
        places_orders=True,
        cpu=cpu or {},
    )


def shopper_mix(
    name: str,
    description: str,
    base_url: str,
    products: int,
    destinations: Mapping[str, str],
    *,
    cpu: CpuGroups | None = None,
) -> Scenario:
    return Scenario(
        name,
        description,
        base_url,
        "wrk",
        "mix",
        {
            "PRODUCTS": random_products(products, products, 11),
            **orderable(products, destinations),
            "CHANNEL": CHECKOUT_CHANNEL,
            "WEIGHTS": MIX_WEIGHTS,
        },
        places_orders=True,
        cpu=cpu or {},
    )


def plain_get(
    name: str, description: str, base_url: str, path: str, *, cpu: CpuGroups | None = None
) -> Scenario:
    return Scenario(name, description, base_url, "wrk", "browse", {"PATHS": [path]}, cpu=cpu or {})


def raw_grpc(
    name: str, description: str, address: str, product: str, *, cpu: CpuGroups | None = None
) -> Scenario:
    return Scenario(
        name,
        description,
        f"grpc://{address}",
        "grpc",
        grpc_request=product_service_pb2.GetProductRequest(id=product),
        cpu=cpu or {},
    )


def tracing_scenarios(
    url: Callable[[str], str], cpu: Callable[[str], CpuGroups], destinations: Mapping[str, str]
) -> list[Scenario]:
    """Browse and checkout on two shops alike but for tracing: ON exports every span
    (OTEL_TRACES_SAMPLER=always_on) to a Jaeger on this machine, OFF has the same settings
    switched off by OTEL_SDK_DISABLED=true (bench.tracing); the CPU of each is counted
    until the spans of its load are exported (a drain after it, for ON and OFF alike)."""
    found = []
    for state in ("on", "off"):
        gateway = f"tracing-{state}-gateway"
        what = "every span to Jaeger" if state == "on" else "off (OTEL_SDK_DISABLED=true)"
        found += [
            browse(
                f"tracing_{state}_browse", f"tracing {what}: GET /api/v1/products", url(gateway), cpu(gateway)
            ),
            checkout(
                f"tracing_{state}_checkout",
                f"tracing {what}: POST /api/v1/orders",
                url(gateway),
                1000,
                destinations,
                cpu=cpu(gateway),
            ),
        ]
    return [dataclasses.replace(scenario, cpu_drain_seconds=DRAIN_SECONDS) for scenario in found]


def all_scenarios(
    url: Callable[[str], str],
    product_address: str,
    large: int,
    mysql: bool,
    destinations: Mapping[str, str],
    *,
    cpu: Callable[[str], CpuGroups],
    tracing: bool,
    one_process: bool = False,
) -> list[Scenario]:
    """Every scenario of a run, in the order of a round; destinations: each package's, as
    :func:`example_destinations` reads them (the synthetic catalogs are alike); cpu: the
    process groups whose CPU a scenario on a gateway (by its url name) or a baseline
    ("baselines", "transport", "grpc") measures; one_process: the shop with one process
    per service is there."""
    scenarios = [
        browse(
            "browse", "gateway GET /api/v1/products (20 a page), cache off", url("gateway"), cpu("gateway")
        ),
        get_by_id(
            "get",
            "gateway GET /api/v1/products/{id}, random ids, cache off",
            url("gateway"),
            1000,
            cpu=cpu("gateway"),
        ),
        browse(
            "browse_cached",
            "gateway GET /api/v1/products, cache on",
            url("gateway-cached"),
            cpu("gateway-cached"),
        ),
        get_by_id(
            "get_cached",
            "gateway GET /api/v1/products/{id}, cache on",
            url("gateway-cached"),
            1000,
            cpu=cpu("gateway-cached"),
        ),
        browse(
            "browse_1_worker",
            "gateway with 1 worker, GET /api/v1/products",
            url("gateway-1-worker"),
            cpu("gateway-1-worker"),
        ),
        get_by_id(
            "get_1_worker",
            "gateway with 1 worker, GET /api/v1/products/{id}",
            url("gateway-1-worker"),
            1000,
            cpu=cpu("gateway-1-worker"),
        ),
        browse(
            "browse_large",
            f"GET /api/v1/products, {large:,} products",
            url("gateway-large"),
            cpu("gateway-large"),
        ),
        get_by_id(
            "get_large",
            f"GET /api/v1/products/{{id}}, {large:,} products",
            url("gateway-large"),
            large,
            cpu=cpu("gateway-large"),
        ),
        checkout(
            "checkout",
            "gateway POST /api/v1/orders, 1 unit of a random package",
            url("gateway"),
            1000,
            destinations,
            cpu=cpu("gateway"),
        ),
        shopper_mix(
            "mix",
            "shopper mix (home, product, order page, buy, payment page), cache on",
            url("gateway-cached"),
            1000,
            destinations,
            cpu=cpu("gateway-cached"),
        ),
        raw_grpc(
            "grpc_get",
            "baseline: raw gRPC ProductService/GetProduct",
            product_address,
            product_id(5),
            cpu=cpu("grpc"),
        ),
        plain_get(
            "monolith_browse",
            "baseline: monolith Flask, same query and JSON as /api/v1/products",
            url("baselines"),
            "/api/v1/products",
            cpu=cpu("baselines"),
        ),
        get_by_id(
            "monolith_get",
            "baseline: monolith Flask, /api/v1/products/{id}",
            url("baselines"),
            1000,
            cpu=cpu("baselines"),
        ),
        plain_get(
            "hello",
            "baseline: static Flask hello, same gunicorn settings",
            url("baselines"),
            "/hello",
            cpu=cpu("baselines"),
        ),
        plain_get(
            "transport",
            "baseline: Flask route making one gRPC Health/Check call",
            url("baselines"),
            "/echo",
            cpu=cpu("transport"),
        ),
    ]
    if one_process:
        gateway = "1-process-gateway"
        scenarios += [
            browse(
                "browse_1_process",
                "one process per service (PASAR_GRPC_PROCESSES=1): GET /api/v1/products",
                url(gateway),
                cpu(gateway),
            ),
            get_by_id(
                "get_1_process",
                "one process per service (PASAR_GRPC_PROCESSES=1): GET /api/v1/products/{id}",
                url(gateway),
                1000,
                cpu=cpu(gateway),
            ),
        ]
    if mysql:
        scenarios += [
            browse(
                "mysql_browse",
                "MySQL mode: gateway GET /api/v1/products, cache off",
                url("mysql-gateway"),
                cpu("mysql-gateway"),
            ),
            get_by_id(
                "mysql_get",
                "MySQL mode: gateway GET /api/v1/products/{id}",
                url("mysql-gateway"),
                1000,
                cpu=cpu("mysql-gateway"),
            ),
            checkout(
                "mysql_checkout",
                "MySQL mode: gateway POST /api/v1/orders",
                url("mysql-gateway"),
                1000,
                destinations,
                cpu=cpu("mysql-gateway"),
            ),
        ]
    if tracing:
        # The ordinary browse and checkout are OFF's baselines: their CPU is counted the
        # same way, the drain included (checkout's orders leave outbox work behind them);
        # and the monolith's browse as browse, since their CPU per request is a target.
        drained = (*TRACING_BASELINES, *CPU_COMPARED_WITH_BROWSE)
        scenarios = [
            dataclasses.replace(scenario, cpu_drain_seconds=DRAIN_SECONDS)
            if scenario.name in drained
            else scenario
            for scenario in scenarios
        ]
        scenarios += tracing_scenarios(url, cpu, destinations)
    return scenarios


def rotated(scenarios: Sequence[Scenario], round_number: int) -> list[Scenario]:
    """The round's order: each round starts one scenario further, so no one always goes first."""
    shift = round_number % len(scenarios)
    return [*scenarios[shift:], *scenarios[:shift]]
