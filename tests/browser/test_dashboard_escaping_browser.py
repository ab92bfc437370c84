"""The dashboard's charts show unit names as text: a name that is HTML never becomes an element in a tooltip. On a
district and round of the test's own (factories.make_round over PILOT_DISTRICT, self-assessments submitted)."""
import os

import pytest

from evalapp.extensions import db
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, TOWNSHIP, VILLAGE, app_of_world, make_round  # noqa: F401 (fixture)

EVIL = "<img src=x onerror=window.__x=1>"


# The texts ECharts has drawn on a chart's canvas (labels, legend, and a shown tooltip), from its scene graph.
DRAWN_TEXTS = """id => echarts.getInstanceByDom(document.getElementById(id)).getZr().storage.getDisplayList(true)
    .map(el => el.style && el.style.text).filter(t => typeof t === "string")"""


@pytest.fixture
def world(empty_app):
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


def show_tip(page, chart: str, series: int, index: int, expect: str) -> list[str]:
    """Hover a data point through ECharts' own action; the chart's drawn texts once one holds `expect`."""
    page.evaluate("([id, s, i]) => echarts.getInstanceByDom(document.getElementById(id))"
                  ".dispatchAction({type: 'showTip', seriesIndex: s, dataIndex: i})", [chart, series, index])
    page.wait_for_function(f"id => ({DRAWN_TEXTS})(id).some(t => t.includes({expect!r}))", arg=chart)
    return page.evaluate(DRAWN_TEXTS, chart)


def test_unit_names_that_are_html_show_as_text_in_the_chart_tooltips(app, live_server, page, world):
    round_ = complete_round({"柳湾社区": "94.99", "石桥村": "90"}, round_=world.round)
    world.units[VILLAGE].name = VILLAGE + EVIL
    world.units[TOWNSHIP].name = TOWNSHIP + EVIL
    db.session.commit()
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}/dashboard")
    page.wait_for_selector("#chart-scatter canvas")
    data = page.evaluate("() => JSON.parse(document.getElementById('dashboard-data').textContent)")
    plain = [r for r in data["scatter"] if not r["veto"]]
    index = next(i for i, r in enumerate(plain) if r["name"] == VILLAGE + EVIL)

    texts = show_tip(page, "chart-scatter", 0, index, "：自评")
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.locator("#chart-scatter").screenshot(path=os.path.join(ARTIFACTS, "dashboard-scatter-tooltip.png"))
    assert any(t.startswith(VILLAGE + EVIL + "：自评") for t in texts), texts  # the name as typed, as text
    assert page.locator("#chart-scatter img").count() == 0

    township = next(i for i, r in enumerate(data["passRate"]) if r["name"] == TOWNSHIP + EVIL)
    texts = show_tip(page, "chart-pass-rate", 0, township, "%")
    page.locator("#chart-pass-rate").screenshot(path=os.path.join(ARTIFACTS, "dashboard-pass-rate-tooltip.png"))
    assert any((TOWNSHIP + EVIL) in t for t in texts), texts
    assert page.locator(".chart img").count() == 0
    assert page.evaluate("() => window.__x") is None
