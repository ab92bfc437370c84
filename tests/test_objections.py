"""Issue 32, points 2–4: 公示 of a published version, 异议 by the units inside the window (server time), 复核 by a
group outside the scoring team, the change through the audited unlock, republication and 结果确定."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from evalapp import access
from evalapp.extensions import db
from evalapp.models import AuditEvent, Objection, Score, Sheet, SheetVeto, VetoItem
from evalapp.services import moves, notices, objections, publication, readmodel, reconcile
from evalapp.services import rounds as rounds_service
from evalapp.services.errors import Conflict, Invalid, NotAllowed
from evalapp.services.figures import refresh_figures
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, fixed_subsidy, make_round, user
from tests.files import PDF
from tests.test_publication_snapshot import _score_final

# Monday 7 December 2026, 10:00 in Beijing. Seven working days from it end on Tuesday 15 December, so objections are
# in time until 2026-12-16 00:00 Beijing time = 2026-12-15 16:00 UTC.
OPENED = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
LAST_SECOND = datetime(2026, 12, 15, 15, 59, 59, tzinfo=timezone.utc)
ONE_SECOND_AFTER = datetime(2026, 12, 15, 16, 0, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self, monkeypatch, at):
        self.at = at
        monkeypatch.setattr(notices, "_now", lambda: self.at)


@pytest.fixture
def noticed(empty_app, monkeypatch):
    """A round of four units published once (荷塘村 at 94.50 fails; 石桥社区 has a veto finding), its 公示 opened
    on Monday 7 December 2026 for 7 working days; a third inspector, on no team, to re-check."""
    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        sheet = _score_final(w, name, total, approve=name != OTHER_VILLAGE)
    item = db.session.scalar(select(VetoItem).where(VetoItem.catalogue_id == w.round.village_catalogue_id))
    db.session.add(SheetVeto(sheet_id=sheet.id, veto_item_id=item.id, description="低保对象认定违规"))
    db.session.flush()
    refresh_figures(Sheet.id == sheet.id)
    db.session.commit()
    for member in db.session.scalars(select(Sheet).where(Sheet.unit_id == sheet.unit_id, Sheet.kind == "inspector")):
        moves.move_sheet(member, "submitted", w.people["admin"])
    moves.move_sheet(sheet, "submitted", w.people["admin"])
    moves.move_sheet(sheet, "approved", w.people["admin"])
    fixed_subsidy(w.round, w.people["admin"], township_yuan="5000", village_yuan="2000")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    w.people["reviewer"] = user("reviewer", "inspector", display_name="复核员")
    clock = Clock(monkeypatch, OPENED)
    notices.open_notice(w.round, date(2026, 12, 7), 7, "现将评估验收结果予以公示。", w.people["district"])
    w.clock = clock
    return w


def _lost_indicator(w, unit_name=VILLAGE) -> str:
    codes = [t.code for t in objections.targets(notices.notice_of(w.round.id), w.units[unit_name])
             if t.target == "indicator"]
    return codes[0]


def test_the_notice_ends_at_midnight_beijing_on_its_seventh_working_day(noticed):
    notice = notices.notice_of(noticed.round.id)
    assert notice.last_day == date(2026, 12, 15) and notice.version == 1
    assert notices.ends_at(notice) == datetime(2026, 12, 15, 16, 0, tzinfo=timezone.utc)
    listed = notices.notice_list(notice)
    assert [name for name, _ in listed.townships] == [TOWNSHIP, OTHER_TOWNSHIP]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice.open"))
    assert event.new["last_day"] == "2026-12-15"


def test_an_objection_one_second_after_the_end_is_refused_and_one_in_the_last_second_accepted(noticed):
    w = noticed
    code = _lost_indicator(w)
    w.clock.at = ONE_SECOND_AFTER
    with pytest.raises(Conflict) as late:
        objections.file(w.round, w.units[VILLAGE], "indicator", code, "扣分依据不足", [], w.people["village"])
    assert late.value.code == "objection.closed" and "2026-12-15 24:00" in late.value.message
    assert db.session.scalar(select(Objection.id)) is None
    w.clock.at = LAST_SECOND
    made = objections.file(w.round, w.units[VILLAGE], "indicator", code, "扣分依据不足", [(PDF, "台账.pdf")],
                           w.people["village"])
    assert made.receipt == "异议〔2026〕第1号" and [f.original_name for f in made.files] == ["台账.pdf"]


def test_a_second_open_objection_on_the_same_indicator_is_refused_with_why(noticed):
    w = noticed
    code = _lost_indicator(w)
    first = objections.file(w.round, w.units[VILLAGE], "indicator", code, "扣分依据不足", [], w.people["village"])
    with pytest.raises(Invalid) as again:
        objections.file(w.round, w.units[VILLAGE], "indicator", code, "再次提出", [], w.people["village"])
    assert again.value.code == "objection.duplicate" and first.receipt in again.value.fields["code"]
    # The township may not object for its village; the district enters a named paper objection instead.
    with pytest.raises(NotAllowed):
        objections.file(w.round, w.units[VILLAGE], "indicator", code, "代为提出", [], w.people["township"])
    with pytest.raises(Invalid) as unnamed:
        objections.file(w.round, w.units[TOWNSHIP], "indicator", _lost_indicator(w, TOWNSHIP), "书面异议", [],
                        w.people["district"])
    assert "objector" in unnamed.value.fields
    paper = objections.file(w.round, w.units[TOWNSHIP], "indicator", _lost_indicator(w, TOWNSHIP), "书面异议", [],
                            w.people["district"], objector="清溪镇党委 张三")
    assert paper.on_paper and paper.number == 2


def test_an_objection_to_a_veto_finding(noticed):
    w = noticed
    veto = [t for t in objections.targets(notices.notice_of(w.round.id), w.units[OTHER_VILLAGE]) if t.target == "veto"]
    assert len(veto) == 1
    made = objections.file(w.round, w.units[OTHER_VILLAGE], "veto", veto[0].code, "该户认定符合政策，附审批表",
                           [(PDF, "审批表.pdf")], w.people["outsider_village"])
    assert made.target == "veto" and made.title == veto[0].title
    # A unit without that finding cannot contest it.
    with pytest.raises(Invalid):
        objections.file(w.round, w.units[VILLAGE], "veto", veto[0].code, "无", [], w.people["village"])


def test_evidence_is_checked_like_the_other_uploads(noticed):
    w = noticed
    with pytest.raises(Invalid) as refused:
        objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "附件", [(b"MZ\x90", "a.exe")],
                        w.people["village"])
    assert "files" in refused.value.fields and db.session.scalar(select(Objection.id)) is None


def test_a_reviewer_from_the_scoring_team_is_refused_with_why(noticed):
    w = noticed
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足", [],
                           w.people["village"])
    group = [w.people["inspector"].id, w.people["reviewer"].id]
    with pytest.raises(Invalid) as refused:
        objections.assign(made, group, w.people["reviewer"].id, w.people["district"])
    assert "第一组评估员" in refused.value.fields["reviewers"] and "不能参加复核" in refused.value.fields["reviewers"]
    with pytest.raises(Invalid) as alone:
        objections.assign(made, [w.people["reviewer"].id], w.people["reviewer"].id, w.people["district"])
    assert "至少" in alone.value.fields["reviewers"]
    assert db.session.get(Objection, made.id).status == "open"


def test_the_whole_notice_objection_recheck_change_approve_republish_settle_flow(noticed, empty_app):
    w = noticed
    district, village, reviewer = w.people["district"], w.people["village"], w.people["reviewer"]
    code = _lost_indicator(w)
    changed = objections.file(w.round, w.units[VILLAGE], "indicator", code, "扣分依据不足", [(PDF, "台账.pdf")],
                              village)
    other = [t.code for t in objections.targets(notices.notice_of(w.round.id), w.units[VILLAGE])
             if t.target == "indicator"][1]
    upheld = objections.file(w.round, w.units[VILLAGE], "indicator", other, "另一项", [], village)
    group = [w.people["inspector2"].id, reviewer.id]
    for o in (changed, upheld):
        objections.assign(o, group, reviewer.id, district)
    assert changed.due_on == date(2026, 12, 22)  # 15 days after assignment
    # Decided by majority: a vote that is not a majority is refused.
    with pytest.raises(Invalid):
        objections.decide(changed, "change", "台账齐全", {group[0]: False, group[1]: True}, reviewer,
                          new_value="5")
    with pytest.raises(NotAllowed):
        objections.decide(changed, "change", "台账齐全", {g: True for g in group}, w.people["inspector2"],
                          new_value="5")
    final = objections.final_sheet_of(changed)
    row = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final.id)
                            .where(Score.indicator.has(code=code)))
    value = row.indicator.points
    objections.decide(changed, "change", "经复核台账齐全，恢复满分", {g: True for g in group}, reviewer,
                      new_value=str(value))
    objections.decide(upheld, "uphold", "经复核扣分有据，维持原评分", {g: True for g in group}, reviewer)
    db.session.expire_all()
    final = db.session.get(Sheet, final.id)
    assert final.unlocked and final.status != "approved"
    unlock = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sheet.unlock"))
    assert unlock.detail.startswith("异议〔2026〕第1号") and unlock.user_id == reviewer.id
    # Exactly the group's leader edits the sheet now: not the team's leader, not another reviewer.
    assert access.can_edit_sheet(reviewer, final) and access.can_view_sheet(reviewer, final)
    assert not access.can_edit_sheet(w.people["leader"], final)
    assert not access.can_edit_sheet(w.people["inspector2"], final)
    # On the pages too: the group's leader opens the team's reconcile page and enters the value there; the team's
    # own leader is refused.
    pages = {name: empty_app.test_client() for name in ("reviewer", "leader")}
    for name, client in pages.items():
        client.post("/login", data={"username": name, "password": "demo-pass-2021"})
    assert pages["reviewer"].get(f"/inspection/sheets/{final.id}/reconcile").status_code == 200
    refused = pages["leader"].post(f"/inspection/sheets/{final.id}/reconcile/score",
                                   data={"code": code, "score": str(value), "reason": "组长自改", "version": row.version})
    assert refused.status_code == 403
    entered = pages["reviewer"].post(f"/inspection/sheets/{final.id}/reconcile/score",
                                     data={"code": code, "score": str(value), "reason": "复核改变：经复核台账齐全",
                                           "version": row.version})
    assert entered.status_code == 302
    db.session.expire_all()
    final = db.session.get(Sheet, final.id)
    row = db.session.get(Score, row.id)
    assert row.points == value and row.updated_by_id == reviewer.id
    moves.submit_sheet(final, reviewer)
    # Not yet: the period runs until 15 December, and the change is not published.
    with pytest.raises(Conflict) as early:
        objections.settle(w.round, district)
    assert early.value.code == "notice.still_open"
    w.clock.at = ONE_SECOND_AFTER
    with pytest.raises(Conflict) as pending:
        objections.settle(w.round, district)
    assert pending.value.code == "notice.unpublished_changes"
    moves.approve_sheet(db.session.get(Sheet, final.id), district)
    v2 = publication.publish(w.round, district, confirm_no_subsidy=True)
    assert v2.version == 2
    changes = readmodel.changes(readmodel.version_of(w.round.id, 1), w.round, v2)
    assert [c.name for c in changes] == [VILLAGE] and changes[0].new_result == "pass"
    notice = objections.settle(w.round, district)
    assert notice.settled_version == 2 and notices.state(notice) == "settled"
    client = empty_app.test_client()
    client.post("/login", data={"username": "district", "password": "demo-pass-2021"})
    results = client.get(f"/results/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-testid="settled"' in results and "结果确定（第2版）" in results
    printed = client.get(f"/notice/rounds/{w.round.id}/print").get_data(as_text=True)
    assert "结果确定" in printed
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("objection.%"))
                                                 .order_by(AuditEvent.id))] == [
        "objection.file", "objection.file", "objection.assign", "objection.assign", "objection.decide",
        "objection.decide"]


def _todo_actions(user, today):
    from evalapp.services.todos import todos_for

    return [(t.action, t.days) for t in todos_for(user, today).notice]


def test_each_step_is_in_the_todo_of_whoever_must_act_with_days_left_and_overdue(noticed):
    w = noticed
    district, village, reviewer = w.people["district"], w.people["village"], w.people["reviewer"]
    day = date(2026, 12, 9)
    assert _todo_actions(village, day) == [("object", 6)]  # on notice until 15 December
    assert _todo_actions(w.people["outsider_township"], day) == [("object", 6)]
    assert _todo_actions(district, day) == []
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足", [], village)
    assert _todo_actions(district, day) == [("assign", None)]
    objections.assign(made, [w.people["inspector2"].id, reviewer.id], reviewer.id, district)
    assert _todo_actions(district, day) == [] and _todo_actions(w.people["inspector2"], day) == []
    assert _todo_actions(reviewer, date(2026, 12, 20)) == [("decide", 2)]  # due 22 December
    assert _todo_actions(reviewer, date(2026, 12, 25)) == [("decide", -3)]  # overdue: marked, still listed
    objections.decide(made, "uphold", "维持", {reviewer.id: True, w.people["inspector2"].id: True}, reviewer)
    assert _todo_actions(reviewer, date(2026, 12, 20)) == []
    assert _todo_actions(village, date(2026, 12, 16)) == []  # the period is over
    assert _todo_actions(district, date(2026, 12, 16)) == [("settle", None)]


def test_the_dashboard_counts_objections_by_status_and_by_item(noticed, empty_app):
    w = noticed
    village, reviewer = w.people["village"], w.people["reviewer"]
    codes = [t.code for t in objections.targets(notices.notice_of(w.round.id), w.units[VILLAGE])
             if t.target == "indicator"]
    first = objections.file(w.round, w.units[VILLAGE], "indicator", codes[0], "一", [], village)
    objections.file(w.round, w.units[VILLAGE], "indicator", codes[1], "二", [], village)
    objections.file(w.round, w.units[TOWNSHIP], "indicator", codes[0], "三", [], w.people["township"])
    objections.assign(first, [w.people["inspector2"].id, reviewer.id], reviewer.id, w.people["district"])
    shown = objections.figures(w.round.id)
    assert shown.by_status == {"open": 2, "assigned": 1, "upheld": 0, "changed": 0}
    assert [(r["code"], r["open"], r["assigned"], r["total"]) for r in shown.by_item] == [
        (codes[0], 1, 1, 2), (codes[1], 1, 0, 1)]
    client = empty_app.test_client()
    client.post("/login", data={"username": "district", "password": "demo-pass-2021"})
    page = client.get(f"/notice/rounds/{w.round.id}/dashboard").get_data(as_text=True)
    assert f'data-item="indicator-{codes[0]}"' in page and 'id="chart-objections"' in page


def test_the_leaders_enter_todo_lasts_while_the_unlocked_sheet_is_theirs_to_change(noticed):
    """A change decided, the group's leader enters it on the unlocked final sheet: the to-do says so until the
    leader submits it (then it waits on the district's review, not on the leader), comes back if the district
    returns the sheet, and goes once the sheet is approved (found by the cycle's browser walk: it stayed after the
    submission)."""
    w = noticed
    district, reviewer = w.people["district"], w.people["reviewer"]
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足", [],
                           w.people["village"])
    group = [w.people["inspector2"].id, reviewer.id]
    objections.assign(made, group, reviewer.id, district)
    final = objections.final_sheet_of(made)
    value = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final.id)
                              .where(Score.indicator.has(code=made.code))).indicator.points
    objections.decide(made, "change", "经复核台账齐全", {g: True for g in group}, reviewer, new_value=str(value))
    day = date(2026, 12, 9)
    assert _todo_actions(reviewer, day) == [("enter", 13)]
    moves.submit_sheet(db.session.get(Sheet, final.id), reviewer)
    assert _todo_actions(reviewer, day) == []
    moves.return_sheet(db.session.get(Sheet, final.id), district, "请写明依据")
    assert _todo_actions(reviewer, day) == [("enter", 13)]
    moves.submit_sheet(db.session.get(Sheet, final.id), reviewer)
    moves.approve_sheet(db.session.get(Sheet, final.id), district)
    assert _todo_actions(reviewer, day) == []
