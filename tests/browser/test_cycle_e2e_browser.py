"""Issue 32, "Done when": the whole cycle after the scores, every person at their own 768×1024 tablet, logged in
once. Publish → the village reads its 问题清单 → the district opens 公示 → the village objects to one indicator with
evidence → the district's re-check group holding a member of the scoring team is refused (the message beside the
field), then two reviewers from other teams are assigned → they decide to change the score, the group's leader
enters it on the unlocked final sheet, the district approves → version 2 is published with the change listed and
the round reads 结果确定 → the failing township receives its 整改通知, asks for an extension (granted), reports, is
re-inspected and passes after rectification → version 3 carries it and the finance sheet shows its share in its
own section (整改后通过) → a 约谈 is recorded and its report filed. At each step it checks what the next person
finds: their to-do, and the page it leads to. The world starts from the factories (scored and approved final
sheets), not from clicking through scoring. Screenshots: test-artifacts/cycle-NN-*.png."""
import glob
import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Objection, Rectification, Score, Sheet
from evalapp.services import rounds as rounds_service, subsidy
from tests.browser.conftest import ARTIFACTS
from tests.browser.cycle_hands import (
    ask_extension, assign_group, assign_recheck, file_interview_report, file_report, fill_full_marks, fill_objection,
    record_interview, submit,
)
from tests.browser.round_walk import Actor
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, make_round, user
from tests.files import PDF
from tests.test_publication_snapshot import _score_final

BEIJING = ZoneInfo("Asia/Shanghai")
# Monday 7 December 2026, 10:00 in Beijing: publication and 公示 (7 working days: to Tuesday 15 December, 24:00).
OPENED = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
# Wednesday 16 December, 09:00 in Beijing: the period is over.
AFTER = datetime(2026, 12, 16, 1, 0, tzinfo=timezone.utc)


class Clock:
    """The server's clock for this walk: 公示's (services.notices._now) and the day of the to-dos, of 整改 and of
    约谈 (services.moves.today_local). (Timestamps written by the models — 公布于, 报送于 — keep the real time.)"""

    def __init__(self, monkeypatch, at):
        from evalapp.services import moves, notices

        self.at = at
        monkeypatch.setattr(notices, "_now", lambda: self.at)
        monkeypatch.setattr(moves, "today_local", lambda: self.at.astimezone(BEIJING).date())


@pytest.fixture
def world(empty_app):
    """清溪镇 at 93.00 and 荷塘村 at 94.50 fail, the other two pass; every final sheet approved, the round in review;
    fixed subsidies, a 整改后通过 township paid 60 %; a reviewer on no team."""
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "93"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    subsidy.save_rule(w.round, "township", "fixed", "5000", "", w.people["admin"], rectified="60")
    subsidy.save_rule(w.round, "village", "fixed", "2000", "", w.people["admin"])
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    w.people["reviewer"] = user("reviewer", "inspector", display_name="复核员")
    return w


@pytest.fixture(name="app")
def app_of_world(empty_app, world):
    return empty_app


def test_the_cycle_after_the_scores_from_publication_to_the_interview_report(app, world, live_server, browser,
                                                                              monkeypatch, tmp_path):
    os.makedirs(ARTIFACTS, exist_ok=True)
    for old in glob.glob(os.path.join(ARTIFACTS, "cycle-*.png")):  # one walk's screenshots, not two mixed
        os.remove(old)
    clock = Clock(monkeypatch, OPENED)
    shots: list[str] = []
    actors: dict[str, Actor] = {}

    def at(username) -> Actor:
        """The person's tablet, logged in on first use and kept."""
        if username not in actors:
            actors[username] = Actor(browser, live_server, username, shots)
        return actors[username]

    try:
        _walk(world, live_server, at, clock, shots, tmp_path)
    except BaseException:
        for a in actors.values():  # where each person was when it went wrong
            a.page.screenshot(path=os.path.join(ARTIFACTS, f"cycle-failed-{a.username}.png"), full_page=True)
        raise
    finally:
        for a in actors.values():
            a.context.close()
    for a in actors.values():
        assert a.console.errors == [], f"{a.username}: console errors {a.console.errors}"


def _walk(w, base, at, clock, shots, tmp_path):
    rid = w.round.id
    units = w.units

    def shot(actor, name):
        shots.append(name)
        actor.page.screenshot(path=os.path.join(ARTIFACTS, f"cycle-{len(shots):02d}-{name}.png"), full_page=True)

    def fits(page):
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 768

    follow = submit

    def republish(district, version):
        """再次公布 from the district's to-do; the new version's 变更明细."""
        page = district.home()
        todo = page.locator(f"[data-round-todo='republish-{rid}']")
        assert "再次公布" in todo.inner_text()
        follow(page, todo.locator("a"))
        follow(page, page.locator("[data-testid=publish] button[type=submit]"))
        assert f"正式 — 第{version}版" in text(page, "[data-testid=official]")
        page.goto(f"{base}/results/rounds/{rid}/changes")
        return page

    def text(page, selector="body"):
        return page.locator(selector).inner_text()

    # ---- 1. The district publishes version 1 from its to-do. ----------------------------------------------------
    district = at("district")
    page = district.home()
    follow(page, page.locator(f"[data-round-todo='publish-{rid}'] a"))
    follow(page, page.locator("[data-testid=publish] button[type=submit]"))
    assert "正式 — 第1版" in text(page, "[data-testid=official]")
    shot(district, "district-published-v1")

    # ---- 2. The village finds version 1 in its to-do and reads its 问题清单. -----------------------------------
    village = at("village")
    page = village.home()
    todo = page.locator(f"[data-round-todo='results-{rid}'] a")
    assert todo.inner_text() == "第1版结果已公布：查看本单位评估结果和问题清单"
    follow(page, todo)
    assert page.url.endswith(f"/results/rounds/{rid}/units/{units[VILLAGE].id}")
    assert text(page, "[data-testid=total]") == "94.50"
    lost = page.locator("[data-testid=problems] tbody tr[data-code]")
    assert lost.count() >= 1
    code = lost.first.get_attribute("data-code")  # the indicator the village will contest
    fits(page)
    shot(village, "village-problem-list")

    # ---- 3. The district opens 公示 on version 1: 7 working days from Monday 7 December. -------------------------
    page = district.page
    page.goto(f"{base}/results/rounds/{rid}")
    follow(page, page.locator("[data-testid=notice-link]"))
    form = page.locator("[data-testid=open-notice]")
    form.locator("input[name=start]").fill("2026-12-07")
    form.locator("input[name=length]").fill("7")
    form.locator("textarea[name=text]").fill("现将2026年度评估验收结果予以公示，公示期内可书面提出异议。")
    follow(page, form.get_by_role("button", name="发布公示"))
    assert page.locator("[data-testid=notice-state]").get_attribute("data-state") == "open"
    assert "至2026-12-15 24:00（北京时间）止" in text(page, "[data-testid=notice-state]")
    shot(district, "district-notice-open")

    # ---- 4. The village: 公示中 in its to-do, days left; it objects to the indicator with evidence. --------------
    page = village.home()
    todo = page.locator(f"[data-notice-todo='object-{rid}']")
    assert "公示中，可提出异议" in todo.inner_text() and "剩" in todo.inner_text()
    follow(page, todo.locator("a"))
    evidence = tmp_path / "台账.pdf"
    evidence.write_bytes(PDF)
    fill_objection(page, code, "台账齐全，扣分依据不足，附台账扫描件。", evidence)
    follow(page, page.get_by_role("button", name="提交异议"))
    assert "异议已受理，受理编号：异议〔2026〕第1号" in text(page)
    assert "台账.pdf" in text(page, "[data-testid=files]")
    fits(page)
    shot(village, "village-objection-receipt")
    oid = db.session.scalar(select(Objection.id))

    # ---- 5. The district: 待分配复核组 in its to-do. A member of the scoring team is refused beside the field. ---
    district.console.allowed_statuses.add(422)  # the refused group, answered 422 with the form
    page = district.home()
    todo = page.locator(f"[data-notice-todo='assign-{oid}']")
    assert "待分配复核组" in todo.inner_text() and VILLAGE in todo.inner_text()
    follow(page, todo.locator("a"))
    assign_group(page, check=("第一组组长", "复核员"), leader="复核员")
    refused = page.locator("[data-testid=reviewers-error]")
    assert refused.is_visible() and "第一组组长是对该单位评分的工作组成员，不能参加复核" in refused.inner_text()
    fits(page)
    shot(district, "district-scorer-refused")
    assign_group(page, uncheck=("第一组组长",), check=("第二组组长",), leader="复核员")
    assert "已分配复核组，答复期限：2026-12-22" in text(page)
    assert text(page, "[data-testid=reviewers]") == "第二组组长、复核员（组长）"
    shot(district, "district-group-assigned")

    # ---- 6. The group's leader: 待录入复核决定 (15 days); the group decides by majority to change the score. ----
    reviewer = at("reviewer")
    page = reviewer.home()
    todo = page.locator(f"[data-notice-todo='decide-{oid}']")
    assert "待录入复核决定" in todo.inner_text() and "剩15天" in todo.inner_text()
    follow(page, todo.locator("a"))
    final_id = db.session.scalar(select(Sheet.id).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                        Sheet.unit_id == units[VILLAGE].id))
    row = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final_id)
                            .where(Score.indicator.has(code=code)))
    full = f"{row.indicator.points:.2f}"
    decide = page.locator("[data-testid=decide-form]")
    decide.get_by_label("改变评分").check()
    decide.locator("input[name=new_value]").fill(full)
    decide.locator("textarea[name=answer]").fill("经复核，台账齐全，恢复该项满分。")
    decide.get_by_label("第二组组长").check()
    decide.get_by_label("复核员").check()
    follow(page, decide.get_by_role("button", name="提交复核决定"))
    assert text(page, "[data-testid=status]").startswith("改变评分")
    shot(reviewer, "reviewer-decided-change")
    # Now it waits on the leader's tablet: enter the value on the final sheet unlocked with the objection.
    page = reviewer.home()
    todo = page.locator(f"[data-notice-todo='enter-{oid}']")
    assert "待录入复核后得分" in todo.inner_text()
    follow(page, todo.locator("a"))
    follow(page, page.get_by_role("link", name="在工作组评分表上录入复核后得分"))
    assert page.url.endswith(f"/inspection/sheets/{final_id}/reconcile")
    page.fill(f"#row-{code} input[name=score]", full)
    page.fill(f"#row-{code} input[name=reason]", "复核改变：台账齐全，恢复满分（异议〔2026〕第1号）")
    follow(page, page.locator(f"#row-{code} button[type=submit]"))
    follow(page, page.get_by_role("button", name="提交区级审核"))
    assert "已提交区级审核" in text(page)
    assert page.locator(f"[data-notice-todo='enter-{oid}']").count() == 0  # now it waits on the district
    fits(page)
    shot(reviewer, "reviewer-entered-on-final-sheet")

    # ---- 7. The district approves the sheet from its to-do and publishes version 2 from 再次公布. -----------------
    page = district.home()
    item = page.locator(f"[data-testid=todos] [data-todo='{final_id}']")
    assert "待审核" in item.inner_text() and "已解锁" in item.inner_text()
    follow(page, item.locator("a"))
    follow(page, page.locator("button[value=approve]"))
    page = republish(district, 2)
    changed = page.locator(f"[data-testid=changes] tr[data-unit='{units[VILLAGE].code}']")
    assert "94.50" in changed.inner_text() and "不合格 → 合格" in changed.inner_text()
    assert "异议〔2026〕第1号" in changed.inner_text()  # the unlock's reason: the objection
    assert page.locator("[data-testid=changes] tbody tr[data-unit]").count() == 1
    fits(page)
    shot(district, "district-v2-changes")
    # The village: version 2 in its to-do, and the answer to its objection to print.
    page = village.home()
    todo = page.locator(f"[data-round-todo='results-{rid}'] a")
    assert todo.inner_text() == "第2版结果已公布：查看本单位评估结果和问题清单"
    page.goto(f"{base}/notice/objections/{oid}")
    assert text(page, "[data-testid=status]").startswith("改变评分")
    follow(page, page.locator("[data-testid=print-answer]"))
    assert "复核结果告知书" in text(page)
    shot(village, "village-answer")

    # ---- 8. After 15 December: the district confirms the results from its to-do; the round reads 结果确定. -------
    clock.at = AFTER
    page = district.home()
    todo = page.locator(f"[data-notice-todo='settle-{rid}']")
    assert "可以确认结果" in todo.inner_text()
    follow(page, todo.locator("a"))
    follow(page, page.locator("[data-testid=settle]"))
    assert text(page, "[data-testid=settled]") == "结果确定（第2版）"
    page.goto(f"{base}/results/rounds/{rid}")
    assert text(page, "[data-testid=settled]") == "结果确定（第2版）"
    shot(district, "district-settled")

    # ---- 9. 整改: the district issues the failing township's notice; the township reads it in its to-do. ---------
    page.goto(f"{base}/rectify/rounds/{rid}")
    candidates = page.locator("[data-testid=candidates] [data-unit]")
    assert candidates.count() == 1  # 荷塘村 passes in version 2: only 清溪镇 is left
    follow(page, page.locator(f"[data-testid=issue-{units[TOWNSHIP].code}]"))
    assert "已下发整改通知" in text(page)
    rect = db.session.scalar(select(Rectification))
    township = at("township")
    page = township.home()
    step = page.locator(f"[data-step=report-{rect.id}]")
    assert "报送整改报告" in step.inner_text() and "剩31天" in step.inner_text()  # due 16 January 2027
    follow(page, step.locator("a"))
    notice = page.context.new_page()
    notice.goto(f"{base}/rectify/{rect.id}/notice")
    assert "关于清溪镇评估验收问题整改的通知" in text(notice)
    notice.close()
    ask_extension(page, "report", "2027-02-05", "镇村两级台账需重新整理")
    assert "延期申请已提交" in text(page)
    fits(page)
    shot(township, "township-extension-asked")

    # ---- 10. The district answers the extension from its to-do (granted); the township reports. -----------------
    page = district.home()
    step = page.locator(f"[data-step=decide_extension-{rect.id}]")
    assert "答复延期申请" in step.inner_text()
    follow(page, step.locator("a"))
    follow(page, page.locator("[data-extension]").get_by_role("button", name="提交答复"))
    assert "已同意延期" in text(page)
    assert text(page, "[data-testid=report-due]").startswith("2027-02-05")
    page = township.home()
    step = page.locator(f"[data-step=report-{rect.id}]")
    assert "剩51天" in step.inner_text()  # the granted date
    follow(page, step.locator("a"))
    filed = tmp_path / "整改报告.pdf"
    filed.write_bytes(PDF)
    file_report(page, "已补齐低保台账，建立月度核查制度", filed)
    assert "整改报告已报送" in text(page) and "整改报告.pdf" in text(page)
    shot(township, "township-report-filed")

    # ---- 11. The district assigns the 复查 to the second team; its leader records 整改后通过. ---------------------
    page = district.home()
    step = page.locator(f"[data-step=assign_recheck-{rect.id}]")
    assert "安排复查" in step.inner_text()
    follow(page, step.locator("a"))
    assign_recheck(page, "第二工作组", "failed")
    assert "已安排复查" in text(page)
    inspector2 = at("inspector2")
    page = inspector2.home()
    step = page.locator("[data-step^=record_recheck]")
    assert "记录复查结果" in step.inner_text() and TOWNSHIP in step.inner_text()
    follow(page, step.locator("a"))
    assert fill_full_marks(page) > 0
    follow(page, page.get_by_role("button", name="记录复查结果"))
    assert "复查结果已记录" in text(page)
    shot(inspector2, "inspector2-recheck-recorded")
    page = township.page
    page.goto(f"{base}/rectify/{rect.id}")
    assert text(page, "[data-testid=status]").strip() == "整改后通过"
    assert text(page, "[data-testid=published-result]").startswith("不合格")  # the original never changes
    fits(page)
    shot(township, "township-passed-after-rectification")

    # ---- 12. 复查 reaches finance only through a version: 再次公布 waits; version 3; the share in its section. ----
    finance = at("finance")
    page = finance.page
    page.goto(f"{base}/finance/rounds/{rid}")
    assert page.locator("[data-rectified]").count() == 0  # version 2 knows nothing of the 复查
    page = republish(district, 3)  # version 3's 变更: what rectification changed
    moved = page.locator(f"[data-testid=changes] tr[data-unit='{units[TOWNSHIP].code}']")
    assert "复查结论：整改后通过" in moved.locator("[data-rectified]").inner_text()
    assert "0.00 → 3,000.00" in moved.inner_text()
    assert page.locator("[data-testid=changes] tbody tr[data-unit]").count() == 1
    shot(district, "district-v3-changes")
    page = finance.page
    page.goto(f"{base}/finance/rounds/{rid}")
    line = page.locator(f"[data-unit='{units[TOWNSHIP].code}']")
    assert "整改后通过" in line.inner_text() and "3,000.00" in line.inner_text()
    assert "2,000.00" in line.locator("[data-withheld]").inner_text()
    fits(page)
    shot(finance, "finance-rectified-share")

    # ---- 13. 约谈: the district records it; the township files its report from its to-do; the district checks. --
    page = district.page
    page.goto(base + "/rectify/interviews/new")
    minutes = tmp_path / "约谈纪要.pdf"
    minutes.write_bytes(PDF)
    record_interview(page, units[TOWNSHIP].id, "2026-12-16", "区民政局副局长；清溪镇党委书记",
                     "首次评估不合格，整改进度需加快", "月底前建立台账月度核查制度", "2026-12-31", minutes)
    assert "约谈已记录" in text(page)
    assert "剩15天" in text(page, "[data-testid=requirements]")  # due 31 December, by the walk's clock
    shot(district, "district-interview-recorded")
    page = township.home()
    step = page.locator("[data-step^=interview_report]")
    assert "报送约谈书面报告" in step.inner_text() and "剩30天" in step.inner_text()
    follow(page, step.locator("a"))
    file_interview_report(page, "已按要求建立台账月度核查制度", filed)
    assert "书面报告已报送" in text(page)
    fits(page)
    shot(township, "township-interview-report-filed")
    page = district.home()
    assert "审核约谈书面报告" in page.locator("[data-step^=interview_check]").inner_text()
    assert OTHER_TOWNSHIP not in text(page, "[data-testid=todos]") and OTHER_VILLAGE not in text(
        page, "[data-testid=todos]")
