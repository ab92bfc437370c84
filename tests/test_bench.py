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


def _table():
    spec = importlib.util.spec_from_file_location("bench_table", os.path.join(BENCH, "table.py"))
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    return table


def _http(**p50):
    """bench/web.py's figures for the given p50s (ms), each with its ratio to healthz and to its probe."""
    http = {name: {"p50_ms": v, "p95_ms": v, "p99_ms": v, "ratio_p50": v / p50["healthz"], "statuses": {"200": 1}}
            for name, v in p50.items()}
    for name, probe in (("scoring", "probe_read"), ("results", "probe_read"), ("autosave", "probe_write")):
        http[name]["vs_probe"] = round(p50[name] / p50[probe], 2)
    http["server_errors"] = 0
    return http


def _weight(first_kb: float, repeat_kb: float, asked: int) -> dict:
    return {"page": {"wire_bytes": int(repeat_kb * 1024), "html_bytes": 90_000, "encoding": "zstd"},
            "assets": [{"url": "/static/a.css?v=1", "wire_bytes": int((first_kb - repeat_kb) * 1024)}],
            "first_visit_bytes": int(first_kb * 1024), "repeat_visit_bytes": int(repeat_kb * 1024),
            "repeat_visit_asset_requests": asked}


def test_the_http_bars_set_each_path_against_its_probe_and_are_named_after_it(run):
    """Scoring page ≤ 5× the one-row read, results page ≤ 3× it, autosave ≤ 3× the one-row write: a path slow
    against /healthz alone (a slow processor for Python) misses nothing, one slow against its probe does."""
    sizes = _sizes([1.0, 6.4, 19.2], [1.0, 5.6, 17.6])
    sizes[0]["http"] = _http(healthz=1.0, probe_read=2.0, scoring=9.8, results=5.8, probe_write=2.5, autosave=7.4)
    sizes[1]["http"] = _http(healthz=1.0, probe_read=2.0, scoring=10.2, results=6.2, probe_write=2.5, autosave=7.6)
    report = {"sizes": sizes}
    run.summarise(report)
    assert report["misses"] == ["4000 scoring_vs_probe_read 5.1× > 5.0×",
                                "4000 results_page_vs_probe_read 3.1× > 3.0×",
                                "4000 autosave_vs_probe_write 3.04× > 3.0×"]
    assert {"scoring_vs_probe_read", "results_page_vs_probe_read", "autosave_vs_probe_write"} <= set(report["bars"])
    assert not {"scoring", "autosave", "results_page"} & set(report["bars"])  # the /healthz bars are gone


def test_the_scoring_pages_bytes_on_the_wire_have_their_bars(run):
    sizes = _sizes([1.0, 6.4, 19.2], [1.0, 5.6, 17.6])
    for size, weight in zip(sizes, (_weight(80, 9, 0), _weight(121, 9, 0), _weight(80, 16, 2))):
        size["http"] = _http(healthz=1.0, probe_read=2.0, scoring=8.0, results=4.0, probe_write=2.5, autosave=5.0)
        size["http"]["weight"] = weight
    report = {"sizes": sizes}
    run.summarise(report)
    assert report["misses"] == ["4000 scoring first visit 121.0 KB > 120 KB",
                                "16000 scoring repeat visit 16.0 KB > 15 KB",
                                "16000 scoring repeat visit asks for 2 assets"]


def test_a_browser_keeps_only_what_is_immutable_with_a_max_age():
    sys.path.insert(0, BENCH)
    try:
        spec = importlib.util.spec_from_file_location("bench_web", os.path.join(BENCH, "web.py"))
        web = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(web)
    finally:
        sys.path.remove(BENCH)
    assert web._kept_without_asking("public, max-age=31536000, immutable")
    assert not web._kept_without_asking("no-cache")
    assert not web._kept_without_asking("public, max-age=0, immutable")
    assert not web._kept_without_asking("max-age=31536000")  # a reload, or a heuristic, asks again


def test_the_table_sets_each_path_against_its_probe():
    """bench/table.py: the scoring and results pages against the one-row read, the autosave against the write."""
    table = _table()
    http = _http(healthz=1.0, probe_read=2.0, scoring=8.0, results=6.2, probe_write=2.5, autosave=5.0)
    http["weight"] = _weight(80.0, 9.0, 0)
    report = {"db": "sqlite", "sizes": [{"size": "94x20", "units": 1974, "http": http,
                                         **{k: {"s": 1, "floor_s": 1, "ratio": 1.0, "bar": 2, "peak_mb": 4}
                                            for k in ("results", "subsidy", "workbook")}}]}
    [row] = table.rows(report)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4:] == ["8.0 / 8.0 / 8.0 ms, 4.00×", "6.2 / 6.2 / 6.2 ms, 3.10× ✗", "5.0 / 5.0 / 5.0 ms, 2.00×",
                         "2.0 / 2.5 ms"]
    [row] = table.healthz_rows(report)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == ["SQLite 94x20", "2.0 ms, 2.00×", "8.0 ms, 8.00×", "6.2 ms, 6.20×", "2.5 ms, 2.50×",
                     "5.0 ms, 5.00×", "1.0 ms"]
    [row] = table.weight_rows(report)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == ["SQLite 94x20", "87.9 KB", "9.0 KB (zstd)", "1, 71.0 KB", "80.0 KB", "9.0 KB, 0 asset requests"]
