"""Issue 29 point 9.2: the dashboard's scatter (self-assessment against final score) runs over the scores' real range
— up to 100, down to a multiple of 5 below the lowest score or the pass line — not ECharts' 49–160."""
from evalapp.services.dashboard import dashboard_data, scatter_range
from evalapp.services.results import round_report
from tests.test_vetoed_rollup import vetoed_round  # noqa: F401  (the fixture)


def test_the_range_runs_to_100_and_from_below_the_lowest_score_or_the_line():
    assert scatter_range([93.0, 100.0, 97.5, 99.0], 95.0) == (90, 100)
    assert scatter_range([49.0, 88.5], 95.0) == (45, 100)
    assert scatter_range([], 95.0) == (90, 100)               # nothing scored yet: around the line
    assert scatter_range([0.0, 100.0], 95.0) == (0, 100)      # never below 0
    assert scatter_range([95.0, 102.0], 95.0) == (90, 102)    # a total with bonus points above 100 stays on the chart


def test_the_dashboard_data_carries_the_range_of_its_points(vetoed_round):
    data = dashboard_data(vetoed_round, round_report(vetoed_round))
    values = [v for p in data["scatter"] for v in (p["self"], p["final"])]
    low, high = data["scatterRange"]
    assert high == 100 and 0 <= low <= min(values) and min(values) - low <= 6
