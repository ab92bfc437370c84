"""Issue 32, points 2–4 through the pages and the API: the notice page and its print, the objection form with
evidence (refusals beside the field, what was typed kept), the closed form saying when it closed, the re-check
group refused in the form and the API when it holds a member of the scoring team."""
import io
from datetime import date

from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, CalendarDay, Objection
from evalapp.services import notices, objections
from tests.factories import OTHER_VILLAGE, PASSWORD, VILLAGE
from tests.files import PDF
from tests.test_objections import ONE_SECOND_AFTER, _lost_indicator, noticed  # noqa: F401  (the fixture)
from tests.test_publication_snapshot import published  # noqa: F401  (the fixture: published, no 公示 yet)


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_the_admin_keeps_the_calendar_with_a_form_and_the_change_is_audited(empty_app, noticed):
    admin = _client(empty_app, "admin")
    assert admin.get("/notice/calendar").status_code == 200
    bad = admin.post("/notice/calendar", data={"day": "", "kind": "holiday", "note": "国庆"})
    assert bad.status_code == 422 and "请选择日期" in bad.get_data(as_text=True)
    ok = admin.post("/notice/calendar", data={"day": "2026-10-10", "kind": "workday", "note": "国庆调休"})
    assert ok.status_code == 302
    row = db.session.scalar(select(CalendarDay))
    assert (row.day, row.kind, row.note) == (date(2026, 10, 10), "workday", "国庆调休")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.set")).new["kind"] == "workday"
    assert _client(empty_app, "district").get("/notice/calendar").status_code == 403
    assert admin.post(f"/notice/calendar/{row.id}/remove").status_code == 302
    assert db.session.scalar(select(CalendarDay)) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.remove")).old["note"] == "国庆调休"


def test_the_village_sees_the_notice_and_files_an_objection_with_evidence(empty_app, noticed):
    w = noticed
    village = _client(empty_app, "village")
    page = village.get(f"/notice/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-testid="objection-form"' in page and "2026-12-15 24:00" in page
    printed = village.get(f"/notice/rounds/{w.round.id}/print").get_data(as_text=True)
    assert "关于2031年度测试评估验收结果的公示" in printed and OTHER_VILLAGE in printed
    code = _lost_indicator(w)
    unit = w.units[VILLAGE].id
    empty = village.post(f"/notice/rounds/{w.round.id}/objections",
                         data={"unit": unit, "item": f"indicator:{code}", "reason": ""})
    assert empty.status_code == 422 and "请填写异议理由" in empty.get_data(as_text=True)
    filed = village.post(f"/notice/rounds/{w.round.id}/objections", content_type="multipart/form-data",
                         data={"unit": unit, "item": f"indicator:{code}", "reason": "台账齐全，扣分依据不足",
                               "files": (io.BytesIO(PDF), "台账.pdf")})
    assert filed.status_code == 302
    made = db.session.scalar(select(Objection))
    assert made.receipt == "异议〔2026〕第1号" and made.files[0].original_name == "台账.pdf"
    again = village.post(f"/notice/rounds/{w.round.id}/objections",
                         data={"unit": unit, "item": f"indicator:{code}", "reason": "再次提出的理由"})
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "答复前不能再次提出" in html and "再次提出的理由" in html
    detail = village.get(f"/notice/objections/{made.id}")
    assert detail.status_code == 200 and "台账.pdf" in detail.get_data(as_text=True)
    assert village.get(f"/notice/objections/{made.id}/files/{made.files[0].id}").data == PDF
    # Another village neither sees it nor may file for 荷塘村.
    outsider = _client(empty_app, "outsider_village")
    assert outsider.get(f"/notice/objections/{made.id}").status_code == 404
    refused = outsider.post(f"/notice/rounds/{w.round.id}/objections",
                            data={"unit": unit, "item": f"indicator:{code}", "reason": "冒名"})
    assert refused.status_code == 422 and db.session.scalar(select(func.count(Objection.id))) == 1


def test_after_the_end_the_form_closes_and_says_when_and_the_api_refuses(empty_app, noticed):
    w = noticed
    w.clock.at = ONE_SECOND_AFTER
    village = _client(empty_app, "village")
    page = village.get(f"/notice/rounds/{w.round.id}").get_data(as_text=True)
    assert 'data-testid="objection-form"' not in page and "公示期已于2026-12-15 24:00（北京时间）结束" in page
    posted = village.post(f"/notice/rounds/{w.round.id}/objections",
                          data={"unit": w.units[VILLAGE].id, "item": f"indicator:{_lost_indicator(w)}",
                                "reason": "晚了一秒"})
    assert posted.status_code == 409
    api = village.post(f"/api/v1/rounds/{w.round.id}/objections",
                       data={"unit_id": w.units[VILLAGE].id, "target": "indicator", "code": _lost_indicator(w),
                             "reason": "晚了一秒"}, headers={"X-CSRFToken": _csrf(village)})
    assert api.status_code == 409 and api.get_json()["code"] == "objection.closed"
    assert db.session.scalar(select(Objection.id)) is None


def _csrf(client) -> str:
    return client.get("/api/v1/csrf").get_json()["csrf_token"]


def test_a_reviewer_from_the_scoring_team_is_refused_in_the_form_and_the_api(empty_app, noticed):
    w = noticed
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足", [],
                           w.people["village"])
    district = _client(empty_app, "district")
    page = district.get(f"/notice/objections/{made.id}").get_data(as_text=True)
    assert 'data-testid="assign-form"' in page
    group = [w.people["leader"].id, w.people["reviewer"].id]
    form = district.post(f"/notice/objections/{made.id}/assign",
                         data={"reviewers": group, "leader": w.people["reviewer"].id})
    html = form.get_data(as_text=True)
    assert form.status_code == 422 and 'data-testid="reviewers-error"' in html and "第一组组长" in html
    assert "不能参加复核" in html
    api = district.post(f"/api/v1/objections/{made.id}/assign", json={"reviewers": group,
                                                                      "leader": w.people["reviewer"].id},
                        headers={"X-CSRFToken": _csrf(district)})
    assert api.status_code == 422 and "不能参加复核" in api.get_json()["fields"]["reviewers"]
    assert db.session.get(Objection, made.id).status == "open"
    good = [w.people["inspector2"].id, w.people["reviewer"].id]
    ok = district.post(f"/api/v1/objections/{made.id}/assign", json={"reviewers": good,
                                                                    "leader": w.people["reviewer"].id},
                       headers={"X-CSRFToken": _csrf(district)})
    assert ok.status_code == 200 and ok.get_json()["status"] == "assigned"
    # The group's leader records the decision on the page; the unit prints the answer.
    reviewer = _client(empty_app, "reviewer")
    assert 'data-testid="decide-form"' in reviewer.get(f"/notice/objections/{made.id}").get_data(as_text=True)
    decided = reviewer.post(f"/notice/objections/{made.id}/decide",
                            data={"decision": "uphold", "answer": "扣分有据，维持原评分", "agree": good})
    assert decided.status_code == 302
    answer = _client(empty_app, "village").get(f"/notice/objections/{made.id}/answer").get_data(as_text=True)
    assert "复核结果告知书" in answer and "维持原评分" in answer and made.receipt in answer


def test_the_district_opens_the_notice_with_a_form(empty_app):
    from tests.factories import make_round
    from evalapp.services import publication, rounds as rounds_service
    from tests.test_publication_snapshot import _score_final
    from tests.factories import OTHER_TOWNSHIP, TOWNSHIP, fixed_subsidy

    w = make_round("inspection")
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    fixed_subsidy(w.round, w.people["admin"], township_yuan="5000", village_yuan="2000")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    district = _client(empty_app, "district")
    assert 'data-testid="open-notice"' in district.get(f"/notice/rounds/{w.round.id}").get_data(as_text=True)
    bad = district.post(f"/notice/rounds/{w.round.id}/open", data={"start": notices.today().isoformat(),
                                                                     "length": "0", "answer_days": "15"})
    assert bad.status_code == 422 and "公示期为1至60个工作日" in bad.get_data(as_text=True)
    ok = district.post(f"/notice/rounds/{w.round.id}/open", data={"start": notices.today().isoformat(),
                                                                    "length": "7", "answer_days": "15",
                                                                    "text": "现予公示"})
    assert ok.status_code == 302 and notices.notice_of(w.round.id).length == 7


def test_the_todo_panels_link_each_step(empty_app, noticed, monkeypatch):
    from evalapp.services import moves

    w = noticed
    monkeypatch.setattr(moves, "today_local", lambda: date(2026, 12, 9))
    home = _client(empty_app, "village").get("/selfassess/").get_data(as_text=True)
    todo = home.split('data-testid="todos"')[1].split("</section>")[0]
    assert f'data-notice-todo="object-{w.round.id}"' in todo and "公示中，可提出异议" in todo and "剩6天" in todo
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "扣分依据不足", [],
                           w.people["village"])
    queue = _client(empty_app, "district").get("/results/").get_data(as_text=True)
    assert f'data-notice-todo="assign-{made.id}"' in queue and f"/notice/objections/{made.id}" in queue


def test_the_api_files_an_objection_with_evidence_and_the_leader_decides(empty_app, noticed):
    from evalapp.services import accounts

    w = noticed
    token, _ = accounts.issue_api_token(w.people["village"])
    bearer = {"Authorization": f"Bearer {token}"}
    code = _lost_indicator(w)
    made = empty_app.test_client().post(
        f"/api/v1/rounds/{w.round.id}/objections", headers=bearer, content_type="multipart/form-data",
        data={"unit_id": w.units[VILLAGE].id, "target": "indicator", "code": code, "reason": "扣分依据不足",
              "files": (io.BytesIO(PDF), "台账.pdf")})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["receipt"] == "异议〔2026〕第1号" and body["files"][0]["name"] == "台账.pdf"
    again = empty_app.test_client().post(
        f"/api/v1/rounds/{w.round.id}/objections", headers=bearer,
        data={"unit_id": w.units[VILLAGE].id, "target": "indicator", "code": code, "reason": "再次"})
    assert again.status_code == 422 and again.get_json()["code"] == "objection.duplicate"
    bad_file = empty_app.test_client().post(
        f"/api/v1/rounds/{w.round.id}/objections", headers=bearer, content_type="multipart/form-data",
        data={"unit_id": w.units[VILLAGE].id, "target": "indicator", "code": code, "reason": "附件",
              "files": (io.BytesIO(b"MZ\x90\x00"), "a.exe")})
    assert bad_file.status_code == 422 and "files" in bad_file.get_json()["fields"]  # checked by content
    listed = empty_app.test_client().get(f"/api/v1/rounds/{w.round.id}/objections", headers=bearer).get_json()
    assert listed["notice"]["state"] == "open" and [o["id"] for o in listed["objections"]] == [body["id"]]
    objection = db.session.get(Objection, body["id"])
    group = [w.people["inspector2"].id, w.people["reviewer"].id]
    objections.assign(objection, group, w.people["reviewer"].id, w.people["district"])
    token, _ = accounts.issue_api_token(w.people["reviewer"])
    decided = empty_app.test_client().post(f"/api/v1/objections/{body['id']}/decide",
                                           headers={"Authorization": f"Bearer {token}"},
                                           json={"decision": "uphold", "answer": "维持", "agree": group[:1]})
    assert decided.status_code == 422 and "votes" in decided.get_json()["fields"]  # one of two: no majority
    decided = empty_app.test_client().post(f"/api/v1/objections/{body['id']}/decide",
                                           headers={"Authorization": f"Bearer {token}"},
                                           json={"decision": "uphold", "answer": "维持", "agree": group})
    assert decided.status_code == 200 and decided.get_json()["status"] == "upheld"


def test_the_notice_counts_working_days_through_the_admins_holiday_and_tiaoxiu_saturday(empty_app, published,
                                                                                        monkeypatch):
    """The admin keeps 2026's National Day (1–7 October off, Saturday 10 October a 调休 working day) with the
    calendar form; the district's notice from Tuesday 29 September for 7 working days then ends on Tuesday
    13 October (29, 30, 8, 9, Saturday 10, 12, 13), 24:00 Beijing time — not on 7 October as weekdays alone would
    have it; the server's clock decides the last second."""
    from datetime import datetime, timedelta, timezone

    w = published
    at = {"now": datetime(2026, 9, 28, 2, 0, tzinfo=timezone.utc)}
    monkeypatch.setattr(notices, "_now", lambda: at["now"])
    admin = _client(empty_app, "admin")
    for n in range(1, 8):
        assert admin.post("/notice/calendar", data={"day": f"2026-10-0{n}", "kind": "holiday",
                                                    "note": "国庆节"}).status_code == 302
    assert admin.post("/notice/calendar", data={"day": "2026-10-10", "kind": "workday",
                                                "note": "国庆调休"}).status_code == 302
    district = _client(empty_app, "district")
    opened = district.post(f"/notice/rounds/{w.round.id}/open",
                           data={"start": "2026-09-29", "length": "7", "answer_days": "15", "text": "公示"})
    assert opened.status_code == 302
    notice = notices.notice_of(w.round.id)
    assert notice.last_day == date(2026, 10, 13)
    page = district.get(f"/notice/rounds/{w.round.id}").get_data(as_text=True)
    assert "至2026-10-13 24:00（北京时间）止" in page
    end = datetime(2026, 10, 13, 16, 0, tzinfo=timezone.utc)  # 14 October 00:00 in Beijing
    assert notices.ends_at(notice) == end
    village = _client(empty_app, "village")
    at["now"] = end - timedelta(seconds=1)
    assert notices.state(notice) == "open" and 'data-testid="objection-form"' in village.get(
        f"/notice/rounds/{w.round.id}").get_data(as_text=True)
    at["now"] = end + timedelta(seconds=1)
    assert notices.state(notice) == "closed" and 'data-testid="objection-form"' not in village.get(
        f"/notice/rounds/{w.round.id}").get_data(as_text=True)


def test_during_the_notice_a_village_reads_the_list_but_not_another_units_results(empty_app, noticed):
    """The 公示 list shows every unit's result and total; what lies behind another unit's result (its page, its
    问题清单, its API answer) stays 404 to a village during 公示, and an objection for another unit is refused. A
    village outside the 公示 list (not in the round) sees neither the notice nor any unit's results."""
    from evalapp.services import units as units_service
    from tests.factories import OTHER_TOWNSHIP, TOWNSHIP, user

    w, rid = noticed, noticed.round.id
    village = _client(empty_app, "village")
    listed = village.get(f"/notice/rounds/{rid}/print").get_data(as_text=True)
    assert OTHER_VILLAGE in listed and "99.00" in listed  # the 公示 list: result and total
    for name in (OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP):
        unit_id = w.units[name].id
        assert village.get(f"/results/rounds/{rid}/units/{unit_id}").status_code == 404, name
        assert village.get(f"/results/rounds/{rid}/units/{unit_id}/print").status_code == 404, name
        assert village.get(f"/api/v1/rounds/{rid}/units/{unit_id}/results").status_code == 404, name
    other = village.post(f"/notice/rounds/{rid}/objections",
                         data={"unit": w.units[OTHER_VILLAGE].id, "item": "indicator:A1", "reason": "代别人提"})
    assert other.status_code == 422 and db.session.scalar(select(Objection.id)) is None
    assert village.get(f"/results/rounds/{rid}/units/{w.units[VILLAGE].id}").status_code == 200

    outside = units_service.create_unit(f"{w.units[OTHER_TOWNSHIP].code}099", "青山村", "村",
                                        w.units[OTHER_TOWNSHIP].code, w.people["admin"])
    user("outside_village", "village", outside)
    stranger = _client(empty_app, "outside_village")
    assert stranger.get(f"/notice/rounds/{rid}").status_code == 404
    assert stranger.get(f"/notice/rounds/{rid}/print").status_code == 404
    assert f"/notice/rounds/{rid}" not in stranger.get("/notice/").get_data(as_text=True)
    for name in (VILLAGE, OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP):
        unit_id = w.units[name].id
        assert stranger.get(f"/results/rounds/{rid}/units/{unit_id}").status_code == 404, name
        assert stranger.get(f"/api/v1/rounds/{rid}/units/{unit_id}/results").status_code == 404, name
    assert stranger.get(f"/results/rounds/{rid}/units/{outside.id}").status_code == 404


def test_the_evidence_limits_the_hint_tells_are_the_form_and_the_apis(empty_app, noticed):
    """The hint says what both the form and the API hold to: at most 5 files, 20 MB in all (the upload routes' body
    limit, 21 MB, holds that much evidence and the form around it). Five files of 4 MB with a 2,000-character
    reason are taken; two of 10.25 MB (each under 20 MB, 20.5 MB in all: the hint used to say "20 MB each") are
    refused beside the field by both, not left to a bare 413."""
    from evalapp.bodylimits import route_limit
    from evalapp.domain.objections import MAX_EVIDENCE_BYTES, MAX_FILES
    from evalapp.services import accounts
    from tests.files import pdf_of_size

    w, rid = noticed, noticed.round.id
    mb = 1024 * 1024
    assert (MAX_FILES, MAX_EVIDENCE_BYTES) == (5, 20 * mb)
    for endpoint in ("notice.file_objection", "api.file_objection"):
        assert route_limit(empty_app, endpoint) >= MAX_EVIDENCE_BYTES + 64 * 1024, endpoint  # the form around them
    village = _client(empty_app, "village")
    page = village.get(f"/notice/rounds/{rid}").get_data(as_text=True)
    assert "最多5个，合计不超过20MB" in page and "每个不超过20MB" not in page
    codes = [t.code for t in objections.targets(notices.notice_of(rid), w.units[VILLAGE]) if t.target == "indicator"]
    quarter = pdf_of_size(MAX_EVIDENCE_BYTES // 5 - 32 * 1024)
    taken = village.post(f"/notice/rounds/{rid}/objections", content_type="multipart/form-data", data={
        "unit": w.units[VILLAGE].id, "item": f"indicator:{codes[0]}", "reason": "依" * 2000,
        "files": [(io.BytesIO(quarter), f"台账{n}.pdf") for n in range(5)]})
    assert taken.status_code == 302, taken.get_data(as_text=True)[-2000:]
    half = pdf_of_size(MAX_EVIDENCE_BYTES // 2 + 256 * 1024)
    assert len(half) < 20 * mb and 2 * len(half) > MAX_EVIDENCE_BYTES
    two = {"unit": w.units[VILLAGE].id, "item": f"indicator:{codes[1]}", "reason": "扣分依据不足"}
    form = village.post(f"/notice/rounds/{rid}/objections", content_type="multipart/form-data",
                        data={**two, "files": [(io.BytesIO(half), "一.pdf"), (io.BytesIO(half), "二.pdf")]})
    assert form.status_code == 422
    beside = form.get_data(as_text=True).split('name="files"')[1].split("</div>")[0]  # under the field
    assert 'class="invalid-feedback">证明材料合计不能超过20MB' in beside
    token, _ = accounts.issue_api_token(w.people["village"])
    api = empty_app.test_client().post(
        f"/api/v1/rounds/{rid}/objections", headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
        data={"unit_id": w.units[VILLAGE].id, "target": "indicator", "code": codes[1], "reason": "扣分依据不足",
              "files": [(io.BytesIO(half), "一.pdf"), (io.BytesIO(half), "二.pdf")]})
    assert api.status_code == 422 and api.get_json()["code"] == "objection.files_too_large"
    assert api.get_json()["fields"]["files"] == "证明材料合计不能超过20MB"
    assert db.session.scalar(select(func.count(Objection.id))) == 1
