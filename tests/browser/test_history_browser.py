"""Issue 33, point 2: a unit's history page draws its chart at a tablet's 768 px, inside the page (no sideways
scroll), with a point per published version. On the two rounds of tests/test_history.py."""
import os

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import VILLAGE
from tests.test_history import two_rounds  # noqa: F401 (fixture)


@pytest.fixture
def app(empty_app, two_rounds):  # noqa: F811
    return empty_app


def test_the_history_chart_renders_at_768_px(app, live_server, page, two_rounds):  # noqa: F811
    village = two_rounds["world"].units[VILLAGE]
    log_in(page, live_server, "village")
    page.goto(f"{live_server}/results/units/{village.id}/history")
    page.wait_for_selector("#history-chart canvas")
    box = page.locator("#history-chart canvas").first.bounding_box()
    assert box["width"] > 300 and box["x"] + box["width"] <= 768
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    labels = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('history-chart'))"
                           ".getOption().xAxis[0].data")
    assert labels == ["2021 第1版", "2022 第1版"]
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.locator("#history-chart").screenshot(path=os.path.join(ARTIFACTS, "history-chart.png"))
