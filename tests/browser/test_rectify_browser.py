"""Issue 32, point 5 at tablet size (768×1024): a township that failed in the published version receives its
整改通知, asks for an extension (granted), files its 整改报告, is re-inspected by the team the district assigns and
passes after rectification — its published result unchanged beside it; a 约谈 is recorded and its report filed.
Each page is then read in English (the walk's check: the demo database has no published round). Screenshots in
/tmp/shots-rectify/."""
import os
from datetime import date

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import PublishedUnit, Rectification
from evalapp.services import publication, rounds as rounds_service
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.browser.conftest import log_in
from tests.browser.cycle_hands import (
    ask_extension, assign_recheck, file_interview_report, file_report, fill_full_marks, record_interview, submit,
)
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


_submit = submit


def _fits(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def test_a_failing_township_is_notified_reports_is_rechecked_and_passes_after_rectification(
        app, live_server, page, world, tmp_path):
    base, w = live_server, world
    # the district issues the notice from the round's rectification page
    _as(page, base, "district")
    page.goto(base + "/rectify/")
    page.get_by_role("link", name=w.round.name).click()
    assert page.locator("[data-testid=candidates] [data-unit]").count() == 1
    assert page.locator("#report_due-" + str(w.units[TOWNSHIP].id)).input_value() == "2032-01-20"
    _fits(page)
    _shot(page, "01-district-round")
    _submit(page, page.locator(f"[data-testid=issue-{w.units[TOWNSHIP].code}]"))
    assert "已下发整改通知" in page.inner_text("body")
    rect = db.session.scalar(select(Rectification))

    # the township finds it in its to-do, prints the notice and asks for an extension
    _as(page, base, "township")
    step = page.locator(f"[data-step=report-{rect.id}]")
    assert "剩31天" in step.inner_text()
    _submit(page, step.locator("a"))
    _fits(page)
    notice = page.context.new_page()
    notice.goto(f"{base}/rectify/{rect.id}/notice")
    assert "关于清溪镇评估验收问题整改的通知" in notice.inner_text("body")
    notice.pdf(path=os.path.join(SHOTS, "02-notice.pdf"), format="A4")
    notice.screenshot(path=os.path.join(SHOTS, "02-notice.png"), full_page=True)
    notice.close()
    ask_extension(page, "report", "2032-02-10", "镇村两级台账需重新整理")
    assert "延期申请已提交" in page.inner_text("body")
    _shot(page, "03-township-extension-asked")

    # the district grants it
    _as(page, base, "district")
    page.goto(f"{base}/rectify/{rect.id}")
    ext = page.locator("[data-extension]")
    _submit(page, ext.get_by_role("button", name="提交答复"))
    assert "已同意延期" in page.inner_text("body")
    assert page.locator("[data-testid=report-due]").inner_text().startswith("2032-02-10")

    # the township files its report
    _as(page, base, "township")
    page.goto(f"{base}/rectify/{rect.id}")
    path = tmp_path / "整改报告.pdf"
    path.write_bytes(PDF)
    file_report(page, "已补齐低保台账，建立月度核查制度", path)
    assert "整改报告已报送" in page.inner_text("body") and "整改报告.pdf" in page.inner_text("body")
    _shot(page, "04-township-report-filed")

    # the district assigns the second team to re-inspect the failed indicators
    _as(page, base, "district")
    page.goto(f"{base}/rectify/{rect.id}")
    assign_recheck(page, "第二工作组", "failed")
    assert "已安排复查" in page.inner_text("body")

    # its leader records the 复查 from the to-do
    _as(page, base, "inspector2")
    step = page.locator("[data-step^=record_recheck]")
    _submit(page, step.locator("a"))
    assert fill_full_marks(page) > 0
    _fits(page)
    _shot(page, "05-recheck-form")
    _submit(page, page.get_by_role("button", name="记录复查结果"))
    assert "复查结果已记录" in page.inner_text("body")

    # the township sees 整改后通过 beside its published result, which has not changed
    _as(page, base, "township")
    page.goto(f"{base}/rectify/{rect.id}")
    assert page.locator("[data-testid=status]").inner_text().strip() == "整改后通过"
    assert page.locator("[data-testid=published-result]").inner_text().startswith("不合格")
    assert page.locator("[data-testid=recheck-outcome]").inner_text().startswith("整改后通过")
    _shot(page, "06-township-passed-after-rectification")
    published = db.session.scalar(select(PublishedUnit).where(PublishedUnit.name == TOWNSHIP))
    assert published.result == "fail"

    # a 约谈 recorded by the district, its report filed by the township
    _as(page, base, "district")
    page.goto(base + "/rectify/interviews/new")
    minutes = tmp_path / "纪要.pdf"
    minutes.write_bytes(PDF)
    record_interview(page, w.units[TOWNSHIP].id, "2031-12-22", "区民政局副局长；清溪镇党委书记", "整改进度滞后",
                     "月底前完成台账整理", "2032-01-15", minutes)
    assert "约谈已记录" in page.inner_text("body")
    interview_url = page.url
    _as(page, base, "township")
    page.goto(interview_url)
    file_interview_report(page, "已按要求完成台账整理", path)
    assert "书面报告已报送" in page.inner_text("body")
    _shot(page, "07-interview-report-filed")

    # every page of it in English: no Chinese interface text left once the data is taken out
    recheck_url = f"{base}/rectify/rechecks/{rect.rechecks[0].id}" if rect.rechecks else None
    db.session.expire_all()
    rect = db.session.get(Rectification, rect.id)
    pages = {"district": [f"/rectify/rounds/{w.round.id}", f"/rectify/{rect.id}", "/rectify/",
                          "/rectify/interviews/new", interview_url[len(base):],
                          f"/rectify/rechecks/{rect.rechecks[0].id}"],
             "township": [f"/rectify/{rect.id}", "/rectify/", interview_url[len(base):], "/selfassess/township"]}
    assert recheck_url is None or recheck_url
    report_left = {}
    for user, urls in pages.items():
        _as(page, base, user)
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("domcontentloaded")
        for url in urls:
            page.goto(base + url)
            left = untranslated(page.evaluate(COLLECT), data_strings())
            if left:
                report_left[f"{user} {url}"] = left
        _shot(page, f"08-english-{user}")
    assert report_left == {}
