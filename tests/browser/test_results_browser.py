"""Dashboards render in Chromium; print pages fit A4 portrait. On a district and round of the test's own
(factories.make_round over PILOT_DISTRICT, in inspection, completed by complete_round)."""
import os

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)

FAILED, LOW, VETOED = "柳湾社区", "石桥村", "梅溪社区"  # villages of PILOT_DISTRICT given 94.99, 90 and a veto


@pytest.fixture
def world(empty_app):
    return make_round("inspection", townships=PILOT_DISTRICT)


def test_dashboard_charts_render_without_console_errors(app, live_server, page, world):
    round_ = complete_round({FAILED: "94.99", LOW: "90"}, round_=world.round)
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}/dashboard")
    for chart in ("chart-pass-rate", "chart-distribution", "chart-lost", "chart-progress", "chart-scatter"):
        page.wait_for_selector(f"#{chart} canvas")
    assert page.locator(".chart canvas").count() == 5


def test_print_pages_fit_a4_without_cut_off_columns(app, live_server, page, world):
    round_ = complete_round({FAILED: "94.99", LOW: "90"}, round_=world.round)
    final = make_sheet(world, FAILED, "final")
    log_in(page, live_server, "district")
    os.makedirs(ARTIFACTS, exist_ok=True)
    for name, url in (("sheet", f"/results/sheets/{final.id}/print"), ("notice", f"/results/rounds/{round_.id}/notice")):
        page.goto(live_server + url)
        page.emulate_media(media="print")
        # A4 portrait less 12 mm margins each side is 186 mm ≈ 703 CSS px
        widths = page.evaluate("() => [document.body.scrollWidth, "
                               "Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))]")
        assert max(widths) <= 703, f"{name}: content {widths} wider than A4"
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        with open(os.path.join(ARTIFACTS, f"print-{name}.pdf"), "wb") as f:
            f.write(pdf)
        page.emulate_media(media="screen")


def test_vetoed_village_has_no_rank_and_comes_last_at_tablet_size(app, live_server, page, world):
    round_ = complete_round({VETOED: "100", LOW: "90", FAILED: "94.99"}, vetoes={VETOED: "V3"}, round_=world.round)
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}?level=village&sort=rank")
    rows = page.locator('[data-testid="units"] tbody tr')
    last = rows.nth(rows.count() - 1)
    assert last.locator("td").first.inner_text().splitlines()[0] == VETOED  # (its township below it)
    assert last.locator("[data-missing]").inner_text() == "一票否决"
    assert last.locator("[data-rank]").inner_text() == "—"
    assert rows.first.locator("[data-rank]").inner_text() == "1"
    last.scroll_into_view_if_needed()
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "results-vetoed-last.png"), full_page=True)


def test_final_review_shows_veto_bonus_and_members_values_at_tablet_size(app, live_server, page, world):
    """On the district's review page once it includes the partial; until then the partial in the site's layout."""
    from flask import render_template_string

    from evalapp.services.review import final_review
    from tests.test_review import make_reviewed_final

    sheets = (make_sheet(world, VILLAGE, "final"), make_sheet(world, VILLAGE, inspector="leader"),
              make_sheet(world, VILLAGE, inspector="inspector"))
    final = make_reviewed_final(*sheets, veto={"V3": "台账补记，查实弄虚作假"})
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/inspection/sheets/{final.id}")
    if not page.locator('[data-testid="final-review"]').count():  # the review page does not include it yet
        with app.test_request_context():
            html = render_template_string('{% extends "base.html" %}{% block content %}'
                                          '{% include "scoring/_final_review.html" %}{% endblock %}',
                                          review=final_review(final))
        page.route(f"{live_server}/__review", lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto(f"{live_server}/__review")
    review = page.locator('[data-testid="final-review"]')
    assert "台账补记，查实弄虚作假" in review.locator('[data-testid="review-veto"]').inner_text()
    assert "+2.00" in review.locator('[data-testid="review-bonus"]').inner_text()
    a1 = review.locator('tr[data-code="A1"]')
    assert "A1-1" in a1.inner_text() and "责任人未书面明确" in a1.inner_text()
    a1.locator("img").first.wait_for()
    assert a1.locator("img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    # the table fits the tablet's width or scrolls inside its own box, never the page sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    os.makedirs(ARTIFACTS, exist_ok=True)
    review.screenshot(path=os.path.join(ARTIFACTS, "final-review.png"))
