"""The pages a hand holds on a tablet fit 768×1024 without sideways scrolling of their controls: the leader's
reconcile page with three members (最终得分, 理由 and 确定 of the first indicator on screen), and the village's and
township's home tables (the 截止 column in view). On rounds of the test's own (factories.make_round)."""
import os

from datetime import timedelta

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import teams
from evalapp.services.moves import today_local
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import fill_all
from tests.factories import INSPECTOR_NAME, LEADER_NAME, PASSWORD, VILLAGE, make_round, make_sheet, user

WIDTH = 768
ROUND = "2031年度“党建+社会救助”试点评估验收"  # as long as a real round's name


def _within_view(page, selector: str) -> dict:
    """Where the element is, and whether it is inside the viewport and inside every scroller around it."""
    return page.eval_on_selector(selector, """(el, width) => {
        const r = el.getBoundingClientRect();
        let clipped = false;
        for (let p = el.parentElement; p; p = p.parentElement) {
            const style = getComputedStyle(p);
            if (/(auto|scroll|hidden)/.test(style.overflowX)) {
                const box = p.getBoundingClientRect();
                if (r.left < box.left - 0.5 || r.right > box.right + 0.5) clipped = true;
            }
        }
        return {left: r.left, right: r.right, width: r.width, clipped,
                inView: r.left >= 0 && r.right <= width && r.width > 0 && !clipped};
    }""", WIDTH)


def _no_sideways_scroll(page) -> list[str]:
    """Scrollers on the page whose content is wider than they are (a table that scrolls sideways), and the page."""
    return page.evaluate("""() => {
        const wide = [...document.querySelectorAll('.table-responsive')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => `${e.scrollWidth} in ${e.clientWidth}`);
        if (document.documentElement.scrollWidth > innerWidth + 1) wide.push('page ' + document.documentElement.scrollWidth);
        return wide;
    }""")


@pytest.fixture
def app(empty_app):
    return empty_app


@pytest.fixture
def reconcile_world(empty_app, login_as):
    """Three members (the leader, 第一组评估员 and a third, added to the team) have scored 荷塘村 in full and
    submitted: the final sheet to reconcile."""
    world = make_round("inspection", ROUND)
    third = user("inspector3", "inspector", display_name="第一组评估员（乙）")
    teams.add_member(world.round.teams[0], third.username, world.people["admin"])
    for username in ("leader", "inspector", "inspector3"):
        sheet = db.session.scalar(select(Sheet).where(
            Sheet.round_id == world.round.id, Sheet.kind == "inspector", Sheet.unit_id == world.units[VILLAGE].id,
            Sheet.inspector.has(username=username)))
        client = login_as(username)
        fill_all(client, sheet)
        assert client.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    return make_sheet(world, VILLAGE, "final")


def test_the_reconcile_page_with_three_members_fits_the_tablet(live_server, page, reconcile_world):
    final = reconcile_world
    log_in(page, live_server, "leader", PASSWORD)
    page.goto(f"{live_server}/inspection/sheets/{final.id}/reconcile")
    first = page.eval_on_selector("tr[data-code]", "row => row.dataset.code")
    row = f"tr[data-code='{first}']"
    page.screenshot(path=os.path.join(ARTIFACTS, "reconcile-three-members-768.png"), full_page=False)
    for control in ("input[name=score]", "input[name=reason]", "button[type=submit]"):
        where = _within_view(page, f"{row} {control}")
        assert where["inView"], f"{control} of {first} is off-screen at {WIDTH} px: {where}"
    assert _no_sideways_scroll(page) == []
    # each member's figure is named beside it, and the mean
    labels = page.eval_on_selector_all(f"{row} td[data-label]", "tds => tds.map(td => td.dataset.label)")
    assert labels == [LEADER_NAME, INSPECTOR_NAME, "第一组评估员（乙）", "平均分", "最终得分"]
    shown = page.eval_on_selector(f"{row} td.figure", "td => getComputedStyle(td, '::before').content")
    assert LEADER_NAME in shown
    # a final score is typed and saved from there
    page.fill(f"{row} input[name=score]", page.get_attribute(f"{row} input[name=score]", "placeholder"))
    with page.expect_navigation():
        page.click(f"{row} button[type=submit]")
    assert f"指标 {first} 的最终得分已保存" in page.inner_text(".alert-success")


@pytest.fixture
def self_world(empty_app):
    """Self-assessment under way: the villages' deadline passed 12 days ago (the widest deadline badge), the
    townships' is in 35 days."""
    today = today_local()
    return make_round("self_assessment", ROUND, self_due=today - timedelta(days=12),
                      township_due=today + timedelta(days=35), inspection_start=today + timedelta(days=40),
                      inspection_end=today + timedelta(days=60))


@pytest.mark.parametrize("username, path, deadlines", [("village", "/selfassess/", ["逾期12天"]),
                                                       ("township", "/selfassess/township", ["剩35天", "逾期12天"])])
def test_the_village_and_township_home_tables_show_the_deadline_column(live_server, page, self_world, username,
                                                                        path, deadlines):
    log_in(page, live_server, username, PASSWORD)
    page.goto(live_server + path)
    page.screenshot(path=os.path.join(ARTIFACTS, f"home-{username}-768.png"), full_page=True)
    tables = page.locator("table:has(th:text-is('截止'))")
    assert tables.count() == len(deadlines)
    for i, deadline in enumerate(deadlines):
        table = f"xpath=(//table[.//th[normalize-space()='截止']])[{i + 1}]"
        header = _within_view(page, f"{table}//th[normalize-space()='截止']")
        cell = _within_view(page, f"{table}//tbody/tr[1]/td[last()]")
        assert header["inView"] and cell["inView"], f"{username}: 截止 off-screen at {WIDTH} px: {header}, {cell}"
        assert page.inner_text(f"{table}//tbody/tr[1]/td[last()]") == deadline
    assert _no_sideways_scroll(page) == []
