"""Issue 32, point 5: the 整改 and 约谈 pages read in English at tablet size (768×1024), every step of them filled
(the walk's check: the demo database has no published round). The clicks themselves — a township that failed receives
its 整改通知, asks for an extension, reports, is re-inspected and passes after rectification; a 约谈 and its report —
are walked once, in tests/browser/test_cycle_e2e_browser.py; here the same steps are taken through the services, so
that every page has something on it to read. Screenshots in /tmp/shots-rectify/."""
import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Rectification, Team
from evalapp.services import interviews, publication, rectification as service, rounds as rounds_service
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.browser.conftest import log_in
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, fixed_subsidy, make_round
from tests.files import PDF
from tests.test_publication_snapshot import _score_final

SHOTS = "/tmp/shots-rectify"
TODAY = date(2031, 12, 20)


@pytest.fixture
def world(empty_app):
    """清溪镇 fails at 93.00; the others pass; published once."""
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "93"), (VILLAGE, "96"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    fixed_subsidy(w.round, w.people["admin"], township_yuan="5000", village_yuan="2000")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    return w


@pytest.fixture(name="app")
def app_of_world(empty_app, world, monkeypatch):
    from evalapp.rectify import routes
    from evalapp.services import moves

    monkeypatch.setattr(routes, "_today", lambda: TODAY)  # the clock, injected
    monkeypatch.setattr(moves, "today_local", lambda: TODAY)
    return empty_app


def _shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _as(page, base, user):
    page.context.clear_cookies()
    log_in(page, base, user)




def _fits(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def _every_step_taken(w):
    """The township's 整改 taken to 整改后通过 (an extension granted, the report filed, the 复查 recorded by the second
    team's leader) and a 约谈 with its report, through the services the pages call."""
    district, township, leader2 = w.people["district"], w.people["township"], w.people["inspector2"]
    rect = service.issue(w.round, w.units[TOWNSHIP].id, district, today=TODAY)
    ext = service.ask_extension(rect, "report", TODAY + timedelta(days=50), "镇村两级台账需重新整理", township)
    service.decide_extension(ext, True, None, "同意", district)
    service.submit_report(rect, "已补齐低保台账，建立月度核查制度", PDF, "整改报告.pdf", township)
    team = db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第二工作组"))
    recheck = service.assign_recheck(rect, team.id, "failed", district)
    full = {line.code: str(line.max_points) for line in service.recheck_lines(rect, "failed")}
    service.record_recheck(recheck, full, {}, False, "已整改到位", leader2)
    interview = interviews.record(w.units[TOWNSHIP].id, w.round.id, TODAY, "区民政局副局长；清溪镇党委书记", "整改进度滞后",
                                  [interviews.Requirement("月底前完成台账整理", TODAY + timedelta(days=10))], PDF,
                                  "纪要.pdf", district)
    interviews.file_report(interview, "已按要求完成台账整理", PDF, "报告.pdf", township)
    return db.session.get(Rectification, rect.id), recheck, interview


def test_the_rectification_and_interview_pages_read_in_english_at_tablet_size(app, live_server, page, world):
    base, w = live_server, world
    rect, recheck, interview = _every_step_taken(w)
    assert rect.status == "passed"
    pages = {"district": [f"/rectify/rounds/{w.round.id}", f"/rectify/{rect.id}", "/rectify/",
                          "/rectify/interviews/new", f"/rectify/interviews/{interview.id}",
                          f"/rectify/rechecks/{recheck.id}"],
             "township": [f"/rectify/{rect.id}", "/rectify/", f"/rectify/interviews/{interview.id}",
                          "/selfassess/township"]}
    report_left = {}
    for user, urls in pages.items():
        _as(page, base, user)
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("domcontentloaded")
        for url in urls:
            page.goto(base + url)
            assert page.url == base + url  # the page itself, not a refusal or a log-in
            _fits(page)
            left = untranslated(page.evaluate(COLLECT), data_strings())
            if left:
                report_left[f"{user} {url}"] = left
        _shot(page, f"english-{user}")
    assert report_left == {}
