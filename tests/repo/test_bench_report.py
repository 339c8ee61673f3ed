"""scripts/bench's verdicts on issue 17's targets: the ratios to the monolith (throughput
and CPU per request), the retired browse_vs_transport still reported, and the memory
target judging every process of every Python service, workers included."""

from __future__ import annotations

from collections.abc import Mapping

from bench import report
from bench.loadgen import Measurement
from test_bench_tracing_report import build, rounds

SCENARIOS = (
    "browse",
    "get",
    "browse_cached",
    "browse_large",
    "get_large",
    "checkout",
    "transport",
    "monolith_browse",
    "monolith_get",
)


def runs_of(rps: Mapping[str, float], cpu: Mapping[str, float]) -> dict[str, list[Measurement]]:
    """Three equal rounds of every scenario (100 req/s and 1 CPU ms unless told)."""
    return {
        name: rounds(*[rps.get(name, 100.0)] * 3, cpu={"servers": cpu[name]} if name in cpu else None)
        for name in SCENARIOS
    }


def test_the_monolith_ratios_meet_their_targets_at_the_bound_and_miss_below_it() -> None:
    at_bounds = build(
        runs_of(
            {"browse": 60, "get": 50, "browse_cached": 500, "monolith_browse": 100, "monolith_get": 100},
            {"browse": 8.0, "monolith_browse": 4.0},
        )
    )
    below = build(
        runs_of(
            {"browse": 59, "get": 49, "browse_cached": 499, "monolith_browse": 100, "monolith_get": 100},
            {"browse": 8.1, "monolith_browse": 4.0},
        )
    )

    for key in (
        "browse_vs_monolith",
        "get_vs_monolith",
        "cpu_per_browse_vs_monolith",
        "browse_cached_vs_monolith",
    ):
        assert at_bounds["targets"][key]["met"] is True, key
        assert below["targets"][key]["met"] is False, key
    assert at_bounds["ratios"]["cpu_per_browse_vs_monolith"] == 2.0
    assert at_bounds["throughput_and_cpu"]["monolith_browse"] == {"rps": 100.0, "cpu_ms_per_request": 4.0}
    assert below["targets"]["get_vs_monolith"]["target"] == "≥ 0.5"
    assert "get_vs_monolith_get" not in below["extra_ratios"], "one name for one figure"


def test_cpu_per_request_not_measured_is_a_target_not_met() -> None:
    results = build(runs_of({}, {"browse": 8.0}))  # the monolith's CPU missing

    verdict = results["targets"]["cpu_per_browse_vs_monolith"]
    assert verdict["met"] is False
    assert verdict["distance"] == "not measured"
    assert "| `cpu_per_browse_vs_monolith` | – |" in report.markdown(results)


def test_browse_vs_transport_is_reported_without_a_target() -> None:
    results = build(runs_of({"browse": 10, "transport": 100}, {}))

    assert results["ratios"]["browse_vs_transport"] == 0.1
    assert results["targets"]["browse_vs_transport"]["met"] is None
    assert "browse_vs_transport" not in [target.key for target in report.TARGETS]


def test_the_get_is_set_beside_one_empty_grpc_call_without_a_target() -> None:
    results = build(runs_of({"get": 40, "transport": 50, "monolith_get": 100}, {}))

    assert results["extra_ratios"]["transport_vs_monolith_get"] == 0.5
    assert results["extra_ratios"]["get_vs_transport"] == 0.8
    assert "get_vs_transport" not in results["targets"]


def test_every_process_of_each_service_is_judged_for_memory_in_every_shop() -> None:
    memory = {
        name: {"idle_mb": 50.0, "load_mb": load}
        for name, load in {
            "product": 40.0,
            "product/worker-1": 79.0,
            "product/worker-2": 81.0,
            "mysql-order/worker-1": 90.0,
            "1-process-payment": 70.0,
            "gateway/worker-1": 120.0,
            "fulfillment": 30.0,
            "tracing-on-product": 95.0,
            "baselines/worker-1": 100.0,
        }.items()
    }

    judged = build(runs_of({}, {}), memory=memory)["memory_targets"]

    assert {name: verdict["met"] for name, verdict in judged.items()} == {
        "product": True,
        "product/worker-1": True,
        "product/worker-2": False,
        "mysql-order/worker-1": False,
        "1-process-payment": True,
    }


def test_the_processes_setting_heads_the_table() -> None:
    chosen = build(
        runs_of({}, {}), settings={"grpc_processes": "2", "service_processes": {"product": 2, "order": 2}}
    )
    default = build(runs_of({}, {}), settings={"grpc_processes": None, "service_processes": {"product": 1}})

    assert "PASAR_GRPC_PROCESSES=2, serving with product 2, order 2 processes each" in report.markdown(chosen)
    assert report.table(chosen).startswith("services: PASAR_GRPC_PROCESSES=2")
    assert "PASAR_GRPC_PROCESSES unset (the services' default)" in report.markdown(default)
