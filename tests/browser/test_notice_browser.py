"""Issue 32 at tablet size (768×1024): during the 公示 the village files an objection with evidence; the district
assigns a re-check group holding a member of the scoring team (refused beside the field, with why), then two
reviewers from outside it; the group's leader decides; the pages read in English too. Screenshots in
/tmp/shots-notice/."""
import os

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Objection
from tests.browser.conftest import log_in
from tests.browser.cycle_hands import assign_group, fill_objection, submit
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.factories import VILLAGE
from tests.files import PDF
from tests.test_objections import _lost_indicator, noticed  # noqa: F401  (the fixture)

SHOTS = "/tmp/shots-notice"


@pytest.fixture(name="app")
def app_of_notice(empty_app, noticed):
    return empty_app


def _shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def test_the_village_objects_with_evidence_and_the_district_assigns_a_group_outside_the_scoring_team(
        app, live_server, page, browser, noticed, tmp_path):
    w, rid = noticed, noticed.round.id
    code = _lost_indicator(w)
    log_in(page, live_server, "village")
    page.get_by_role("link", name="结果公示").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("link", name=w.round.name).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator('[data-testid="notice-state"]').get_attribute("data-state") == "open"
    evidence = tmp_path / "台账.pdf"
    evidence.write_bytes(PDF)
    fill_objection(page, code, "台账齐全，扣分依据不足，附台账扫描件。", evidence)
    _no_sideways_scroll(page)
    _shot(page, "1-village-objection-form")
    submit(page, page.get_by_role("button", name="提交异议"))
    assert "异议已受理，受理编号：异议〔2026〕第1号" in page.content()
    assert page.locator('[data-testid="receipt"]').inner_text() == "异议〔2026〕第1号"
    assert "台账.pdf" in page.locator('[data-testid="objection"]').inner_text()
    _no_sideways_scroll(page)
    _shot(page, "2-village-receipt")
    objection_id = db.session.scalar(select(Objection.id))

    district = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN").new_page()
    log_in(district, live_server, "district")
    district.goto(f"{live_server}/notice/rounds/{rid}")
    district.get_by_role("link", name="异议〔2026〕第1号").click()
    district.wait_for_load_state("domcontentloaded")
    assign_group(district, check=("第一组组长", "复核员"), leader="复核员")
    error = district.locator('[data-testid="reviewers-error"]')
    assert "第一组组长是对该单位评分的工作组成员，不能参加复核" in error.inner_text()
    assert district.locator('[data-testid="assign-form"]').get_by_label("复核员").is_checked()  # kept
    _no_sideways_scroll(district)
    _shot(district, "3-district-scorer-refused")
    assign_group(district, uncheck=("第一组组长",), check=("第二组组长",), leader="复核员")
    assert "已分配复核组，答复期限：2026-12-22" in district.content()
    assert district.locator('[data-testid="reviewers"]').inner_text() == "第二组组长、复核员（组长）"
    _shot(district, "4-district-group-assigned")
    district.goto(f"{live_server}/notice/rounds/{rid}/dashboard")
    assert district.locator(f'[data-item="indicator-{code}"]').inner_text().split()[-1] == "1"
    district.wait_for_function("() => document.querySelector('#chart-objections canvas') !== null")
    _no_sideways_scroll(district)
    _shot(district, "4b-objections-dashboard")

    # The group's leader records the decision by majority; the unit reads the answer and prints it.
    reviewer = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN").new_page()
    log_in(reviewer, live_server, "reviewer")
    reviewer.goto(f"{live_server}/notice/objections/{objection_id}")
    decide = reviewer.locator('[data-testid="decide-form"]')
    decide.get_by_label("维持原评分").check()
    decide.locator("textarea[name=answer]").fill("经复核，扣分依据充分，维持原评分。")
    decide.get_by_label("第二组组长").check()
    decide.get_by_label("复核员").check()
    decide.get_by_role("button", name="提交复核决定").click()
    reviewer.wait_for_load_state("domcontentloaded")
    assert reviewer.locator('[data-testid="status"]').inner_text().startswith("维持原评分")
    _shot(reviewer, "5-reviewer-decided")
    page.goto(f"{live_server}/notice/objections/{objection_id}/answer")
    assert "复核结果告知书" in page.content()
    _shot(page, "6-answer-print")
    page.goto(f"{live_server}/notice/rounds/{rid}/print")
    _shot(page, "7-notice-print")

    # In English: the notice, the objection and the calendar read without Chinese interface text.
    data = data_strings()
    for username, urls in (("district", [f"/notice/rounds/{rid}", f"/notice/objections/{objection_id}", "/notice/",
                                        f"/notice/rounds/{rid}/dashboard"]),
                           ("admin", ["/notice/calendar"])):
        english = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-US").new_page()
        log_in(english, live_server, username)
        english.get_by_role("button", name="English").click()
        english.wait_for_load_state("domcontentloaded")
        for url in urls:
            english.goto(live_server + url)
            assert untranslated(english.evaluate(COLLECT), data) == [], url
        english.context.close()
    for other in (district, reviewer):
        other.context.close()


def test_the_notice_pages_pass_axe_and_the_tablet_measures(app, live_server, browser, noticed):
    """axe-core and the walk's measures (touch targets, one h1, no sideways scroll) on the pages of this issue, in
    the states a walk over the demo does not reach: the notice open with its objection form, an objection with
    its assignment form refused beside the field, the decision form, the dashboard, the calendar with a day."""
    from datetime import date

    from evalapp.services import notices, objections
    from tests.browser.test_axe_browser import _check, _tablet

    w, rid = noticed, noticed.round.id
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足",
                           [(PDF, "台账.pdf")], w.people["village"])
    notices.set_day(date(2026, 12, 31), "holiday", "元旦", w.people["admin"])
    decided = objections.file(w.round, w.units[VILLAGE], "indicator",
                              [t.code for t in objections.targets(notices.notice_of(rid), w.units[VILLAGE])
                               if t.target == "indicator"][1], "另一项", [], w.people["village"])
    objections.assign(decided, [w.people["inspector2"].id, w.people["reviewer"].id], w.people["reviewer"].id,
                      w.people["district"])
    errors, problems = [], []
    for username, urls in (("village", [f"/notice/rounds/{rid}", f"/notice/objections/{made.id}"]),
                           ("district", [f"/notice/rounds/{rid}", f"/notice/objections/{made.id}",
                                         f"/notice/rounds/{rid}/dashboard", "/notice/"]),
                           ("reviewer", [f"/notice/objections/{decided.id}"]),
                           ("admin", ["/notice/calendar"])):
        context, tab = _tablet(browser, errors)
        log_in(tab, live_server, username)
        for url in urls:
            tab.goto(live_server + url)
            _check(tab, live_server, problems)
        context.close()
    assert problems == [] and errors == [], "\n".join(problems + errors)
