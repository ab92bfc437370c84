"""The leader's reconcile page at 768×1024, on a round of the test's own (make_round): a final score saved on a row
below the fold comes back at that row at once.

The save redirects to #row-CODE (or #bonus-veto), and the stylesheet makes scrolling smooth (Bootstrap's :root
scroll-behavior): the browser's jump to the fragment glided down through the table after the page had loaded, so
the row the leader had just saved moved under the finger. static/js/app.js (every page) arrives at the fragment at
once and makes scrolling smooth again when the page has settled."""
import os

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import fill_all
from tests.factories import PASSWORD, VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)

# From the first frame after the load event to 800 ms after it, the page's scroll position at every frame.
FRAMES = """
window.__frames = [];
addEventListener('load', () => {
  const start = performance.now();
  (function tick() {
    window.__frames.push(scrollY);
    if (performance.now() - start < 800) requestAnimationFrame(tick); else window.__framesDone = true;
  })();
});
"""


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def final(login_as, world):
    """Both members of the leader's team have scored 荷塘村 in full and submitted: the final sheet to reconcile."""
    for username in ("leader", "inspector"):
        client = login_as(username)
        sheet = make_sheet(world, VILLAGE, inspector=username)
        fill_all(client, sheet)
        assert client.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    return make_sheet(world, VILLAGE, "final")


def _landed(page):
    page.wait_for_function("() => window.__framesDone === true")
    return page.evaluate("window.__frames")


def test_a_final_score_saved_below_the_fold_is_in_view_at_once(live_server, page, final):
    page.add_init_script(FRAMES)
    log_in(page, live_server, "leader", PASSWORD)
    page.goto(f"{live_server}/inspection/sheets/{final.id}/reconcile")
    code = page.eval_on_selector_all("tr[data-code]", "rows => rows.at(-1).dataset.code")
    row = f"#row-{code}"
    assert page.evaluate(f"document.querySelector('{row}').getBoundingClientRect().top") > 1024  # below the fold
    page.fill(f"{row} input[name=score]", page.get_attribute(f"{row} input[name=score]", "placeholder"))
    with page.expect_navigation():
        page.click(f"{row} button[type=submit]")
    assert page.url.endswith(f"/reconcile#row-{code}")
    frames = _landed(page)
    # at the first frame after the load event the page is where it stays: no glide
    assert frames[0] > 0 and set(frames) == {frames[0]}, f"scrollY frame by frame after load: {frames}"
    top, bottom = page.evaluate(f"(r => [r.top, r.bottom])(document.querySelector('{row}').getBoundingClientRect())")
    bar = page.evaluate("document.querySelector('.sticky-summary').getBoundingClientRect().bottom")
    assert bar <= top and bottom <= 1024, f"the saved row is not in view below the bar ({top}–{bottom} px, bar {bar})"
    assert f"指标 {code} 的最终得分已保存" in page.inner_text(".alert-success")
    assert page.input_value(f"{row} input[name=score]") == page.get_attribute(f"{row} input[name=score]",
                                                                             "placeholder")
    page.screenshot(path=os.path.join(ARTIFACTS, "reconcile-saved-row.png"))
    # smooth again once the page has settled (the page's own links to its rows)
    page.wait_for_function("() => document.documentElement.style.scrollBehavior === ''"
                           " && getComputedStyle(document.documentElement).scrollBehavior === 'smooth'")


def test_bonus_and_veto_saved_comes_back_at_its_section_at_once(live_server, page, final):
    page.add_init_script(FRAMES)
    log_in(page, live_server, "leader", PASSWORD)
    page.goto(f"{live_server}/inspection/sheets/{final.id}/reconcile")
    with page.expect_navigation():
        page.click("#bonus-veto button[type=submit]")
    assert page.url.endswith("/reconcile#bonus-veto")
    frames = _landed(page)
    assert frames[0] > 0 and set(frames) == {frames[0]}, f"scrollY frame by frame after load: {frames}"
    top = page.evaluate("document.getElementById('bonus-veto').getBoundingClientRect().top")
    bar = page.evaluate("document.querySelector('.sticky-summary').getBoundingClientRect().bottom")
    assert bar <= top < 1024, f"#bonus-veto out of view below the bar ({top} px, bar {bar})"
