"""Tracing's cost from the medians of one run: the three ratios, their verdicts, the CPU.

- ``tracing_browse_ratio``: the traced shop's browse throughput over the untraced shop's
  (target ≥ 0.85: tracing everything costs at most 15 %); ``tracing_checkout_ratio`` the
  same for checkout (no target is set; reported).
- ``tracing_off_vs_baseline``: the untraced shop's browse throughput over the ordinary
  ``browse`` (a shop with no OTEL setting at all). "Nothing measurable" is judged against
  the noise of this very run: the ratio must lie within 1 ± the larger relative spread,
  (highest − lowest) / median over the rounds, of the two scenarios it divides: a
  difference smaller than what the same scenario shows from one round to the next
  cannot be told from noise.

Beside each throughput, the shop's CPU milliseconds per request (bench.cpu), and Jaeger's
own CPU apart: Jaeger shares the two cores with the traced shop, so ON's throughput pays
for it too, which makes the throughput ratio the pessimistic one.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from bench.loadgen import Measurement

BROWSE_RATIO_TARGET = 0.85
SCENARIOS = ("tracing_on_browse", "tracing_off_browse", "tracing_on_checkout", "tracing_off_checkout")
SERVERS_CPU = "servers_cpu_ms_per_request"
JAEGER_CPU = "jaeger_cpu_ms_per_request"


def relative_spread(runs: Sequence[Measurement]) -> float:
    """(highest − lowest) / median of the rounds' throughput: how far one round may stray."""
    rates = [run.rps for run in runs]
    middle = statistics.median(rates) if rates else 0.0
    return round((max(rates) - min(rates)) / middle, 3) if middle else float("nan")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def measured(figures: Mapping[str, Mapping[str, float]]) -> bool:
    return all(name in figures for name in SCENARIOS) and "browse" in figures


def ratios(figures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The three throughput ratios (empty when the run measured no tracing)."""
    if not measured(figures):
        return {}
    rps = {name: figures[name]["rps"] for name in (*SCENARIOS, "browse")}
    found = {
        "tracing_browse_ratio": _ratio(rps["tracing_on_browse"], rps["tracing_off_browse"]),
        "tracing_checkout_ratio": _ratio(rps["tracing_on_checkout"], rps["tracing_off_checkout"]),
        "tracing_off_vs_baseline": _ratio(rps["tracing_off_browse"], rps["browse"]),
    }
    return {key: value for key, value in found.items() if value is not None}


def section(
    figures: Mapping[str, Mapping[str, float]], runs: Mapping[str, Sequence[Measurement]]
) -> dict[str, Any]:
    """What results.json says under "tracing": ratios, the noise band, CPU per request."""
    if not measured(figures):
        return {}
    cpu = {
        name: {key: figures[name].get(key) for key in (SERVERS_CPU, JAEGER_CPU) if key in figures[name]}
        for name in ("browse", "checkout", *SCENARIOS)
        if name in figures
    }

    def servers(name: str) -> float | None:
        return figures[name].get(SERVERS_CPU)

    return {
        "ratios": ratios(figures),
        "off_noise_band": max(relative_spread(runs["browse"]), relative_spread(runs["tracing_off_browse"])),
        "cpu_ms_per_request": cpu,
        "cpu_ratios": {
            "browse_on_vs_off": _ratio(servers("tracing_on_browse"), servers("tracing_off_browse")),
            "checkout_on_vs_off": _ratio(servers("tracing_on_checkout"), servers("tracing_off_checkout")),
            "off_vs_baseline_browse": _ratio(servers("tracing_off_browse"), servers("browse")),
        },
    }


def verdicts(tracing: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The three ratios beside their targets; "met" is None where no target is set."""
    values = tracing.get("ratios", {})
    found: dict[str, dict[str, Any]] = {}
    if "tracing_browse_ratio" in values:
        value = values["tracing_browse_ratio"]
        found["tracing_browse_ratio"] = {
            "value": value,
            "target": f"≥ {BROWSE_RATIO_TARGET}",
            "met": value >= BROWSE_RATIO_TARGET,
            "distance": f"{value / BROWSE_RATIO_TARGET:.2f}× the target ({value - BROWSE_RATIO_TARGET:+.3f})",
        }
    if "tracing_checkout_ratio" in values:
        found["tracing_checkout_ratio"] = {
            "value": values["tracing_checkout_ratio"],
            "target": "none set",
            "met": None,
            "distance": "",
        }
    if "tracing_off_vs_baseline" in values:
        value, band = values["tracing_off_vs_baseline"], tracing["off_noise_band"]
        found["tracing_off_vs_baseline"] = {
            "value": value,
            "target": f"1 ± {band:.3f}",
            "met": abs(value - 1) <= band,
            "distance": f"{abs(value - 1):.3f} off 1, the rounds' spread is {band:.3f}",
        }
    return found
