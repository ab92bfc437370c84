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


def test_growth_from_the_smallest_to_the_largest_size_is_what_is_checked(run):
    # per unit: 1.0, 1.6, 1.2 ms (a slow middle size); the floor's: 1.0, 1.4, 1.1
    figures = run.growth_figures(_sizes([1.0, 6.4, 19.2], [1.0, 5.6, 17.6]), "results")
    assert figures == {"end_to_end": 1.2, "largest_rise": 1.6, "floor_end_to_end": 1.1}
    quadratic = run.growth_figures(_sizes([1.0, 16.0, 256.0], [1.0, 4.0, 16.0]), "results")
    assert quadratic["end_to_end"] == 16.0 and quadratic["floor_end_to_end"] == 1.0


def test_misses_name_growth_past_the_bar_and_recheck_recomputes_it(run, tmp_path, monkeypatch):
    import json

    def report(seconds, floors):
        return {"sizes": _sizes(seconds, floors), "growth_per_unit": {"results": 9.9}}  # an earlier report's form

    fine, quadratic = report([1.0, 6.4, 19.2], [1.0, 5.6, 17.6]), report([1.0, 16.0, 256.0], [1.0, 4.0, 16.0])
    run.summarise(fine)
    run.summarise(quadratic)
    assert fine["misses"] == [] and "growth_per_unit" not in fine
    assert "growth of results per unit 16.0× > 1.5×" in quadratic["misses"]
    stored = tmp_path / "r.json"
    stored.write_text(json.dumps(report([1.0, 16.0, 256.0], [1.0, 4.0, 16.0])))
    monkeypatch.setattr(sys, "argv", ["run.py", "--recheck", str(stored)])
    run.main()
    rechecked = json.loads(stored.read_text())
    assert "growth of results per unit 16.0× > 1.5×" in rechecked["misses"] and "growth_per_unit" not in rechecked


def test_the_processor_is_recorded_with_the_figures(run, tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n")
    assert run.cpu_model(str(cpuinfo)) == "AMD EPYC 7B13"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu\n")  # no model name (some ARM kernels): the platform's word
    monkeypatch.setattr(run.platform, "processor", lambda: "")
    monkeypatch.setattr(run.platform, "machine", lambda: "aarch64")
    assert run.cpu_model(str(cpuinfo)) == "aarch64"
    monkeypatch.setattr(run.platform, "machine", lambda: "")
    assert run.cpu_model(str(tmp_path / "missing")) == "unknown"


def test_the_table_sets_each_path_against_its_probe():
    """bench/table.py: the scoring page against the one-row read, the autosave against the one-row write."""
    spec = importlib.util.spec_from_file_location("bench_table", os.path.join(BENCH, "table.py"))
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    http = {name: {"p50_ms": p50, "ratio_p50": p50 / 1.0} for name, p50 in
            (("healthz", 1.0), ("probe_read", 2.0), ("scoring", 8.0), ("probe_write", 2.5), ("autosave", 5.0))}
    [row] = table.probe_rows({"db": "sqlite", "sizes": [{"size": "94x20", "http": http}]})
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == ["SQLite 94x20", "2.0 ms, 2.00×", "8.0 ms, 8.00×", "4.00×", "2.5 ms, 2.50×", "5.0 ms, 5.00×",
                     "2.00×", "1.0 ms"]
