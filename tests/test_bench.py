"""The benchmark's own arithmetic (bench/run.py): what counts as growth, and which bars a report misses."""
import importlib.util
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


@pytest.fixture(scope="module")
def run():
    """bench/run.py as a module, without leaving bench/ (or what run.py adds) on the import path."""
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def test_growth_is_the_largest_rise_of_time_per_unit_towards_larger_sizes(run):
    assert run.growth([0.04, 0.05, 0.07]) == 1.75   # super-linear: rises with size
    assert run.growth([0.05, 0.03, 0.06]) == 2.0    # a rise from the middle size to the largest counts
    assert run.growth([0.067, 0.047, 0.037]) == 1.0  # falls with size (fixed cost, parallel scans): no growth
    assert run.growth([0.04]) == 1.0


def _sizes(seconds: list[float], floors: list[float]) -> list[dict]:
    units = (1000, 4000, 16000)
    return [{"size": f"{u}", "units": u, "results": {"s": s, "floor_s": f, "ratio": s / f, "peak_mb": 1},
             "subsidy": {"s": 1, "floor_s": 1, "ratio": 1.0, "peak_mb": 1},
             "workbook": {"s": 1, "floor_s": 1, "ratio": 1.0, "peak_mb": 1}}
            for u, s, f in zip(units, seconds, floors)]


def test_growth_beyond_the_floor_is_what_is_checked(run):
    # time per unit rises 1.6× from the first size to the second, and so does the floor's (the machine's caches)
    with_floor = run.growth_figures(_sizes([1.0, 6.4, 25.6], [1.0, 6.4, 25.6]), "results")
    assert with_floor == {"time": 1.6, "floor": 1.6, "beyond_floor": 1.0, "spread": 1.6}
    # a path that is quadratic where its floor is linear
    quadratic = run.growth_figures(_sizes([1.0, 16.0, 256.0], [1.0, 4.0, 16.0]), "results")
    assert quadratic["beyond_floor"] == 16.0 and quadratic["floor"] == 1.0


def test_misses_name_growth_only_beyond_the_floor(run):
    def report(seconds, floors):
        sizes = _sizes(seconds, floors)
        return {"sizes": sizes, "growth": {name: run.growth_figures(sizes, name)
                                           for name in ("results", "subsidy", "workbook")}}

    assert run.misses(report([1.0, 6.4, 25.6], [1.0, 6.4, 25.6])) == []
    assert run.misses(report([1.0, 4.0, 32.0], [1.0, 4.0, 16.0])) == [
        "growth of results per unit beyond its floor's 2.0× > 1.5×"]
