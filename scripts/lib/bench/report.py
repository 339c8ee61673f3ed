"""Medians, ratios and targets, written as ``results.json`` and ``results.md`` and printed.

Every figure is the median over the rounds; every ratio is made from the medians of the
same run. ``ratios`` holds the ratios the targets name (issue 17's), ``browse_vs_transport``
(reported, its target retired: a 13 KB catalog page cannot cost as little as an empty
call) and, when tracing was measured, the three of :mod:`bench.tracing_report` (whose
figures are under ``tracing``); ``extra_ratios`` has the others worth reading (gateway
versus raw gRPC, workers, processes, MySQL mode). Every scenario names the processes that
serve it: the median of their CPU milliseconds per request is beside its throughput
(``servers_cpu_ms_per_request``), and ``cpu_per_browse_vs_monolith`` divides the shop's
by the monolith's, both counted over every process of their servers in the same rounds.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import tracing_report
from bench.loadgen import Measurement

METRICS = ("rps", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms", "generator_cpu_cores")
SERVICE_MEMORY_LIMIT_MB = 80.0
# The Python services whose every process (supervisor and workers) the memory target judges,
# and the prefixes of the shops they run in (SQLite, MySQL, the one-process shop).
MEMORY_JUDGED_SERVICES = ("product", "payment", "order", "product-large")
MEMORY_JUDGED_SHOPS = ("", "mysql-", "1-process-")
SERVERS_CPU = tracing_report.SERVERS_CPU
PURCHASE_TO_DELIVERY_P99_LIMIT_MS = 2000.0  # with the sandbox biller answering at once


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    check: Callable[[float], bool]
    # How far from the target a value is, as a plain sentence part.
    distance: Callable[[float], str]


def at_least(key: str, bound: float, label: str) -> Target:
    return Target(
        key,
        f"≥ {label}",
        lambda value: value >= bound,
        lambda value: f"{value / bound:.2f}× the target ({value - bound:+.3f})",
    )


def at_most(key: str, bound: float, label: str) -> Target:
    return Target(
        key,
        f"≤ {label}",
        lambda value: value <= bound,
        lambda value: f"{value / bound:.2f}× the limit ({value - bound:+.3f})",
    )


TARGETS = (
    at_least("browse_vs_monolith", 0.6, "0.6"),
    at_least("get_vs_monolith", 0.5, "0.5"),
    at_most("cpu_per_browse_vs_monolith", 2.0, "2.0"),
    at_least("browse_cached_vs_monolith", 5.0, "5"),
    at_most("p99_over_p50_browse", 3.0, "3"),
    at_most("scale_100k_vs_1k_browse", 1.2, "1.2"),
    at_most("scale_100k_vs_1k_get", 1.2, "1.2"),
    at_least("checkout_vs_browse", 1 / 8, "1/8"),
)
# Ratios still reported beside the targets, whose target was retired (issue 17).
RETIRED = {"browse_vs_transport": "none (retired)"}


def medians(runs: Sequence[Measurement]) -> dict[str, float]:
    figures = {
        metric: round(statistics.median(getattr(run, metric) for run in runs), 3) for metric in METRICS
    }
    figures["failed"] = sum(run.failed for run in runs)
    figures["socket_errors"] = sum(run.socket_errors for run in runs)
    figures["requests"] = sum(run.requests for run in runs)
    for group in sorted({group for run in runs for group in run.cpu_ms_per_request}):
        values = [run.cpu_ms_per_request[group] for run in runs if group in run.cpu_ms_per_request]
        figures[f"{group}_cpu_ms_per_request"] = round(statistics.median(values), 3)
    return figures


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


def _figure_ratio(
    figures: Mapping[str, Mapping[str, float]], a: str, b: str, figure: str = "rps", b_figure: str = ""
) -> float | None:
    """figure of scenario a over that of b (or b's b_figure); None when either is missing."""
    numerator = figures.get(a, {}).get(figure)
    denominator = figures.get(b, {}).get(b_figure or figure)
    if numerator is None or denominator is None:
        return None
    return _ratio(numerator, denominator)


# key: (scenario a, its median, scenario b, its median), for a's figure over b's.
RATIOS: dict[str, tuple[str, str, str, str]] = {
    "browse_vs_monolith": ("browse", "rps", "monolith_browse", "rps"),
    "get_vs_monolith": ("get", "rps", "monolith_get", "rps"),
    "cpu_per_browse_vs_monolith": ("browse", SERVERS_CPU, "monolith_browse", SERVERS_CPU),
    "browse_cached_vs_monolith": ("browse_cached", "rps", "monolith_browse", "rps"),
    "browse_vs_transport": ("browse", "rps", "transport", "rps"),
    "p99_over_p50_browse": ("browse", "p99_ms", "browse", "p50_ms"),
    "scale_100k_vs_1k_browse": ("browse_large", "p50_ms", "browse", "p50_ms"),
    "scale_100k_vs_1k_get": ("get_large", "p50_ms", "get", "p50_ms"),
    "checkout_vs_browse": ("checkout", "rps", "browse", "rps"),
}


def ratios(figures: Mapping[str, Mapping[str, float]]) -> dict[str, float | None]:
    """The ratios of the targets (and the retired browse_vs_transport), from the scenarios'
    medians; None for one whose scenarios (or CPU figures) were not measured."""
    return {key: _figure_ratio(figures, a, b, fa, fb) for key, (a, fa, b, fb) in RATIOS.items()}


def extra_ratios(figures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    pairs = {
        "get_vs_raw_grpc": ("get", "grpc_get"),
        "get_cached_vs_monolith_get": ("get_cached", "monolith_get"),
        "browse_vs_hello": ("browse", "hello"),
        "transport_vs_hello": ("transport", "hello"),
        # The most any route making one gRPC call can reach against the monolith's get, and
        # how close the get comes to that empty call.
        "transport_vs_monolith_get": ("transport", "monolith_get"),
        "get_vs_transport": ("get", "transport"),
        "monolith_browse_vs_hello": ("monolith_browse", "hello"),
        "browse_2_vs_1_workers": ("browse", "browse_1_worker"),
        "get_2_vs_1_workers": ("get", "get_1_worker"),
        "browse_processes_vs_1_process": ("browse", "browse_1_process"),
        "get_processes_vs_1_process": ("get", "get_1_process"),
        "mix_vs_browse": ("mix", "browse"),
        "mysql_browse_vs_sqlite": ("mysql_browse", "browse"),
        "mysql_get_vs_sqlite": ("mysql_get", "get"),
        "mysql_checkout_vs_sqlite": ("mysql_checkout", "checkout"),
        "mysql_checkout_vs_mysql_browse": ("mysql_checkout", "mysql_browse"),
    }
    found = {key: _figure_ratio(figures, a, b) for key, (a, b) in pairs.items()}
    cpu_pairs = {
        "cpu_per_get_vs_monolith": ("get", "monolith_get"),
        "cpu_per_browse_cached_vs_monolith": ("browse_cached", "monolith_browse"),
        "cpu_per_browse_processes_vs_1_process": ("browse", "browse_1_process"),
        "cpu_per_get_processes_vs_1_process": ("get", "get_1_process"),
    }
    found |= {key: _figure_ratio(figures, a, b, SERVERS_CPU) for key, (a, b) in cpu_pairs.items()}
    return {key: value for key, value in found.items() if value is not None}


def target_verdicts(values: Mapping[str, float | None]) -> dict[str, dict[str, Any]]:
    """Each target's verdict; one whose ratio could not be made (a scenario or its CPU not
    measured) is not met. The retired ratios follow, with no verdict (met None)."""
    verdicts: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        value = values.get(target.key)
        if value is None or math.isnan(value):
            verdicts[target.key] = {
                "value": value,
                "target": target.text,
                "met": False,
                "distance": "not measured",
            }
            continue
        verdicts[target.key] = {
            "value": value,
            "target": target.text,
            "met": bool(target.check(value)),
            "distance": target.distance(value),
        }
    for key, text in RETIRED.items():
        if values.get(key) is not None:
            verdicts[key] = {"value": values[key], "target": text, "met": None, "distance": ""}
    return verdicts


def memory_verdicts(memory: Mapping[str, Mapping[str, float | None]]) -> dict[str, dict[str, Any]]:
    """Every process of each Python service (its supervisor and each worker, or its one
    process), in the SQLite, MySQL and one-process shops, at most 80 MB under load."""
    verdicts = {}
    for name, figures in memory.items():
        if not _judged_for_memory(name):
            continue
        load = figures.get("load_mb") or figures.get("idle_mb") or 0.0
        verdicts[name] = {"load_mb": load, "target": "≤ 80 MB", "met": load <= SERVICE_MEMORY_LIMIT_MB}
    return verdicts


def _judged_for_memory(name: str) -> bool:
    """product, mysql-product/worker-2, 1-process-order: a process of a judged service."""
    server = name.split("/", 1)[0]
    return any(
        server == f"{shop}{service}" for shop in MEMORY_JUDGED_SHOPS for service in MEMORY_JUDGED_SERVICES
    )


def delivery_verdicts(delivery: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's delivery target: from "Beli" to FULFILLED, p99 under 2 s."""
    target = at_most("purchase_to_delivery_p99_ms", PURCHASE_TO_DELIVERY_P99_LIMIT_MS, "2000 ms")
    value = float(delivery["purchase_to_delivery_p99_ms"])
    return {
        target.key: {
            "value": value,
            "target": target.text,
            "met": bool(target.check(value)),
            "distance": target.distance(value),
        }
    }


def build(
    *,
    mode: str,
    settings: Mapping[str, Any],
    machine: Mapping[str, Any],
    descriptions: Mapping[str, str],
    runs: Mapping[str, Sequence[Measurement]],
    memory: Mapping[str, Mapping[str, float | None]],
    checks: Mapping[str, Any],
    delivery: Mapping[str, Any],
    started_at: str,
    seconds: float,
    commit: str = "",
    jaeger: Mapping[str, Any] | None = None,
    memory_by_scenario: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> dict[str, Any]:
    """jaeger: what the traced shop's Jaeger received (bench.tracing), when tracing was measured;
    memory_by_scenario: process -> scenario -> its peak_mb and rise_mb (bench.memory)."""
    figures = {name: medians(measured) for name, measured in runs.items()}
    tracing = tracing_report.section(figures, runs)
    if tracing and jaeger is not None:
        tracing["jaeger"] = dict(jaeger)
    values = ratios(figures) | tracing.get("ratios", {})
    return {
        "mode": mode,
        "started_at": started_at,
        "commit": commit,
        "duration_seconds": round(seconds, 1),
        "ratios": values,
        "targets": target_verdicts(values) | tracing_report.verdicts(tracing),
        "tracing": tracing,
        "extra_ratios": extra_ratios(figures),
        # Each scenario's requests per second and servers' CPU ms per request, side by side.
        "throughput_and_cpu": {
            name: {"rps": figures[name]["rps"], "cpu_ms_per_request": figures[name].get(SERVERS_CPU)}
            for name in runs
        },
        "scenarios": {
            name: {
                "description": descriptions[name],
                "median": figures[name],
                "runs": [run.as_json() for run in measured],
            }
            for name, measured in runs.items()
        },
        "delivery": dict(delivery),
        "delivery_targets": delivery_verdicts(delivery),
        "memory": memory,
        "memory_targets": memory_verdicts(memory),
        "memory_by_scenario": dict(memory_by_scenario or {}),
        "checks": checks,
        "settings": settings,
        "machine": machine,
    }


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def markdown(results: Mapping[str, Any]) -> str:
    settings = results["settings"]
    lines = [
        f"# Pasar benchmark ({results['mode']}, {results['started_at']})",
        "",
        f"{settings['rounds']} interleaved rounds of {settings['seconds_per_run']} s per scenario, "
        f"{settings['connections']} connections; figures are medians over the rounds. "
        f"Gateway: {settings['gateway_workers']} gunicorn gthread workers × {settings['gateway_threads']} "
        f"threads (the defaults). Services: {processes_text(settings)}. Servers' CPU ms per request: "
        "user + system time of every process of the servers a scenario goes through (each master or "
        "supervisor and its workers; the monolith's gunicorn master and workers) over its requests.",
        "",
        "## Targets",
        "",
        "| ratio | value | target | met |",
        "|---|---:|---|---|",
    ]
    for key, verdict in results["targets"].items():
        met = _met(verdict, "**no**")
        lines.append(f"| `{key}` | {_value(verdict['value'])} | {verdict['target']} | {met} |")
    for name, verdict in results["memory_targets"].items():
        met = "yes" if verdict["met"] else "**no**"
        lines.append(
            f"| memory of {name} under load | {verdict['load_mb']:.1f} MB | {verdict['target']} | {met} |"
        )
    for key, verdict in results["delivery_targets"].items():
        met = _met(verdict, "**no**")
        lines.append(f"| `{key}` | {verdict['value']:.1f} | {verdict['target']} | {met} |")
    oversold = results["checks"].get("stock", {})
    for mode, report in oversold.items():
        met = "yes" if report["oversold_units"] == 0 and report["stock_mismatches"] == 0 else "**no**"
        lines.append(
            f"| oversold units ({mode}) | {report['oversold_units']} "
            f"(stock mismatches {report['stock_mismatches']}) | 0 | {met} |"
        )
    lines += [
        "",
        "## Scenarios",
        "",
        "| scenario | req/s | servers' CPU ms/req | p50 ms | p95 ms | p99 ms | failed "
        "| load generator (cores) | what |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, scenario in results["scenarios"].items():
        median = scenario["median"]
        lines.append(
            f"| `{name}` | {_number(median['rps'])} | {_number(median.get(tracing_report.SERVERS_CPU), 2)} | "
            f"{_number(median['p50_ms'], 2)} | "
            f"{_number(median['p95_ms'], 2)} | {_number(median['p99_ms'], 2)} | "
            f"{median['failed'] + median['socket_errors']} | {_number(median['generator_cpu_cores'], 3)} | "
            f"{scenario['description']} |"
        )
    lines += tracing_markdown(results["tracing"])
    lines += [
        "",
        '## From "Beli" to delivery',
        "",
        "Purchases through the gateway (order, sandbox payment) of an electricity token, until the order",
        "is FULFILLED (svc-fulfillment's sandbox biller answering at once); then shoppers ordering and",
        "paying for a fixed time, with the servers' CPU until every purchase was delivered.",
        "",
        "| figure | value |",
        "|---|---:|",
    ]
    lines += [
        f"| `{key}` | {_number(value, 2) if isinstance(value, float) else value} |"
        for key, value in results["delivery"].items()
        if not isinstance(value, list)
    ]
    lines += ["", "## Other ratios", "", "| ratio | value |", "|---|---:|"]
    lines += [f"| `{key}` | {value:.3f} |" for key, value in results["extra_ratios"].items()]
    lines += ["", "## Resident memory (MB)", "", "| process | idle | under load |", "|---|---:|---:|"]
    for name, figures in results["memory"].items():
        lines.append(f"| {name} | {_number(figures['idle_mb'])} | {_number(figures['load_mb'])} |")
    lines += memory_by_scenario_table(results.get("memory_by_scenario", {}), results["memory_targets"])
    machine = results["machine"]
    lines += ["", "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines.append("")
    return "\n".join(lines)


def memory_by_scenario_table(
    by_scenario: Mapping[str, Mapping[str, Mapping[str, float]]], judged: Iterable[str]
) -> list[str]:
    """For each process the memory target judges: the scenario it peaked in, the highest of
    the other scenarios, and the scenario it grew most in (rise over its start, MB)."""
    rows = [name for name in judged if by_scenario.get(name)]
    if not rows:
        return []
    lines = [
        "",
        "## Resident memory by scenario (MB)",
        "",
        "| process | peak in | peak | next highest in | peak | grew most in | rise |",
        "|---|---|---:|---|---:|---|---:|",
    ]
    for name in rows:
        phases = by_scenario[name]
        # Resident memory seldom falls: the scenarios after the one that reached the peak see it
        # too; of those, the one that rose to it is named.
        ranked = sorted(
            phases, key=lambda phase: (phases[phase]["peak_mb"], phases[phase]["rise_mb"]), reverse=True
        )
        first, second = ranked[0], (ranked[1] if len(ranked) > 1 else None)
        grew = max(phases, key=lambda phase: phases[phase]["rise_mb"])
        next_peak = _number(phases[second]["peak_mb"] if second else None)
        lines.append(
            f"| {name} | {first} | {phases[first]['peak_mb']:.1f} | {second or '–'} | {next_peak} | "
            f"{grew} | {phases[grew]['rise_mb']:.1f} |"
        )
    return lines


def _value(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def processes_text(settings: Mapping[str, Any]) -> str:
    """The PASAR_GRPC_PROCESSES a run chose and the processes it came to, per service."""
    chosen = settings.get("grpc_processes")
    text = (
        f"PASAR_GRPC_PROCESSES={chosen}" if chosen else "PASAR_GRPC_PROCESSES unset (the services' default)"
    )
    counted = settings.get("service_processes") or {}
    if counted:
        text += ", serving with " + ", ".join(f"{name} {count}" for name, count in counted.items())
        text += " process" + ("es" if any(count != 1 for count in counted.values()) else "") + " each"
    return text


def _met(verdict: Mapping[str, Any], no: str = "NO") -> str:
    if verdict["met"] is None:
        return "–"
    return "yes" if verdict["met"] else f"{no}: {verdict['distance']}"


def _dropped(jaeger: Mapping[str, Any]) -> str:
    warnings = jaeger.get("dropped_span_warnings") or {}
    return ", ".join(f"{name} {count}" for name, count in warnings.items()) or "none"


def tracing_markdown(tracing: Mapping[str, Any]) -> list[str]:
    """The tracing section: what the ratios compare, CPU per request, what Jaeger received."""
    if not tracing:
        return []
    cpu, ratios_of_cpu = tracing["cpu_ms_per_request"], tracing["cpu_ratios"]
    lines = [
        "",
        "## Tracing's cost",
        "",
        "Two more SQLite shops like the first: ON exports every span (`OTEL_TRACES_SAMPLER=always_on`)",
        "over OTLP/gRPC to a Jaeger on the same two cores, OFF has the same settings and",
        "`OTEL_SDK_DISABLED=true`; `browse` is the ordinary shop with no OTEL setting. Spans are",
        "exported every 500 ms at the latest (`OTEL_BSP_SCHEDULE_DELAY=500`) and the CPU of a tracing",
        "run (and of the ordinary `browse` and `checkout`, measured the same way) is counted until 1 s",
        "after its load, so that the export of its spans, and the outbox work of checkout's orders, count.",
        f'"Nothing measurable" with tracing off: `tracing_off_vs_baseline` within 1 ± '
        f"{tracing['off_noise_band']:.3f}, the larger (highest − lowest) / median of the rounds'",
        "throughput of `browse` and `tracing_off_browse`: what the same scenario strays from round to round.",
        "",
        "| scenario | servers' CPU ms/req | Jaeger's CPU ms/req |",
        "|---|---:|---:|",
    ]
    for name, figures in cpu.items():
        lines.append(
            f"| `{name}` | {_number(figures.get(tracing_report.SERVERS_CPU), 3)} | "
            f"{_number(figures.get(tracing_report.JAEGER_CPU), 3)} |"
        )
    lines += ["", "| CPU per request | ratio |", "|---|---:|"]
    lines += [f"| {key} | {_number(value, 3)} |" for key, value in ratios_of_cpu.items()]
    jaeger = tracing.get("jaeger", {})
    if jaeger:
        missing = jaeger.get("services_missing")
        lines += [
            "",
            f"Jaeger received spans from: {', '.join(jaeger.get('services_seen', [])) or 'nobody'}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f"; {jaeger['error']}" if "error" in jaeger else "")
            + f"; warnings of dropped spans: {_dropped(jaeger)}.",
        ]
        lines += [
            f'Components that logged "tracing on" in the {state.upper()} shop: {", ".join(names) or "none"}.'
            for state, names in jaeger.get("components_tracing", {}).items()
        ]
        for name, spans in jaeger.get("spans", {}).items():
            by_service = ", ".join(
                f"{service} {count}" for service, count in spans["per_trace_by_service"].items()
            )
            lines.append(
                f"A traced {name} makes {spans['spans_per_trace']} spans ({by_service}; "
                f"{spans['traces']} traces read)."
            )
    return lines


def tracing_rows(tracing: Mapping[str, Any]) -> list[str]:
    """The printed table's lines on tracing's CPU and on what Jaeger received."""
    if not tracing:
        return []
    cpu = tracing["cpu_ms_per_request"]

    def servers(name: str) -> str:
        return _number(cpu[name].get(tracing_report.SERVERS_CPU), 2)

    jaeger = tracing.get("jaeger", {})
    return [
        f"{'tracing CPU ms/req, browse':<28} baseline {servers('browse')}, "
        f"off {servers('tracing_off_browse')}, on {servers('tracing_on_browse')} "
        f"(+ Jaeger {_number(cpu['tracing_on_browse'].get(tracing_report.JAEGER_CPU), 2)})",
        f"{'tracing CPU ms/req, checkout':<28} off {servers('tracing_off_checkout')}, "
        f"on {servers('tracing_on_checkout')} "
        f"(+ Jaeger {_number(cpu['tracing_on_checkout'].get(tracing_report.JAEGER_CPU), 2)})",
        f"{'tracing off: noise band':<28} 1 ± {tracing['off_noise_band']:.3f} "
        "(the larger round-to-round spread of browse and tracing_off_browse)",
        f"{'Jaeger received spans from':<28} {', '.join(jaeger.get('services_seen', [])) or 'nobody'}"
        f" (warnings of dropped spans: {_dropped(jaeger)})",
        f"{'components tracing':<28} "
        + "; ".join(
            f"{state.upper()} shop: {', '.join(names) or 'none'}"
            for state, names in jaeger.get("components_tracing", {}).items()
        ),
        f"{'spans per traced request':<28} "
        + ", ".join(f"{name} {spans['spans_per_trace']}" for name, spans in jaeger.get("spans", {}).items()),
    ]


def table(results: Mapping[str, Any]) -> str:
    """The table printed at the end of a run."""
    header = ("scenario", "req/s", "cpu ms/r", "p50 ms", "p95 ms", "p99 ms", "failed", "gen cpu")
    rows = [f"services: {processes_text(results['settings'])}", ""]
    rows.append("{:<22} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}".format(*header))
    for name, scenario in results["scenarios"].items():
        median = scenario["median"]
        rows.append(
            f"{name:<22} {median['rps']:>9.1f} {_number(median.get(tracing_report.SERVERS_CPU), 2):>8} "
            f"{median['p50_ms']:>8.2f} {median['p95_ms']:>8.2f} "
            f"{median['p99_ms']:>8.2f} {median['failed'] + median['socket_errors']:>7} "
            f"{median['generator_cpu_cores']:>8.3f}"
        )
    rows.append("")
    rows.append(f"{'ratio':<28} {'value':>8}  {'target':<8} met")
    for key, verdict in results["targets"].items():
        rows.append(f"{key:<28} {_value(verdict['value']):>8}  {verdict['target']:<8} {_met(verdict)}")
    rows += tracing_rows(results["tracing"])
    for key, verdict in results["delivery_targets"].items():
        rows.append(f"{key:<28} {verdict['value']:>6.0f}ms  {verdict['target']:<8} {_met(verdict)}")
    figures = results["delivery"]
    rows.append(
        f"{'purchase to delivery':<28} p50 {figures['purchase_to_delivery_p50_ms']:.0f} ms, "
        f"p99 {figures['purchase_to_delivery_p99_ms']:.0f} ms "
        f"({figures['purchase_to_delivery_samples']} purchases)"
    )
    rows.append(
        f"{'checkout with fulfillment':<28} {figures['checkout_with_fulfillment_rps']:.1f} req/s, "
        f"{figures['checkout_with_fulfillment_cpu_ms_per_request']} CPU ms/req "
        f"({figures['checkout_with_fulfillment_delivered']} of "
        f"{figures['checkout_with_fulfillment_purchases']} delivered)"
    )
    for name, verdict in results["memory_targets"].items():
        rows.append(
            f"{'memory ' + name:<28} {verdict['load_mb']:>6.1f}MB  {verdict['target']:<8} "
            f"{'yes' if verdict['met'] else 'NO'}"
        )
    return "\n".join(rows)


def write(results: Mapping[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = folder / "results.json", folder / "results.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    markdown_path.write_text(markdown(results))
    return json_path, markdown_path
