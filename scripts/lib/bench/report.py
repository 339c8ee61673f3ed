"""Medians, ratios and targets, written as ``results.json`` and ``results.md`` and printed.

Every figure is the median over the rounds; every ratio is made from the medians of the
same run. ``ratios`` holds the seven ratios the targets name and, when tracing was measured,
the three of :mod:`bench.tracing_report` (whose figures are under ``tracing``);
``extra_ratios`` has the others worth reading (gateway versus raw gRPC, workers, MySQL mode).
Where a scenario names the processes that serve it, the median of their CPU milliseconds
per request is beside its throughput (``servers_cpu_ms_per_request``).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import tracing_report
from bench.loadgen import Measurement

METRICS = ("rps", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms", "generator_cpu_cores")
SERVICE_MEMORY_LIMIT_MB = 80.0
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
    at_least("browse_vs_monolith", 0.5, "0.5"),
    at_least("browse_vs_transport", 0.7, "0.7"),
    at_least("browse_cached_vs_monolith", 1.0, "1.0"),
    at_most("p99_over_p50_browse", 3.0, "3"),
    at_most("scale_100k_vs_1k_browse", 1.2, "1.2"),
    at_most("scale_100k_vs_1k_get", 1.2, "1.2"),
    at_least("checkout_vs_browse", 1 / 8, "1/8"),
)


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


def ratios(figures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The seven ratios of the targets, from the scenarios' medians."""
    browse = figures["browse"]
    return {
        "browse_vs_monolith": _ratio(browse["rps"], figures["monolith_browse"]["rps"]),
        "browse_vs_transport": _ratio(browse["rps"], figures["transport"]["rps"]),
        "browse_cached_vs_monolith": _ratio(
            figures["browse_cached"]["rps"], figures["monolith_browse"]["rps"]
        ),
        "p99_over_p50_browse": _ratio(browse["p99_ms"], browse["p50_ms"]),
        "scale_100k_vs_1k_browse": _ratio(figures["browse_large"]["p50_ms"], browse["p50_ms"]),
        "scale_100k_vs_1k_get": _ratio(figures["get_large"]["p50_ms"], figures["get"]["p50_ms"]),
        "checkout_vs_browse": _ratio(figures["checkout"]["rps"], browse["rps"]),
    }


def extra_ratios(figures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    pairs = {
        "get_vs_monolith_get": ("get", "monolith_get"),
        "get_vs_raw_grpc": ("get", "grpc_get"),
        "get_cached_vs_monolith_get": ("get_cached", "monolith_get"),
        "browse_vs_hello": ("browse", "hello"),
        "transport_vs_hello": ("transport", "hello"),
        "monolith_browse_vs_hello": ("monolith_browse", "hello"),
        "browse_2_vs_1_workers": ("browse", "browse_1_worker"),
        "get_2_vs_1_workers": ("get", "get_1_worker"),
        "mix_vs_browse": ("mix", "browse"),
        "mysql_browse_vs_sqlite": ("mysql_browse", "browse"),
        "mysql_get_vs_sqlite": ("mysql_get", "get"),
        "mysql_checkout_vs_sqlite": ("mysql_checkout", "checkout"),
        "mysql_checkout_vs_mysql_browse": ("mysql_checkout", "mysql_browse"),
    }
    return {
        key: _ratio(figures[a]["rps"], figures[b]["rps"])
        for key, (a, b) in pairs.items()
        if a in figures and b in figures
    }


def target_verdicts(values: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    verdicts = {}
    for target in TARGETS:
        value = values[target.key]
        verdicts[target.key] = {
            "value": value,
            "target": target.text,
            "met": bool(target.check(value)),
            "distance": target.distance(value),
        }
    return verdicts


def memory_verdicts(memory: Mapping[str, Mapping[str, float | None]]) -> dict[str, dict[str, Any]]:
    """Each service process (product, payment, order, in both modes) at most 80 MB under load."""
    verdicts = {}
    for name, figures in memory.items():
        base = name.removeprefix("mysql-")
        if base not in ("product", "payment", "order", "product-large"):
            continue
        load = figures.get("load_mb") or figures.get("idle_mb") or 0.0
        verdicts[name] = {"load_mb": load, "target": "≤ 80 MB", "met": load <= SERVICE_MEMORY_LIMIT_MB}
    return verdicts


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
) -> dict[str, Any]:
    """jaeger: what the traced shop's Jaeger received (bench.tracing), when tracing was measured."""
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
        "threads (the defaults).",
        "",
        "## Targets",
        "",
        "| ratio | value | target | met |",
        "|---|---:|---|---|",
    ]
    for key, verdict in results["targets"].items():
        met = _met(verdict, "**no**")
        lines.append(f"| `{key}` | {verdict['value']:.3f} | {verdict['target']} | {met} |")
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
    machine = results["machine"]
    lines += ["", "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines.append("")
    return "\n".join(lines)


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
    rows = ["{:<22} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}".format(*header)]
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
        rows.append(f"{key:<28} {verdict['value']:>8.3f}  {verdict['target']:<8} {_met(verdict)}")
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
