"""Everything the benchmarks measure, started as processes on free loopback ports.

- the shop on SQLite (embedded mode) with a 1,000-product catalog: the three services,
  svc-fulfillment (Go; its sandbox biller answering at once) and three gateways (cache
  off with 2 workers, cache on with 2 workers, cache off with 1), and an electricity
  token with a meter-number field for the delivery figures (:mod:`bench.delivery`);
  the Python services run as many worker processes as their default
  ``PASAR_GRPC_PROCESSES`` says, or as ``--processes`` sets for every shop;
- a second SQLite shop like the first with ``PASAR_GRPC_PROCESSES=1`` (one process per
  service), so that one run compares the chosen setting with a single process;
- a second product service on a 100,000-product catalog, with its own gateway (cache off);
- the shop on MariaDB (MySQL mode): a private MariaDB server, the four services on one
  database each, a 1,000-product catalog and a gateway (cache off);
- the baselines (:mod:`bench.baselines`), reading the SQLite shop's product database;
- for tracing's cost (:mod:`bench.tracing`): a Jaeger and two more SQLite shops like the
  first, one exporting every span to that Jaeger, one with the same settings switched off.

The synthetic catalogs (``pasar-product load-synthetic``) are made once and kept under
``var/bench/cache``, keyed by the catalog code and migrations that made them; each run
works on a copy. Everything started is stopped by PID in :meth:`Deployment.stop`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench import tracing
from bench.cpu import CpuGroups
from bench.delivery import seed_delivered_product
from bench.memory import process_tree
from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.processes import ComponentProcess, console_script
from pasar_testkit.stack import STACK_COMPONENTS, Stack

REPO = Path(__file__).resolve().parents[3]
SCRIPTS_LIB = REPO / "scripts" / "lib"
PRODUCT_SOURCES = REPO / "svc-product" / "src" / "pasar_product"

# What differs from a user's defaults, and why: orders are not rate limited (the benchmark
# is one client address placing thousands of orders), and health probes run at their
# production period rather than the tests' faster one.
COMMON_ENV = {
    "PASAR_HEALTH_PROBE_SECONDS": "2",
    "PASAR_ORDER_RATE_LIMIT": "off",
}
# The sandbox biller answers at once: the delivery figures measure the shop, not a biller.
FULFILLMENT_ENV = {"PASAR_SANDBOX_BILLER_DELAY_SECONDS": "0"}
SERVERS = ("product", "payment", "order", "fulfillment", "gateway")
TRACING_STATES = ("on", "off")
SERVICES = ("product", "payment", "order", "fulfillment")  # a shop's servers but its gateway
PYTHON_SERVICES = ("product", "payment", "order")
PROCESSES_SETTING = "PASAR_GRPC_PROCESSES"
ONE_PROCESS = "1-process"  # the mode (and process-name prefix) of the one-process shop


def gateway_env(*, cache: bool, workers: int, threads: int) -> dict[str, str]:
    return {
        "PASAR_CATALOG_CACHE": "true" if cache else "false",
        "PASAR_GATEWAY_WORKERS": str(workers),
        "PASAR_GATEWAY_THREADS": str(threads),
    }


def catalog_key() -> str:
    """A hash of what makes a synthetic catalog: the migrations and the loader's code."""
    digest = hashlib.sha256()
    files = [
        *sorted((PRODUCT_SOURCES / "migrations").glob("*.py")),
        PRODUCT_SOURCES / "synthetic.py",
        PRODUCT_SOURCES / "models.py",
        PRODUCT_SOURCES / "demo" / "__init__.py",
    ]
    for file in files:
        if file.exists():
            digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def load_synthetic(database_url: str, products: int, log_file: Path) -> None:
    with log_file.open("ab") as log:
        subprocess.run(
            [console_script("pasar-product"), "load-synthetic", "--products", str(products)],
            env={**os.environ, "DATABASE_URL": database_url, "PASAR_LOG_LEVEL": "warning"},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )


def cached_catalog(cache_dir: Path, products: int) -> Path:
    """A SQLite product database holding the synthetic catalog of `products` products."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"catalog-{products}-{catalog_key()}.db"
    if path.exists():
        return path
    for stale in cache_dir.glob(f"catalog-{products}-*"):
        stale.unlink()
    building = cache_dir / f".building-{products}.db"
    for leftover in cache_dir.glob(f".building-{products}.db*"):
        leftover.unlink()
    load_synthetic(f"sqlite:///{building}", products, cache_dir / "catalog.log")
    building.rename(path)
    for leftover in cache_dir.glob(f".building-{products}.db*"):
        leftover.unlink()
    return path


def copy_catalog(cache_dir: Path, products: int, target: Path) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached_catalog(cache_dir, products), target)
    return f"sqlite:///{target}"


@dataclass
class Deployment:
    """The processes of one benchmark run and where they listen."""

    base: Path
    cache_dir: Path
    large_catalog: int
    with_mysql: bool
    with_tracing: bool = True
    # PASAR_GRPC_PROCESSES for every Python service of every shop; None: the services' default.
    grpc_processes: str | None = None
    with_one_process: bool = True
    workers: int = 2
    threads: int = 8
    sqlite: Stack | None = None
    mysql: Stack | None = None
    mariadb: MariaDBServer | None = None
    jaeger: JaegerServer | None = None
    tracing_stacks: dict[str, Stack] = field(default_factory=dict)  # by TRACING_STATES
    one_process: Stack | None = None
    database_urls: dict[str, dict[str, str]] = field(default_factory=dict)
    extras: dict[str, ComponentProcess] = field(default_factory=dict)

    # Start-up.

    def start(self) -> None:
        try:
            self._start_sqlite()
            self._start_large_catalog()
            self._start_baselines()
            if self.with_mysql:
                self._start_mysql()
            if self.with_tracing:
                self._start_tracing()
            if self.with_one_process:
                self.one_process = self._sqlite_stack(ONE_PROCESS, processes="1")
        except BaseException:
            self.stop()
            raise

    def _stack_env(self) -> dict[str, str]:
        return dict(COMMON_ENV)

    def _component_env(self, processes: str | None = None) -> dict[str, dict[str, str]]:
        """Each component's own settings: the gateway's, svc-fulfillment's and, when chosen
        (processes, else --processes), PASAR_GRPC_PROCESSES for each Python service."""
        found = {
            "gateway": gateway_env(cache=False, workers=self.workers, threads=self.threads),
            "fulfillment": FULFILLMENT_ENV,
        }
        chosen = processes or self.grpc_processes
        if chosen is not None:
            found |= {name: {PROCESSES_SETTING: chosen} for name in PYTHON_SERVICES}
        return found

    def _sqlite_stack(
        self, mode: str, extra_env: Mapping[str, str] | None = None, *, processes: str | None = None
    ) -> Stack:
        """A started SQLite shop on a copy of the 1,000-product catalog, its databases
        under the mode's folder and named by mode in database_urls."""
        folder = self.base / mode
        urls = {
            "product": copy_catalog(self.cache_dir, 1000, folder / "product.db"),
            "payment": f"sqlite:///{folder / 'payment.db'}",
            "order": f"sqlite:///{folder / 'order.db'}",
            "fulfillment": f"sqlite:///{folder / 'fulfillment.db'}",
        }
        self.database_urls[mode] = urls
        stack = Stack(
            folder,
            urls,
            env={**self._stack_env(), **(extra_env or {})},
            component_env=self._component_env(processes),
        )
        try:
            stack.start(*STACK_COMPONENTS)
        except BaseException:
            stack.stop()
            raise
        return stack

    def _start_sqlite(self) -> None:
        self.sqlite = self._sqlite_stack("sqlite")
        seed_delivered_product(self.sqlite.address("product"))
        self._add_gateway(self.sqlite, "gateway-cached", cache=True, workers=self.workers)
        self._add_gateway(self.sqlite, "gateway-1-worker", cache=False, workers=1)

    def _add_gateway(
        self,
        stack: Stack,
        name: str,
        *,
        cache: bool,
        workers: int,
        overrides: Mapping[str, str] | None = None,
    ) -> ComponentProcess:
        env = {key: value for key, value in stack["gateway"].env.items() if key != "PASAR_LISTEN_ADDRESS"}
        env.update(gateway_env(cache=cache, workers=workers, threads=self.threads))
        env.update(overrides or {})
        process = ComponentProcess(
            name,
            command=[console_script("pasar-gateway")],
            env=env,
            log_dir=stack.base / "logs",
            http_ready_path="/healthz",
        )
        self.extras[name] = process
        process.start()
        return process

    def _start_large_catalog(self) -> None:
        assert self.sqlite is not None
        folder = self.base / "large"
        url = copy_catalog(self.cache_dir, self.large_catalog, folder / "product.db")
        env = {
            key: value for key, value in self.sqlite["product"].env.items() if key != "PASAR_LISTEN_ADDRESS"
        }
        env["DATABASE_URL"] = url
        product = ComponentProcess(
            "product-large", command=[console_script("pasar-product"), "serve"], env=env, log_dir=folder
        )
        self.extras["product-large"] = product
        product.start()
        self._add_gateway(
            self.sqlite,
            "gateway-large",
            cache=False,
            workers=self.workers,
            overrides={"PASAR_PRODUCT_ADDRESS": product.address},
        )

    def _start_baselines(self) -> None:
        assert self.sqlite is not None
        python_path = os.pathsep.join(filter(None, [str(SCRIPTS_LIB), os.environ.get("PYTHONPATH")]))
        baselines = ComponentProcess(
            "baselines",
            command=[sys.executable, "-m", "bench.baselines"],
            env={
                "PYTHONPATH": python_path,
                "DATABASE_URL": self.database_urls["sqlite"]["product"],
                "PASAR_PRODUCT_ADDRESS": self.sqlite.address("product"),
                "PASAR_GATEWAY_WORKERS": str(self.workers),
                "PASAR_GATEWAY_THREADS": str(self.threads),
                "PASAR_LOG_LEVEL": "warning",
            },
            log_dir=self.base / "baselines",
            http_ready_path="/hello",
        )
        self.extras["baselines"] = baselines
        baselines.start()

    def _start_mysql(self) -> None:
        folder = self.base / "mysql"
        self.mariadb = MariaDBServer(folder / "mariadb")
        self.mariadb.start()
        urls = {
            name: self.mariadb.create_database(prefix=f"bench_{name}")
            for name in ("product", "payment", "order", "fulfillment")
        }
        self.database_urls["mysql"] = urls
        load_synthetic(urls["product"], 1000, folder / "catalog.log")
        self.mysql = Stack(
            folder,
            urls,
            env=self._stack_env(),
            component_env=self._component_env(),
        )
        self.mysql.start(*STACK_COMPONENTS)

    def _start_tracing(self) -> None:
        self.jaeger = JaegerServer(self.base / "jaeger")
        self.jaeger.start()
        for state in TRACING_STATES:
            env = tracing.tracing_env(self.jaeger.otlp_endpoint, on=state == "on")
            self.tracing_stacks[state] = self._sqlite_stack(f"tracing-{state}", env)

    # What the scenarios need.

    def url(self, name: str) -> str:
        """The base URL of a gateway (gateway, gateway-cached, gateway-1-worker, gateway-large,
        mysql-gateway) or of the baselines."""
        if name == "gateway":
            assert self.sqlite is not None
            return self.sqlite.gateway_url
        if name == "mysql-gateway":
            assert self.mysql is not None
            return self.mysql.gateway_url
        if name.startswith("tracing-"):
            return self.tracing_stacks[_tracing_state(name)].gateway_url
        if name == f"{ONE_PROCESS}-gateway":
            assert self.one_process is not None
            return self.one_process.gateway_url
        return f"http://{self.extras[name].address}"

    def cpu_groups(self, name: str) -> CpuGroups:
        """Whose CPU a scenario measures, every process of each server counted (a gunicorn
        master and its workers, a service's supervisor and its workers): for a gateway
        `name` (as url() names them), the shop's servers behind it ("servers": that gateway
        and the four services, MariaDB in MySQL mode) and, for the traced shop, Jaeger's
        apart ("jaeger"); for the baselines, "baselines" (the baselines' server: the
        monolith, hello), "transport" (it and the product service its route calls) and
        "grpc" (the product service alone, for raw gRPC)."""
        groups: dict[str, Callable[[], Mapping[str, int]]] = {}
        if name == "gateway":
            groups["servers"] = lambda: self._stack_servers(self.sqlite)
        elif name in ("gateway-cached", "gateway-1-worker"):
            groups["servers"] = lambda: self._shop_behind(name, self.sqlite)
        elif name == "gateway-large":
            groups["servers"] = lambda: self._shop_behind(name, self.sqlite, product="product-large")
        elif name == "mysql-gateway":
            groups["servers"] = lambda: self._stack_servers(self.mysql) | self._mariadb_process()
        elif name == f"{ONE_PROCESS}-gateway":
            groups["servers"] = lambda: self._stack_servers(self.one_process)
        elif name.startswith("tracing-"):
            state = _tracing_state(name)
            groups["servers"] = lambda: self._stack_servers(self.tracing_stacks[state])
            if state == "on":
                groups["jaeger"] = self._jaeger_process
        elif name == "baselines":
            groups["servers"] = lambda: self._extra_tree("baselines")
        elif name == "transport":
            groups["servers"] = lambda: (
                self._extra_tree("baselines") | self._stack_servers(self.sqlite, ("product",))
            )
        elif name == "grpc":
            groups["servers"] = lambda: self._stack_servers(self.sqlite, ("product",))
        return groups

    def _extra_tree(self, name: str) -> dict[str, int]:
        component = self.extras.get(name)
        if component is None or component.process is None or component.process.poll() is not None:
            return {}
        return process_tree(name, component.process.pid)

    def _shop_behind(self, gateway: str, stack: Stack | None, product: str = "product") -> dict[str, int]:
        """The processes of the gateway `gateway` (an extra) and of the SQLite shop's services
        it calls (with the product service `product`: the stack's or an extra)."""
        services = tuple(name for name in SERVICES if name != "product" or product == "product")
        found = self._stack_servers(stack, services) | self._extra_tree(gateway)
        return found if product == "product" else found | self._extra_tree(product)

    def service_processes(self) -> dict[str, int]:
        """How many processes serve each Python service of the SQLite shop: its workers, or
        1 when it forked none (what the chosen PASAR_GRPC_PROCESSES came to)."""
        found = {}
        for name in PYTHON_SERVICES:
            tree = self._stack_servers(self.sqlite, (name,))
            found[name] = max(1, len(tree) - 1)
        return found

    def product_address(self) -> str:
        assert self.sqlite is not None
        return self.sqlite.address("product")

    def processes(self) -> dict[str, int]:
        """Every server process by name (masters and supervisors: their workers are found from them)."""
        found: dict[str, int] = {}
        stacks = [("", self.sqlite), ("mysql-", self.mysql)]
        stacks += [(f"tracing-{state}-", stack) for state, stack in self.tracing_stacks.items()]
        stacks.append((f"{ONE_PROCESS}-", self.one_process))
        for prefix, stack in stacks:
            if stack is None:
                continue
            for name in SERVERS:
                process = stack[name].process
                if process is not None and process.poll() is None:
                    found[f"{prefix}{name}"] = process.pid
        for name, component in self.extras.items():
            if component.process is not None and component.process.poll() is None:
                found[name] = component.process.pid
        return found | self._mariadb_process() | self._jaeger_process()

    def _mariadb_process(self) -> dict[str, int]:
        if self.mariadb is not None and self.mariadb.process is not None:
            return {"mariadb": self.mariadb.process.pid}
        return {}

    def _jaeger_process(self) -> dict[str, int]:
        if self.jaeger is not None and self.jaeger.process is not None:
            return {"jaeger": self.jaeger.process.pid}
        return {}

    @staticmethod
    def _stack_servers(stack: Stack | None, names: tuple[str, ...] = SERVERS) -> dict[str, int]:
        """Every process of a shop's servers that a purchase goes through (by default): its
        gateway (master and workers) and the four services (each supervisor and workers)."""
        if stack is None:
            return {}
        found: dict[str, int] = {}
        for name in names:
            process = stack[name].process
            if process is None or process.poll() is not None:
                continue
            found.update(process_tree(name, process.pid))
        return found

    def sqlite_server_processes(self) -> dict[str, int]:
        """The SQLite shop's servers that a purchase goes through (see _stack_servers)."""
        return self._stack_servers(self.sqlite)

    def logs(self) -> str:
        stacks = [self.sqlite, self.mysql, *self.tracing_stacks.values(), self.one_process]
        parts = [stack.logs() for stack in stacks if stack is not None]
        parts += [f"--- {name}\n{process.log_tail()}" for name, process in self.extras.items()]
        return "\n".join(parts)

    def stop(self) -> None:
        """Stops every process this deployment started, by PID."""
        for process in reversed(list(self.extras.values())):
            process.stop()
        for stack in (self.one_process, *self.tracing_stacks.values(), self.mysql, self.sqlite):
            if stack is not None:
                stack.stop()
        if self.jaeger is not None:
            self.jaeger.stop()
        if self.mariadb is not None:
            self.mariadb.remove()


def _tracing_state(gateway_name: str) -> str:
    """ "on" or "off" from "tracing-on-gateway" or "tracing-off-gateway"."""
    return gateway_name.removeprefix("tracing-").removesuffix("-gateway")
