"""bench/run.py reports, beside the round results' growth, the time CPython's cyclic collector ran inside the timed
path and the growth outside it (reported, not checked)."""
import gc

from tests.test_bench import _sizes, run  # noqa: F401 (fixture)


def test_the_collectors_time_inside_the_path_is_counted_and_its_full_passes(run):  # noqa: F811
    def path():
        gc.collect()  # one full pass inside the call
        return "done"

    timed = run.CollectorTime(path)
    assert timed() == "done" and timed() == "done"
    gc.collect()  # outside any call: not counted
    assert len(timed.calls) == 2 and all(full == 1 and seconds > 0 for seconds, full in timed.calls)
    summary = timed.summary()
    assert summary["full_collections"] == 1 and summary["collector_s"] > 0
    assert gc.callbacks.count(timed._callback) == 0  # removed after each call


def test_growth_outside_the_collector_is_reported_beside_the_checked_figure(run):  # noqa: F811
    # per unit 1.0 → 1.5 ms, of which the collector 0.1 → 0.5 ms: outside it 0.9 → 1.0 ms
    sizes = _sizes([1.0, 6.0, 24.0], [1.0, 4.0, 16.0])
    for size, collector in zip(sizes, (0.1, 1.2, 8.0)):
        size["results"]["collector_s"] = collector
    figures = run.growth_figures(sizes, "results")
    assert figures["end_to_end"] == 1.5  # what is checked: unchanged
    assert figures["end_to_end_outside_collector"] == round((16.0 / 16000) / (0.9 / 1000), 2)
    assert figures["collector_share"] == [0.1, 0.2, 0.33]
    assert "end_to_end_outside_collector" not in run.growth_figures(_sizes([1.0, 6.0, 24.0], [1.0, 4.0, 16.0]),
                                                                    "results")
