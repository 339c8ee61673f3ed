"""``scripts/bench [--quick] [--profile]``: starts everything, measures, writes and prints the table.

A run: start the deployment (:mod:`bench.shop`); check that the baselines answer what the
gateway answers (the monolith's JSON must equal the gateway's, byte for byte once parsed);
record each process's idle memory and the catalog's stock; warm every scenario up; run
the interleaved rounds while a thread samples memory; let the shop settle and check the
stock against the orders; stop everything; write ``results.json`` and ``results.md``
under ``var/bench`` and print the table. ``--profile`` then records py-spy profiles of the
servers under the browse, get and checkout loads into ``var/bench/profiles``.

Tracing's cost (:mod:`bench.tracing`) is measured in the same rounds: browse and checkout on
a shop exporting every span to a Jaeger the bench starts, and on the same shop with tracing
switched off; ``--no-tracing`` leaves them out.

The Python services run with their default ``PASAR_GRPC_PROCESSES`` (worker processes per
service), or with ``--processes N`` (a positive integer or ``auto``) in every shop, so that
separate runs compare settings; a second SQLite shop with one process per service is
measured in the same rounds (``browse_1_process``, ``get_1_process``) unless the setting is 1.

The command fails (status 1) when a correctness check fails (a baseline answering
something else, oversold or unaccounted stock, server errors); a missed speed target is
reported, not a failure.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import requests

from bench import delivery, machine, report, tracing
from bench.loadgen import LoadError, Measurement
from bench.memory import MemoryWatch, process_tree
from bench.scenarios import Scenario, all_scenarios, example_destinations, product_id, rotated
from bench.shop import PROCESSES_SETTING, REPO, Deployment
from bench.stock_check import check_stock, package_stock
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_testkit.stack import TEST_PROCESSES


@dataclass(frozen=True)
class Profile:
    """How long and how often: --quick is the same run, shorter."""

    name: str
    seconds: float
    rounds: int
    warmup_seconds: float
    purchases: int = 200  # purchases timed from "Beli" to delivery, one after another
    checkout_seconds: float = 15  # checkout with fulfillment in the path
    checkout_shoppers: int = 8


FULL = Profile("full", seconds=6, rounds=5, warmup_seconds=2)
QUICK = Profile("quick", seconds=2, rounds=3, warmup_seconds=1, purchases=40, checkout_seconds=5)
LARGE_CATALOG = 100_000
SETTLE_SECONDS = 3.0


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback servers
        return json.loads(response.read())


def preflight(deployment: Deployment) -> dict[str, Any]:
    """The baselines answer what they stand for; raises AssertionError otherwise."""
    gateway, baselines = deployment.url("gateway"), deployment.url("baselines")
    checks: dict[str, Any] = {}
    for path in ("/api/v1/products", f"/api/v1/products/{product_id(5)}"):
        same = fetch_json(gateway + path) == fetch_json(baselines + path)
        checks[f"monolith_document_equals_gateway {path}"] = same
        if not same:
            raise AssertionError(f"the monolith's {path} differs from the gateway's: the baseline is unfair")
    echo = fetch_json(baselines + "/echo")
    checks["transport_echo"] = echo
    if echo != {"status": "SERVING"}:
        raise AssertionError(f"the transport baseline's gRPC call answered {echo}")
    with grpc.insecure_channel(deployment.product_address()) as channel:
        stub: Any = product_service_pb2_grpc.ProductServiceStub(channel)
        answer = stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id(5)), timeout=5)
        checks["raw_grpc_get_product"] = answer.product.id == product_id(5)
    return checks


def run_rounds(
    scenarios: Sequence[Scenario], profile: Profile, work_dir: Path, connections: int, watch: MemoryWatch
) -> dict[str, list[Measurement]]:
    """Every scenario's warm-up then the rounds; each scenario's runs a phase of the memory watch."""
    runs: dict[str, list[Measurement]] = collections.defaultdict(list)
    if profile.warmup_seconds:
        say(f"warming up {len(scenarios)} scenarios")
        for scenario in scenarios:
            with watch.phase(scenario.name):
                scenario.run(
                    work_dir / "warmup", profile.warmup_seconds, f"warm-{scenario.name}", connections
                )
    for number in range(profile.rounds):
        say(f"round {number + 1} of {profile.rounds}")
        for scenario in rotated(scenarios, number):
            with watch.phase(scenario.name):
                measured = scenario.run(work_dir, profile.seconds, f"r{number}-{scenario.name}", connections)
            runs[scenario.name].append(measured)
            print(
                f"    {scenario.name:<18} {measured.rps:>8.1f} req/s  p50 {measured.p50_ms:7.2f} ms  "
                f"p99 {measured.p99_ms:7.2f} ms  failed {measured.failed + measured.socket_errors}",
                file=sys.stderr,
                flush=True,
            )
    return {scenario.name: runs[scenario.name] for scenario in scenarios}


def server_errors(runs: Mapping[str, Sequence[Measurement]]) -> dict[str, int]:
    """5xx answers and socket errors per scenario (4xx are the shop saying no: sold out)."""
    found = {}
    for name, measured in runs.items():
        count = sum(
            sum(n for code, n in run.statuses.items() if code.startswith("5")) + run.socket_errors
            for run in measured
        )
        if count:
            found[name] = count
    return found


def profile_servers(
    deployment: Deployment, scenarios: Sequence[Scenario], folder: Path, connections: int
) -> list[Path]:
    """py-spy (GIL holders only: where the CPU goes) of the servers under three loads."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    by_name = {scenario.name: scenario for scenario in scenarios}
    for name in ("browse", "get", "checkout"):
        targets: dict[str, int] = {}
        for server in ("gateway", "product", "order", "payment"):
            tree = process_tree(server, deployment.processes()[server])
            if len(tree) > 1:
                tree.pop(server)  # a master or supervisor only forks and watches
            targets |= tree
        recorders = []
        for process, pid in targets.items():
            raw = folder / f"{name}-{process.replace('/', '-')}.txt"
            recorders.append(
                (
                    raw,
                    subprocess.Popen(
                        [
                            py_spy,
                            "record",
                            "--pid",
                            str(pid),
                            "--duration",
                            "8",
                            "--rate",
                            "200",
                            "--gil",
                            "--nonblocking",
                            "--format",
                            "raw",
                            "--output",
                            str(raw),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
        time.sleep(0.5)
        by_name[name].run(folder / "work", 9, f"profile-{name}", connections)
        for raw, recorder in recorders:
            recorder.wait(timeout=60)
            if raw.exists():
                summary = raw.with_suffix(".summary.txt")
                summary.write_text(summarise_profile(raw))
                written.append(summary)
    return written


def summarise_profile(raw: Path, top: int = 30) -> str:
    """The functions that hold the GIL most, by their own samples and with their callees."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples holding the GIL", "", "own time:"]
    lines += [f"{count * 100 / total:6.1f}%  {frame}" for frame, count in own.most_common(top)]
    lines += ["", "with callees:"]
    lines += [f"{count * 100 / total:6.1f}%  {frame}" for frame, count in inclusive.most_common(top * 2)]
    return "\n".join(lines) + "\n"


def processes_setting(text: str) -> str:
    """--processes: a positive integer or "auto", as the services read PASAR_GRPC_PROCESSES."""
    if text == "auto" or (text.isdigit() and int(text) > 0):
        return text
    raise argparse.ArgumentTypeError(f"expected a positive integer or auto, not {text!r}")


def parse_arguments(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Profile]:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the same run, shorter (about 5 minutes)")
    parser.add_argument("--profile", action="store_true", help="then record py-spy profiles of the servers")
    parser.add_argument("--no-mysql", action="store_true", help="skip the MySQL mode (MariaDB)")
    parser.add_argument("--no-tracing", action="store_true", help="skip tracing's cost (Jaeger, two shops)")
    parser.add_argument("--rounds", type=int, help="rounds of every scenario (medians over them)")
    parser.add_argument("--seconds", type=float, help="seconds of each measured run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument(
        "--processes",
        type=processes_setting,
        help=f"{PROCESSES_SETTING} (a positive integer or auto) for every Python service "
        "of every shop (default: the services' own default)",
    )
    parser.add_argument("--output", type=Path, default=REPO / "var" / "bench", help="where results go")
    args = parser.parse_args(argv)
    chosen = QUICK if args.quick else FULL
    profile = Profile(
        chosen.name,
        seconds=args.seconds or chosen.seconds,
        rounds=args.rounds or chosen.rounds,
        warmup_seconds=chosen.warmup_seconds,
        purchases=chosen.purchases,
        checkout_seconds=chosen.checkout_seconds,
        checkout_shoppers=chosen.checkout_shoppers,
    )
    return args, profile


@dataclass
class Outcome:
    """What a run measured and checked."""

    scenarios: list[Scenario]
    runs: dict[str, list[Measurement]]
    checks: dict[str, Any]
    delivery: dict[str, Any]
    jaeger: dict[str, Any] | None = None
    service_processes: dict[str, int] | None = None  # processes serving each Python service


def measure_delivery(deployment: Deployment, profile: Profile, watch: MemoryWatch) -> dict[str, Any]:
    """Purchase to delivery, then checkout with fulfillment in the path (SQLite shop)."""
    say(f"purchase to delivery: {profile.purchases} purchases, one after another")
    with watch.phase("purchase_to_delivery"):
        figures = delivery.purchase_to_delivery(deployment.url("gateway"), profile.purchases)
    say(f"checkout with fulfillment: {profile.checkout_shoppers} shoppers for {profile.checkout_seconds:g} s")
    with watch.phase("checkout_with_fulfillment"):
        figures |= delivery.checkout_with_fulfillment(
            deployment.url("gateway"),
            deployment.database_urls["sqlite"]["order"],
            deployment.sqlite_server_processes,
            profile.checkout_seconds,
            profile.checkout_shoppers,
        )
    return figures


def measure(
    deployment: Deployment, watch: MemoryWatch, args: argparse.Namespace, profile: Profile
) -> Outcome:
    """Starts the deployment, checks it, runs the rounds, checks the stock (and profiles)."""
    deployment.start()
    checks: dict[str, Any] = {"preflight": preflight(deployment)}
    initial = {mode: package_stock(urls["product"]) for mode, urls in deployment.database_urls.items()}
    destinations = example_destinations(deployment.database_urls["sqlite"]["product"])
    scenarios = all_scenarios(
        deployment.url,
        deployment.product_address(),
        LARGE_CATALOG,
        not args.no_mysql,
        destinations,
        cpu=deployment.cpu_groups,
        tracing=not args.no_tracing,
        one_process=deployment.one_process is not None,
    )
    service_processes = deployment.service_processes()
    watch.record_idle()
    watch.start()
    runs = run_rounds(scenarios, profile, deployment.base / "load", args.connections, watch)
    delivered = measure_delivery(deployment, profile, watch)  # svc-fulfillment's memory under its load
    watch.stop()
    received = None
    if deployment.jaeger is not None:  # the rounds' spans are exported by now (5 s batches)
        received = tracing.what_jaeger_received(deployment.jaeger)
        received["dropped_span_warnings"] = tracing.dropped_span_warnings(deployment.tracing_stacks["on"])
        received["components_tracing"] = {
            state: tracing.components_tracing(stack) for state, stack in deployment.tracing_stacks.items()
        }
    time.sleep(SETTLE_SECONDS)
    checks["stock"] = {
        mode: check_stock(initial[mode], urls["product"], urls["order"]).as_json()
        for mode, urls in deployment.database_urls.items()
    }
    checks["server_errors"] = server_errors(runs)
    if args.profile:
        say("profiling the servers (py-spy)")
        profiles = profile_servers(deployment, scenarios, args.output / "profiles", args.connections)
        checks["profiles"] = [str(path) for path in profiles]
    return Outcome(scenarios, runs, checks, delivered, received, service_processes)


def failed_checks(checks: Mapping[str, Any]) -> list[str]:
    failed = [
        f"{mode}: {stock}"
        for mode, stock in checks["stock"].items()
        if stock["oversold_units"] or stock["stock_mismatches"] or stock["negative_stock_packages"]
    ]
    if checks["server_errors"]:
        failed.append(f"server errors: {checks['server_errors']}")
    return failed


def failed_deliveries(figures: Mapping[str, Any]) -> list[str]:
    """Purchases of the checkout-with-fulfillment load that were refused or not delivered."""
    refused, placed = (
        figures["checkout_with_fulfillment_errors"],
        figures["checkout_with_fulfillment_purchases"],
    )
    undelivered = placed - figures["checkout_with_fulfillment_delivered"]
    if refused or undelivered:
        return [f"checkout with fulfillment: {refused} refused, {undelivered} of {placed} not delivered"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    args, profile = parse_arguments(argv)
    # The test suites' knob for every stack's processes (pasar_testkit.stack) is not the
    # bench's: its shops run the services' default, or --processes.
    os.environ.pop(TEST_PROCESSES, None)
    started, started_at = time.monotonic(), datetime.now(UTC).isoformat(timespec="seconds")
    output: Path = args.output
    work_dir = output / "run"
    shutil.rmtree(work_dir, ignore_errors=True)
    description = machine.describe()
    deployment = Deployment(
        work_dir,
        output / "cache",
        large_catalog=LARGE_CATALOG,
        with_mysql=not args.no_mysql,
        with_tracing=not args.no_tracing,
        grpc_processes=args.processes,
        with_one_process=processes_chosen(args) != "1",
    )
    say(
        f"starting the shop, a {LARGE_CATALOG:,}-product catalog and the baselines"
        + ("" if args.no_mysql else ", and the shop on MariaDB")
        + ("" if args.no_tracing else ", Jaeger and a traced and an untraced shop")
    )
    watch = MemoryWatch(lambda: _all_processes(deployment))
    try:
        outcome = measure(deployment, watch, args, profile)
    except (
        LoadError,
        AssertionError,
        RuntimeError,
        subprocess.CalledProcessError,
        requests.RequestException,
    ) as error:
        say(f"the benchmark failed: {error}")
        print(deployment.logs(), file=sys.stderr)
        return 1
    finally:
        watch.stop()
        deployment.stop()
    description["load_average_at_end"] = machine.load_average()
    results = report.build(
        mode=profile.name,
        settings={
            "rounds": profile.rounds,
            "seconds_per_run": profile.seconds,
            "warmup_seconds": profile.warmup_seconds,
            "connections": args.connections,
            "gateway_workers": deployment.workers,
            "gateway_threads": deployment.threads,
            "grpc_processes": processes_chosen(args),
            "service_processes": outcome.service_processes,
            "catalogs": {"small": 1000, "large": LARGE_CATALOG},
            "load_generators": "wrk (HTTP/1.1, 1 thread), h2load (gRPC: 2 connections × 8 streams)",
            "mysql_mode": not args.no_mysql,
            "tracing": None if args.no_tracing else {"on": tracing.tracing_env("<jaeger>", on=True)},
        },
        machine=description,
        descriptions={scenario.name: scenario.description for scenario in outcome.scenarios},
        runs=outcome.runs,
        memory=watch.report(),
        memory_by_scenario=watch.report_by_phase(),
        checks=outcome.checks,
        delivery=outcome.delivery,
        started_at=started_at,
        seconds=time.monotonic() - started,
        commit=machine.commit(),
        jaeger=outcome.jaeger,
    )
    json_path, markdown_path = report.write(results, output)
    print(report.table(results))
    say(f"written {json_path} and {markdown_path}")
    for database_file in work_dir.glob("*/*.db*"):
        database_file.unlink()  # the catalogs' copies; the logs stay for reading
    failed = failed_checks(outcome.checks) + failed_deliveries(outcome.delivery)
    if failed:
        say("correctness checks failed: " + "; ".join(failed))
        return 1
    return 0


def processes_chosen(args: argparse.Namespace) -> str | None:
    """PASAR_GRPC_PROCESSES as the shops get it: --processes, else the environment's (the
    processes inherit it), else None: the services' own default."""
    chosen: str | None = args.processes or os.environ.get(PROCESSES_SETTING)
    return chosen


def _all_processes(deployment: Deployment) -> dict[str, int]:
    """Every process of every server: each master or supervisor and its workers."""
    found: dict[str, int] = {}
    for name, pid in deployment.processes().items():
        found.update(process_tree(name, pid))
    return found
