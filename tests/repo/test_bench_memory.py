"""scripts/bench's memory watch keeps, besides each process's idle and highest resident
memory, every phase's (a scenario's runs, a delivery load) highest and largest rise, and
results.md names the scenario each judged process peaked and grew in."""

from __future__ import annotations

import pytest
from bench import memory, report
from bench.memory import MemoryWatch
from test_bench_report import runs_of
from test_bench_tracing_report import DELIVERY, build


@pytest.fixture
def resident(monkeypatch: pytest.MonkeyPatch) -> dict[int, float]:
    """pid -> the MiB rss_mb reads for it, set by the test."""
    values: dict[int, float] = {}
    monkeypatch.setattr(memory, "rss_mb", values.get)
    return values


def test_each_phase_keeps_its_peak_and_its_largest_rise_over_its_start(resident: dict[int, float]) -> None:
    watch = MemoryWatch(lambda: {"order": 1, "product": 2})
    resident |= {1: 70.0, 2: 60.0}
    watch.record_idle()
    with watch.phase("browse"):
        resident |= {1: 72.0, 2: 61.0}
        watch.sample()
        resident[1] = 71.0
    resident[1] = 75.0  # between phases: the overall peak only
    watch.sample()
    with watch.phase("checkout"):
        resident[1] = 79.5
        watch.sample()
    with watch.phase("browse"):  # entered again (the next round): its highest and largest rise kept
        resident[1] = 80.0

    assert watch.report() == {
        "order": {"idle_mb": 70.0, "load_mb": 80.0},
        "product": {"idle_mb": 60.0, "load_mb": 61.0},
    }
    assert watch.report_by_phase() == {
        "order": {
            "browse": {"peak_mb": 80.0, "rise_mb": 2.0},
            "checkout": {"peak_mb": 79.5, "rise_mb": 4.5},
        },
        "product": {
            "browse": {"peak_mb": 61.0, "rise_mb": 1.0},
            "checkout": {"peak_mb": 61.0, "rise_mb": 0.0},
        },
    }


def test_results_name_the_scenario_each_judged_process_peaked_and_grew_in() -> None:
    by_scenario = {
        "order": {
            "browse": {"peak_mb": 80.0, "rise_mb": 0.5},
            "checkout": {"peak_mb": 79.5, "rise_mb": 4.5},
            "get": {"peak_mb": 78.0, "rise_mb": 0.0},
        },
        "gateway/worker-1": {"browse": {"peak_mb": 120.0, "rise_mb": 9.0}},
    }
    results = build(runs_of({}, {}), memory={"order": {"idle_mb": 70.0, "load_mb": 80.0}}) | {
        "memory_by_scenario": by_scenario
    }

    lines = report.markdown(results).splitlines()

    assert "| order | browse | 80.0 | checkout | 79.5 | checkout | 4.5 |" in lines
    assert not [line for line in lines if line.startswith("| gateway/worker-1 | browse")]


def test_of_the_scenarios_that_saw_the_peak_the_table_names_the_one_that_rose_to_it() -> None:
    by_scenario = {
        "product-large": {
            "browse": {"peak_mb": 80.9, "rise_mb": 0.0},
            "get_large": {"peak_mb": 80.9, "rise_mb": 6.3},
            "checkout": {"peak_mb": 80.9, "rise_mb": 0.0},
        }
    }
    results = build(runs_of({}, {}), memory={"product-large": {"idle_mb": 65.0, "load_mb": 80.9}}) | {
        "memory_by_scenario": by_scenario
    }

    lines = report.markdown(results).splitlines()

    assert "| product-large | get_large | 80.9 | browse | 80.9 | get_large | 6.3 |" in lines


def test_the_by_scenario_figures_are_in_the_json_and_no_table_without_them() -> None:
    figures = {"order": {"checkout": {"peak_mb": 79.5, "rise_mb": 4.5}}}

    assert build(runs_of({}, {}))["memory_by_scenario"] == {}
    assert "by scenario" not in report.markdown(build(runs_of({}, {})))
    given = report.build(
        mode="quick",
        settings={},
        machine={},
        descriptions={},
        runs={},
        memory={},
        checks={},
        delivery=DELIVERY,
        started_at="now",
        seconds=1.0,
        memory_by_scenario=figures,
    )
    assert given["memory_by_scenario"] == figures
