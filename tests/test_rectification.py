"""Issue 32, points 5, 7 and 8 (the 整改 / 复查 / 约谈 steps): a 整改通知 only for units that did not pass in a
published version; extensions asked by the unit, granted or refused by the district; the 整改报告 filed by the unit
alone; a 复查 recorded beside the published result, which never changes; one chance unless the district opens a
second; a 约谈 with its report; every step in the to-do of whoever acts, with days left and overdue marked."""
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from evalapp.domain import rectification as rules
from evalapp.extensions import db
from evalapp.models import (AuditEvent, Interview, Publication, PublishedUnit, Recheck, Rectification,
                            RectificationExtension, Team)
from evalapp.services import interviews, rectification as service, readmodel
from evalapp.services.errors import Conflict, NotAllowed
from evalapp.services.todos import todos_for
from tests.factories import TOWNSHIP, VILLAGE
from tests.files import PDF
from tests.test_publication_snapshot import published  # noqa: F401  (the fixture: 荷塘村 fails at 94.50)

TODAY = date(2031, 12, 20)


@pytest.fixture
def app(empty_app, published):
    return empty_app


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    """The pages' day, injected (no sleeps, no real clock)."""
    from evalapp.rectify import routes
    from evalapp.services import moves

    monkeypatch.setattr(routes, "_today", lambda: TODAY)
    monkeypatch.setattr(moves, "today_local", lambda: TODAY)  # the year a 文号 is issued in


def _issue(w, unit=VILLAGE, **kw):
    return service.issue(w.round, w.units[unit].id, w.people["district"], today=TODAY, **kw)


def _report(w, rect, user="village"):
    return service.submit_report(rect, "已补齐台账，召开专题会议", PDF, "整改报告.pdf", w.people[user])


def _audits(action):
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_a_notice_is_issued_only_to_units_that_did_not_pass(published, login_as):
    w = published
    pub, candidates = service.candidates(w.round.id)
    assert [c.unit.name for c in candidates] == [VILLAGE]  # 清溪镇 97, 白沙镇 95 (passes: 以上 includes 95), 99
    district = login_as("district")
    page = district.get(f"/rectify/rounds/{w.round.id}").get_data(as_text=True)
    listed = page.split('data-testid="candidates"')[1]
    assert f'data-unit="{w.units[VILLAGE].code}"' in listed and f'data-unit="{w.units[TOWNSHIP].code}"' not in listed
    refused = district.post(f"/rectify/rounds/{w.round.id}/issue", data={"unit_id": w.units[TOWNSHIP].id})
    assert refused.status_code == 303
    assert "不需要整改" in district.get(refused.location).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Rectification.id))) == 0
    # configurable deadlines, checked beside the field and kept as typed
    for typed, message in ((("2031-12-01", "2032-01-30"), "报送期限须晚于通知日期"),
                           (("2032-01-10", "2032-02-30"), "日期格式应为年-月-日")):
        other = district.post(f"/rectify/rounds/{w.round.id}/issue", data={
            "unit_id": w.units[VILLAGE].id, "report_due": typed[0], "complete_due": typed[1]})
        assert other.status_code == 422 and message in other.get_data(as_text=True)
        assert f'value="{typed[1]}"' in other.get_data(as_text=True)
    done = district.post(f"/rectify/rounds/{w.round.id}/issue", data={"unit_id": w.units[VILLAGE].id,
                                                                     "report_due": "", "complete_due": ""})
    assert done.status_code == 302
    rect = db.session.scalar(select(Rectification))
    assert (rect.report_due, rect.complete_due) == (date(2032, 1, 20), date(2032, 3, 20))  # 1 and 3 months
    assert rect.unit_name == VILLAGE and rect.version == 1 and rect.result == "fail"
    assert rect.number == "云溪民发〔2031〕1号"  # the year of issue, the office's 整改通知 sequence
    assert _audits("rectify.issue") == 1
    with pytest.raises(Conflict):
        _issue(w)  # one per unit and round
    notice = district.get(f"/rectify/{rect.id}/notice").get_data(as_text=True)
    assert "云溪民发〔2031〕1号" in notice and "关于荷塘村评估验收问题整改的通知" in notice and "2032年1月20日" in notice and "2032年3月20日" in notice
    assert 'data-indicator="' in notice  # the failed indicators, with their deductions
    with pytest.raises(NotAllowed):
        service.issue(w.round, w.units[VILLAGE].id, w.people["finance"], today=TODAY)


def test_the_unit_asks_for_an_extension_and_the_district_grants_then_refuses_with_why(published, login_as):
    w = published
    rect = _issue(w)
    village = login_as("village")
    typed = village.post(f"/rectify/{rect.id}/extension", data={"deadline": "report", "new_date": "2032-01-10",
                                                               "reason": ""})
    html = typed.get_data(as_text=True)
    assert typed.status_code == 422 and "申请的日期须晚于现在的期限（2032-01-20）" in html
    assert 'value="2032-01-10"' in html
    assert village.post(f"/rectify/{rect.id}/extension", data={
        "deadline": "report", "new_date": "2032-02-10", "reason": "村两委换届，台账整理需时间"}).status_code == 303
    ext = db.session.scalar(select(RectificationExtension))
    assert ext.decision is None and ext.reason == "村两委换届，台账整理需时间"
    assert 'data-testid="extension-form"' not in village.get(f"/rectify/{rect.id}").get_data(as_text=True)  # one
    again = village.post(f"/rectify/{rect.id}/extension", data={
        "deadline": "report", "new_date": "2032-02-20", "reason": "再次申请"})
    assert again.status_code == 409 and "已有延期申请待区级答复" in again.get_data(as_text=True)
    assert login_as("township").post(f"/rectify/extensions/{ext.id}/decide",
                                     data={"decision": "grant"}).status_code == 403
    district = login_as("district")
    assert district.post(f"/rectify/extensions/{ext.id}/decide", data={"decision": "grant"}).status_code == 303
    db.session.expire_all()
    rect = db.session.get(Rectification, rect.id)
    assert rect.report_due == date(2032, 2, 10) and ext.decision == "granted" and ext.granted_date == date(2032, 2, 10)
    # a second request, refused: the district must say why
    assert village.post(f"/rectify/{rect.id}/extension", data={
        "deadline": "complete", "new_date": "2032-06-20", "reason": "资金未到位"}).status_code == 303
    second = db.session.scalar(select(RectificationExtension).where(RectificationExtension.id != ext.id))
    empty = district.post(f"/rectify/extensions/{second.id}/decide", data={"decision": "refuse", "answer": ""})
    assert empty.status_code == 422 and "请填写不同意的理由" in empty.get_data(as_text=True)
    assert district.post(f"/rectify/extensions/{second.id}/decide", data={
        "decision": "refuse", "answer": "整改内容不涉及资金，应按期完成"}).status_code == 303
    db.session.expire_all()
    second = db.session.get(RectificationExtension, second.id)
    assert second.decision == "refused" and db.session.get(Rectification, rect.id).complete_due == date(2032, 3, 20)
    page = village.get(f"/rectify/{rect.id}").get_data(as_text=True)
    assert "整改内容不涉及资金，应按期完成" in page and 'data-testid="extension-granted"' in page
    assert _audits("rectify.extension_ask") == 2 and _audits("rectify.extension_decide") == 2


def test_the_report_is_filed_by_the_unit_and_by_no_other(published, login_as):
    w = published
    rect = _issue(w)
    url = f"/rectify/{rect.id}/report"
    body = {"text": "已整改", "report_file": (io.BytesIO(PDF), "整改报告.pdf")}
    assert login_as("outsider_village").post(url, data=body, content_type="multipart/form-data").status_code == 404
    assert login_as("outsider_village").get(f"/rectify/{rect.id}").status_code == 404
    body = {"text": "已整改", "report_file": (io.BytesIO(PDF), "整改报告.pdf")}
    assert login_as("township").post(url, data=body, content_type="multipart/form-data").status_code == 403
    village = login_as("village")
    bad = village.post(url, data={"text": "已整改", "report_file": (io.BytesIO(b"MZ not a pdf"), "a.pdf")},
                       content_type="multipart/form-data")
    assert bad.status_code == 422 and 'id="report_file-error"' in bad.get_data(as_text=True)
    assert "已整改" in bad.get_data(as_text=True)  # kept as typed
    ok = village.post(url, data={"text": "已补齐台账", "report_file": (io.BytesIO(PDF), "整改报告.pdf")},
                      content_type="multipart/form-data")
    assert ok.status_code == 303
    rect = db.session.get(Rectification, rect.id)
    assert rect.status == "reported" and rect.report_text == "已补齐台账" and len(rect.files) == 1
    assert village.get(f"/rectify/files/{rect.files[0].id}").data == PDF
    assert login_as("outsider_village").get(f"/rectify/files/{rect.files[0].id}").status_code == 404
    assert _audits("rectify.report") == 1


def _recheck(w, rect, team_name="第二工作组", scope="failed"):
    team = db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == team_name))
    return service.assign_recheck(rect, team.id, scope, w.people["district"])


def test_a_recheck_records_passing_after_rectification_beside_an_unchanged_published_result(published, login_as):
    w = published
    rect = _issue(w)
    _report(w, rect)
    before = readmodel.latest(w.round.id)
    unit_before = db.session.scalar(select(PublishedUnit).where(PublishedUnit.publication_id == before.id,
                                                                PublishedUnit.name == VILLAGE))
    recheck = _recheck(w, rect)
    lines = service.recheck_lines(rect, "failed")
    assert lines and all(line.published < line.max_points for line in lines)
    # only the assigned team's leader records it (inspector2 leads 第二工作组)
    url = f"/rectify/rechecks/{recheck.id}"
    full = {f"points_{line.code}": str(line.max_points) for line in lines}
    assert login_as("leader").post(url, data=full).status_code == 404  # not their team's: not even seen
    leader2 = login_as("inspector2")
    wrong = leader2.post(url, data={**full, f"points_{lines[0].code}": "0.3"})
    assert wrong.status_code == 422 and "得分须为0.5的整数倍" in wrong.get_data(as_text=True)
    assert 'value="0.3"' in wrong.get_data(as_text=True)
    assert leader2.post(url, data=full).status_code == 303
    db.session.expire_all()
    recheck = db.session.get(Recheck, recheck.id)
    assert recheck.outcome == "passed" and recheck.total == Decimal("100.00")
    assert db.session.get(Rectification, rect.id).status == "passed"
    # the published version is as it was: same row, same result, same checksum; no new version
    after = readmodel.latest(w.round.id)
    unit_after = db.session.get(PublishedUnit, unit_before.id)
    assert (after.id, after.sha256) == (before.id, before.sha256)
    assert (unit_after.result, unit_after.final_total) == ("fail", Decimal("94.50"))
    assert db.session.scalar(select(func.count(Publication.id))) == 1
    page = login_as("village").get(f"/rectify/{rect.id}").get_data(as_text=True)
    assert "整改后通过" in page and 'data-testid="published-result"' in page
    assert _audits("rectify.recheck_record") == 1


def test_a_second_recheck_is_refused_unless_the_district_opens_it(published):
    w = published
    rect = _issue(w)
    _report(w, rect)
    recheck = _recheck(w, rect)
    low = {line.code: "0" for line in service.recheck_lines(rect, "failed")}
    service.record_recheck(recheck, low, {}, False, "台账仍缺失", w.people["inspector2"])
    assert db.session.get(Rectification, rect.id).status == "failed"
    with pytest.raises(Conflict) as refused:
        _recheck(w, rect)
    assert "复查机会已用完" in refused.value.message
    with pytest.raises(Conflict):  # recorded once
        service.record_recheck(recheck, low, {}, False, "", w.people["inspector2"])
    service.open_second_chance(rect, "单位已重新报送补充材料", w.people["district"])
    second = _recheck(w, rect, "第一工作组", "all")
    assert second.attempt == 2 and len(service.recheck_lines(rect, "all")) > len(low)
    with pytest.raises(Conflict):
        service.open_second_chance(rect, "再次", w.people["district"])


def test_an_interview_is_recorded_its_report_filed_checked_and_its_notice_frozen(published, login_as):
    w = published
    district = login_as("district")
    form = {"unit": str(w.units[VILLAGE].id), "round": str(w.round.id), "held_on": "2031-12-22",
            "participants": "区民政局副局长；荷塘村党支部书记", "points_raised": "低保台账不全",
            "requirements-0-text": "补齐低保台账", "requirements-0-due": "2032-01-15",
            "requirements-1-text": "", "requirements-1-due": "", "requirements-2-text": "", "requirements-2-due": ""}
    missing = district.post("/rectify/interviews", data=form, content_type="multipart/form-data")
    assert missing.status_code == 422 and "请选择要上传的文件" in missing.get_data(as_text=True)
    assert "低保台账不全" in missing.get_data(as_text=True)
    late_due = district.post("/rectify/interviews", data={**form, "requirements-0-due": "2031-12-01",
                                                           "minutes": (io.BytesIO(PDF), "纪要.pdf")},
                             content_type="multipart/form-data")
    assert late_due.status_code == 422 and "完成期限不能早于约谈日期" in late_due.get_data(as_text=True)
    done = district.post("/rectify/interviews", data={**form, "minutes": (io.BytesIO(PDF), "纪要.pdf")},
                         content_type="multipart/form-data")
    assert done.status_code == 303
    interview = db.session.scalar(select(Interview))
    assert interview.report_due == date(2032, 1, 21)  # 30 days
    assert interview.requirements == [["补齐低保台账", "2032-01-15"]]
    assert login_as("outsider_village").get(f"/rectify/interviews/{interview.id}").status_code == 404
    steps = todos_for(w.people["village"], date(2032, 1, 25)).steps
    assert [(s.what, s.days_left) for s in steps] == [("interview_report", -4)]
    village = login_as("village")
    assert village.post(f"/rectify/interviews/{interview.id}/report", data={
        "text": "已补齐台账", "report_file": (io.BytesIO(PDF), "报告.pdf")},
        content_type="multipart/form-data").status_code == 303
    assert [s.what for s in todos_for(w.people["district"], TODAY).steps] == ["interview_check"]
    assert district.post(f"/rectify/interviews/{interview.id}/check", data={"note": "落实到位"}).status_code == 303
    assert district.post(f"/rectify/interviews/{interview.id}/publish").status_code == 303
    notice = district.get(f"/rectify/interviews/{interview.id}/notice").get_data(as_text=True)
    assert "关于约谈荷塘村的通报" in notice and "补齐低保台账" in notice and "草稿" not in notice
    assert "云溪民发〔2031〕1号" in notice  # its own sequence (约谈通报), numbered when published
    # a published 通报 never changes: a second publication is refused, and it prints what was frozen
    assert district.post(f"/rectify/interviews/{interview.id}/publish").status_code == 409
    db.session.get(Interview, interview.id).points_raised = "改过的内容"
    db.session.commit()
    assert "改过的内容" not in district.get(f"/rectify/interviews/{interview.id}/notice").get_data(as_text=True)
    for action in ("interview.record", "interview.report", "interview.check", "interview.notice"):
        assert _audits(action) == 1, action


def test_a_superscript_digit_as_the_interviews_unit_or_round_is_refused_beside_its_field(published, login_as):
    """"²" is str.isdigit() but no int(): it was a 500. Refused beside its field; nothing recorded."""
    w = published
    district = login_as("district")
    form = {"unit": str(w.units[VILLAGE].id), "round": str(w.round.id), "held_on": "2031-12-22",
            "participants": "区民政局副局长", "points_raised": "低保台账不全",
            "requirements-0-text": "补齐低保台账", "requirements-0-due": "2032-01-15"}
    for field, message in (("unit", "请选择被约谈的镇(街道)或村(社区)"), ("round", "批次不存在")):
        page = district.post("/rectify/interviews", data={**form, field: "²", "minutes": (io.BytesIO(PDF), "纪要.pdf")},
                             content_type="multipart/form-data")
        assert page.status_code == 422, field
        html = page.get_data(as_text=True)
        assert re.search(rf'name="{field}".*?invalid-feedback[^>]*>\s*{re.escape(message)}', html, re.S), field
    assert db.session.scalar(select(func.count(Interview.id))) == 0 and _audits("interview.record") == 0


def test_every_step_is_in_the_todo_of_whoever_acts_with_days_left_and_overdue_marked(published, login_as,
                                                                                    monkeypatch):
    w = published
    rect = _issue(w)
    village, district, leader2 = w.people["village"], w.people["district"], w.people["inspector2"]
    assert [(s.what, s.days_left) for s in todos_for(village, TODAY).steps] == [("report", 31)]
    assert [(s.what, s.days_left) for s in todos_for(village, date(2032, 1, 22)).steps] == [("report", -2)]
    assert todos_for(w.people["outsider_village"], TODAY).steps == []
    from evalapp.services import moves

    monkeypatch.setattr(moves, "today_local", lambda: date(2032, 1, 22))
    home = login_as("village").get("/selfassess/").get_data(as_text=True)
    assert f'data-step="report-{rect.id}"' in home and "已逾期2天" in home
    # overdue never blocks: the report is still taken
    _report(w, rect)
    assert todos_for(village, TODAY).steps == []
    assert [s.what for s in todos_for(district, TODAY).steps] == ["assign_recheck"]
    service.ask_extension(rect, "complete", date(2032, 5, 1), "需要更多时间", village)
    assert {s.what for s in todos_for(district, TODAY).steps} == {"assign_recheck", "decide_extension"}
    recheck = _recheck(w, rect)
    assert [(s.what, s.days_left) for s in todos_for(leader2, TODAY).steps] == [("record_recheck", 91)]
    assert todos_for(w.people["leader"], TODAY).steps == []
    assert f'data-step="record_recheck-{recheck.id}"' in login_as("inspector2").get("/inspection/").get_data(
        as_text=True)


def test_the_round_page_shows_rectification_progress_by_township(published, login_as):
    w = published
    rect = _issue(w)
    _report(w, rect)
    page = login_as("district").get(f"/rectify/rounds/{w.round.id}").get_data(as_text=True)
    row = page.split(f'data-township="{TOWNSHIP}"')[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in row.split("</td>")[1:-1]] == ["1", "1", "0", "0", "0"]


def test_the_rules():
    assert rules.add_months(date(2032, 1, 31), 1) == date(2032, 2, 29)
    assert rules.default_deadlines(date(2031, 11, 30)) == (date(2031, 12, 30), date(2032, 2, 29))
    assert not rules.rectifiable("pass") and not rules.rectifiable("incomplete") and rules.rectifiable("veto")
    lines = [rules.RecheckLine("A1", Decimal(10), Decimal(8)), rules.RecheckLine("A2", Decimal(90), Decimal(86))]
    assert [line.code for line in rules.in_scope(lines, "failed")] == ["A1", "A2"]
    passed = rules.recheck_result(lines, {"A1": Decimal(10)}, Decimal(0), Decimal(5), Decimal(95),
                                  vetoed=False, veto_resolved=False)
    assert passed == rules.RecheckResult(Decimal("96.00"), True)
    vetoed = rules.recheck_result(lines, {"A1": Decimal(10), "A2": Decimal(90)}, Decimal(0), Decimal(5),
                                  Decimal(95), vetoed=True, veto_resolved=False)
    assert not vetoed.passed
    assert rules.points_problem(Decimal("10.5"), Decimal(10)) is not None
    assert rules.points_problem(Decimal("9.5"), Decimal(10)) is None


PERSONAS = ["anon", "admin", "district", "finance", "leader", "inspector", "inspector2", "township", "village",
            "outsider_township", "outsider_village"]
SEES_RECT = {"admin", "district", "finance", "township", "village", "inspector2"}  # 第二工作组 re-inspects it
SEES_INTERVIEW = {"admin", "district", "finance", "township", "village"}
DISTRICT = {"admin", "district"}


def _expect(ok: set, ok_status=200, *, allowed_roles: set | None = None, ok_status_of: dict | None = None):
    """Per persona: `ok_status` (or its own) for `ok`; 404 for a role the route takes whose scope does not reach
    the record; 403 for a role the route does not take; 302 (to log in) for the anonymous."""
    roles = {"admin": "admin", "district": "district", "finance": "finance", "leader": "inspector",
             "inspector": "inspector", "inspector2": "inspector", "township": "township", "village": "village",
             "outsider_township": "township", "outsider_village": "village"}
    out = {"anon": 302}
    for persona, role in roles.items():
        if persona in ok:
            out[persona] = (ok_status_of or {}).get(persona, ok_status)
        elif allowed_roles is None or role in allowed_roles:
            out[persona] = 404
        else:
            out[persona] = 403
    return out


def test_every_rectify_route_answers_each_persona_by_role_and_scope(published, login_as):
    """The access matrix of the records the main matrix's world (a round in inspection) has none of: one
    rectification of 荷塘村 (reported, re-inspection assigned to 第二工作组) and one 约谈 (tests/test_access.py names
    this test for each of these routes)."""
    w = published
    rect = _issue(w)
    _report(w, rect)
    service.ask_extension(rect, "complete", date(2032, 5, 1), "需要更多时间", w.people["village"])
    ext = db.session.scalar(select(RectificationExtension))
    recheck = _recheck(w, rect)
    interview = interviews.record(w.units[VILLAGE].id, w.round.id, TODAY, "参加人员", "问题",
                                  [interviews.Requirement("要求", TODAY + timedelta(days=10))], PDF, "纪要.pdf",
                                  w.people["district"])
    file_id = db.session.get(Rectification, rect.id).files[0].id
    everyone = {"admin", "district", "finance", "inspector", "township", "village"}
    routes = [
        ("GET", f"/rectify/{rect.id}", _expect(SEES_RECT)),
        ("GET", f"/rectify/{rect.id}/notice", _expect(SEES_RECT)),
        ("GET", f"/rectify/files/{file_id}", _expect(SEES_RECT)),
        ("GET", f"/rectify/rechecks/{recheck.id}", _expect(SEES_RECT)),
        ("POST", f"/rectify/{rect.id}/extension",  # the village's own: the empty form refused (422)
         _expect({"village", "township"}, 422, allowed_roles={"township", "village"},
                 ok_status_of={"township": 403})),
        ("POST", f"/rectify/{rect.id}/report",  # 复查 already assigned: no more reports (409)
         _expect({"village", "township"}, 409, allowed_roles={"township", "village"},
                 ok_status_of={"township": 403})),
        ("POST", f"/rectify/extensions/{ext.id}/decide", _expect(DISTRICT, 422, allowed_roles=DISTRICT)),
        ("POST", f"/rectify/{rect.id}/recheck", _expect(DISTRICT, 422, allowed_roles=DISTRICT)),  # no team chosen
        ("POST", f"/rectify/{rect.id}/second-chance", _expect(DISTRICT, 422, allowed_roles=DISTRICT)),
        ("POST", f"/rectify/rechecks/{recheck.id}",  # the assigned leader: nothing entered (422); others seeing: 403
         _expect(SEES_RECT, 403, allowed_roles=everyone | {"inspector"}, ok_status_of={"inspector2": 422})),
        ("GET", f"/rectify/interviews/{interview.id}", _expect(SEES_INTERVIEW)),
        ("GET", f"/rectify/interviews/{interview.id}/notice", _expect(SEES_INTERVIEW)),
        ("POST", f"/rectify/interviews/{interview.id}/report",
         _expect({"village", "township"}, 422, allowed_roles={"township", "village"},
                 ok_status_of={"township": 403})),
        ("POST", f"/rectify/interviews/{interview.id}/check",  # no report yet: 409
         _expect(DISTRICT, 409, allowed_roles=DISTRICT)),
        ("POST", f"/rectify/interviews/{interview.id}/publish",  # published by the first (admin), then frozen: 409
         _expect(DISTRICT, allowed_roles=DISTRICT, ok_status_of={"admin": 303, "district": 409})),
    ]
    failures = []
    for persona in PERSONAS:
        client = login_as(persona) if persona != "anon" else published_client()
        for method, url, expected in routes:
            status = client.open(url, method=method, data={}).status_code
            if status != expected[persona]:
                failures.append(f"{persona} {method} {url}: {status}, expected {expected[persona]}")
    assert failures == []
    # nothing was changed by any of it
    assert db.session.get(Rectification, rect.id).status == "reported"
    assert db.session.get(RectificationExtension, ext.id).decision is None
    assert db.session.get(Recheck, recheck.id).outcome is None
    assert db.session.get(Interview, interview.id).reported_at is None
    assert _audits("interview.notice") == 1


def published_client():
    """A client not logged in."""
    from flask import current_app

    return current_app.test_client()


def test_the_rounds_dashboard_shows_rectification_progress_by_township(published, login_as):
    w = published
    url = f"/results/rounds/{w.round.id}/dashboard"
    assert 'data-testid="progress"' not in login_as("district").get(url).get_data(as_text=True)
    _issue(w)
    page = login_as("district").get(url).get_data(as_text=True)
    row = page.split(f'data-township="{TOWNSHIP}"')[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in row.split("</td>")[1:-1]] == ["1", "0", "0", "0", "0"]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(published, empty_app):
    import re

    empty_app.config["WTF_CSRF_ENABLED"] = True
    client = empty_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "district", "password": "demo-pass-2021", "csrf_token": token})
    url = f"/rectify/rounds/{published.round.id}/issue"
    assert client.post(url, data={"unit_id": published.units[VILLAGE].id}).status_code == 400
    assert db.session.scalar(select(func.count(Rectification.id))) == 0
    page = client.get(f"/rectify/rounds/{published.round.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post(url, data={"unit_id": published.units[VILLAGE].id, "csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count(Rectification.id))) == 1


def test_a_report_of_almost_20_mb_is_taken(published, login_as):
    """The upload routes take documents as large as the self-assessment's (bodylimits: 'document')."""
    from evalapp.services.documents import MAX_DOCUMENT_BYTES
    from tests.files import pdf_of_size

    w = published
    rect = _issue(w)
    data = pdf_of_size(MAX_DOCUMENT_BYTES - 64 * 1024)
    response = login_as("village").post(f"/rectify/{rect.id}/report", data={
        "text": "已整改" * 1000, "report_file": (io.BytesIO(data), "整改报告.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 303
    assert db.session.get(Rectification, rect.id).files[0].size == len(data)


def test_the_lists_of_rectifications_and_interviews_keep_each_to_whom_may_see_its_unit(published):
    """The 整改 and 约谈 lists by role in SQL, as each record's own check has it (access.sees_as_lead and
    unit_lead_scope, one rule for both): all for the all-seeing; the township lead its township's and villages';
    the village lead its own; another township's or village's nothing; an inspector only the 整改 its team
    re-inspects, no 约谈."""
    w = published
    rect = _issue(w)
    interview = interviews.record(w.units[VILLAGE].id, w.round.id, TODAY, "参加人员", "问题",
                                  [interviews.Requirement("要求", TODAY + timedelta(days=10))], PDF, "纪要.pdf",
                                  w.people["district"])
    seen = {name: ([r.id for r in service.visible(w.people[name])], [i.id for i in interviews.visible(w.people[name])])
            for name in ("admin", "district", "finance", "township", "village", "outsider_township",
                         "outsider_village", "inspector2")}
    both = ([rect.id], [interview.id])
    assert seen == {"admin": both, "district": both, "finance": both, "township": both, "village": both,
                    "outsider_township": ([], []), "outsider_village": ([], []), "inspector2": ([], [])}
    for name, (rects, talks) in seen.items():
        assert service.can_see(w.people[name], rect) == bool(rects), name
        assert interviews.can_see(w.people[name], interview) == bool(talks), name
    _report(w, rect)
    _recheck(w, rect)
    assert [r.id for r in service.visible(w.people["inspector2"])] == [rect.id]
    assert service.can_see(w.people["inspector2"], rect) and interviews.visible(w.people["inspector2"]) == []


def test_the_interview_page_counts_days_by_the_one_injected_clock(published, login_as, monkeypatch):
    """The 约谈 page's days left read services.moves' day, as every other rectify page does (it read the real
    date through a name bound at import, so a test's clock did not reach it: found by the cycle's browser walk)."""
    from evalapp.services import moves

    monkeypatch.undo()  # not fixed_day's two patches: moves' clock alone
    day = date(2031, 12, 20)
    monkeypatch.setattr(moves, "today_local", lambda: day)
    w = published
    interview = interviews.record(w.units[VILLAGE].id, w.round.id, day, "参加人员", "问题",
                                  [interviews.Requirement("要求", day + timedelta(days=10))], PDF, "纪要.pdf",
                                  w.people["district"])
    page = login_as("village").get(f"/rectify/interviews/{interview.id}").get_data(as_text=True)
    assert "剩10天" in page.split('data-testid="requirements"')[1].split("</dd>")[0]
    assert "剩30天" in page.split('data-testid="report-due"')[1].split("</dd>")[0]


def test_a_report_after_its_due_date_in_beijing_is_marked_late_on_the_interview_page(published, login_as):
    """逾期报送 by the district's date: 07:30 in Beijing on the day after the due date is late though its UTC date
    is still the due date (the page compared the UTC date); 23:30 in Beijing on the due date is in time."""
    from datetime import datetime, timezone

    assert rules.reported_late(datetime(2032, 1, 19, 23, 30, tzinfo=timezone.utc), date(2032, 1, 19))
    assert not rules.reported_late(datetime(2032, 1, 19, 15, 30, tzinfo=timezone.utc), date(2032, 1, 19))
    assert not rules.reported_late(None, date(2032, 1, 19))
    w = published
    interview = interviews.record(w.units[VILLAGE].id, w.round.id, TODAY, "参加人员", "问题",
                                  [interviews.Requirement("要求", TODAY + timedelta(days=10))], PDF, "纪要.pdf",
                                  w.people["district"])
    interviews.file_report(interview, "已落实", PDF, "报告.pdf", w.people["village"])
    for at, late in ((datetime(2032, 1, 19, 23, 30, tzinfo=timezone.utc), True),
                     (datetime(2032, 1, 19, 15, 30, tzinfo=timezone.utc), False)):
        row = db.session.get(Interview, interview.id)
        assert row.report_due == date(2032, 1, 19)
        row.reported_at = at
        db.session.commit()
        page = login_as("district").get(f"/rectify/interviews/{interview.id}").get_data(as_text=True)
        assert ('data-testid="reported-late"' in page) is late, at
