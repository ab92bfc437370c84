"""The benchmark's own arithmetic (bench/run.py): what counts as growth, and which bars a report misses."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))

import run  # noqa: E402


def test_growth_is_the_largest_rise_of_time_per_unit_towards_larger_sizes():
    assert run.growth([0.04, 0.05, 0.07]) == 1.75   # super-linear: rises with size
    assert run.growth([0.05, 0.03, 0.06]) == 2.0    # a rise from the middle size to the largest counts
    assert run.growth([0.067, 0.047, 0.037]) == 1.0  # falls with size (fixed cost, parallel scans): no growth
    assert run.growth([0.04]) == 1.0


def _report(per_unit: list[float]) -> dict:
    sizes = [{"size": f"{n}x20", name: {"ratio": 1.0, "per_unit_ms": u, "peak_mb": 1}}
             for n, u in zip((94, 375, 1500), per_unit) for name in ("results",)]
    for size in sizes:
        for name in ("subsidy", "workbook"):
            size[name] = {"ratio": 1.0, "per_unit_ms": 0.01, "peak_mb": 1}
    return {"sizes": sizes, "growth_per_unit": {"results": run.growth(per_unit)}}


def test_misses_name_growth_only_when_time_per_unit_rises_past_the_bar():
    assert run.misses(_report([0.067, 0.047, 0.037])) == []
    assert run.misses(_report([0.03, 0.04, 0.05])) == ["growth of results per unit 1.67× > 1.5×"]
