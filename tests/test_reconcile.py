"""The leader's reconciliation into the final sheet, and the district's review."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, SheetTransition
from tests.conftest import fill_all
from tests.factories import (  # noqa: F401 (fixture)
    INSPECTOR_NAME, LEADER_NAME, TOWNSHIP, VILLAGE, app_of_world, make_round, make_sheet,
)


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection, self-assessments submitted."""
    return make_round("inspection", self_assessed=True)


@pytest.fixture
def team(login_as, app, world):
    """Both members have scored 荷塘村 and submitted: A1 agrees, A3 differs by 1.5 (over the tolerance of 1)."""
    leader, inspector = login_as("leader"), login_as("inspector")
    for client, username, a3 in ((leader, "leader", 0), (inspector, "inspector", 3)):
        sheet = make_sheet(world, VILLAGE, inspector=username)
        fill_all(client, sheet)
        if a3:
            client.put(f"/api/v1/sheets/{sheet.id}/scores/A3",
                       json={"deductions": [{"code": "A3-1", "count": 1}], "free_deduction": "0.5",
                             "reason": "记录缺失", "version": 1})
        assert client.post(f"/api/v1/sheets/{sheet.id}/submit").status_code == 200
    return {"leader": leader, "inspector": inspector, "final": make_sheet(world, VILLAGE, "final")}


def test_members_side_by_side_with_the_mean_and_flags(team):
    html = team["leader"].get(f"/inspection/sheets/{team['final'].id}/reconcile").get_data(as_text=True)
    assert LEADER_NAME in html and INSPECTOR_NAME in html
    assert 'id="row-A3" class="table-warning"' in html and "成员分差较大" in html
    assert 'id="row-A1" class=""' in html
    assert "7.25" in html  # A3: mean of 8.00 and 6.50


def test_accept_all_takes_the_mean_quantized(team):
    final = team["final"]
    team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    a3 = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final.id,
                                                                     Score.indicator.has(code="A3")))
    assert a3.points == Decimal("7.25") and a3.note == "采用成员平均分"


def test_override_needs_a_reason_and_keeps_what_was_typed(team):
    final = team["final"]
    url = f"/inspection/sheets/{final.id}/reconcile/score"
    response = team["leader"].post(url, data={"code": "A3", "score": "6", "reason": "", "version": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "与成员平均分不同时须填写调整理由" in html and 'value="6"' in html
    ok = team["leader"].post(url, data={"code": "A3", "score": "6", "reason": "复核走访记录", "version": "0"})
    assert ok.status_code == 302
    score = db.session.scalar(select(Score).where(Score.sheet_id == final.id, Score.points == Decimal("6")))
    assert score.reason == "复核走访记录" and "组长调整" in score.note


@pytest.mark.parametrize("value", ["-1", "8.5", "abc", "nan"])
def test_override_outside_range_is_refused(team, value):
    response = team["leader"].post(f"/inspection/sheets/{team['final'].id}/reconcile/score",
                                   data={"code": "A3", "score": value, "reason": "x", "version": "0"})
    assert response.status_code == 422


def test_only_the_leader_reconciles(team):
    final = team["final"]
    response = team["inspector"].post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    assert response.status_code == 403


def test_bonus_is_capped_and_veto_needs_a_description(team):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    url = f"/inspection/sheets/{final.id}/reconcile/bonus-veto"
    refused = leader.post(url, data={"bonus": ["X1", "X2"], "veto": ["V3"], "veto_text_V3": "  "})
    assert refused.status_code == 422 and "认定一票否决须填写情况说明" in refused.get_data(as_text=True)
    assert 'value="X1" id="bonus-X1" checked' in refused.get_data(as_text=True)  # what was ticked stays ticked
    leader.post(url, data={"bonus": ["X1", "X2"]})
    data = leader.get(f"/api/v1/sheets/{final.id}").get_json()
    assert data["total"] == "102.25"  # 99.25 + min(2 + 1, cap 3)
    leader.post(url, data={"bonus": ["X1", "X2"], "veto": ["V3"], "veto_text_V3": "台账补记、弄虚作假"})
    data = leader.get(f"/api/v1/sheets/{final.id}").get_json()
    assert data["result"] == "veto"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sheet.bonus_veto")
                              .order_by(AuditEvent.id.desc()))
    assert "弄虚作假" in audit.detail


def test_final_cannot_be_submitted_while_a_member_has_not(login_as, world):
    leader = login_as("leader")
    final = make_sheet(world, TOWNSHIP, "final")
    fill_all(leader, make_sheet(world, TOWNSHIP, inspector="leader"))
    leader.post(f"/api/v1/sheets/{make_sheet(world, TOWNSHIP, inspector='leader').id}/submit")
    for code in ("A1",):
        leader.post(f"/inspection/sheets/{final.id}/reconcile/score",
                    data={"code": code, "score": "3", "reason": "组长定分", "version": "0"})
    response = leader.post(f"/api/v1/sheets/{final.id}/submit")
    assert response.status_code == 409 and INSPECTOR_NAME in response.get_json()["error"]


def test_submit_final_then_district_returns_then_approves(team, login_as):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    response = leader.post(f"/inspection/sheets/{final.id}/reconcile/submit")
    assert response.status_code == 302
    db.session.refresh(final)
    assert final.status == "submitted"
    district = login_as("district")
    assert VILLAGE in district.get("/results/").get_data(as_text=True)
    no_comment = district.post(f"/inspection/sheets/{final.id}/review", data={"action": "return", "comment": " "})
    assert no_comment.status_code == 422 and "退回时须填写退回意见" in no_comment.get_data(as_text=True)
    district.post(f"/inspection/sheets/{final.id}/review", data={"action": "return", "comment": "A3 扣分依据不足"})
    db.session.refresh(final)
    assert final.status == "returned"
    # the leader can change it again, then resubmit; the district approves
    assert leader.post(f"/inspection/sheets/{final.id}/reconcile/score",
                       data={"code": "A3", "score": "7", "reason": "按意见复核", "version": "1"}).status_code == 302
    leader.post(f"/inspection/sheets/{final.id}/reconcile/submit")
    approve = district.post(f"/api/v1/sheets/{final.id}/approve")
    assert approve.status_code == 200 and approve.get_json()["status"] == "approved"
    history = db.session.scalars(select(SheetTransition).where(SheetTransition.sheet_id == final.id)
                                 .order_by(SheetTransition.id)).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"), ("submitted", "approved")]
    assert history[1].comment == "A3 扣分依据不足"
    results = district.get(f"/api/v1/rounds/{final.round_id}/results").get_json()["units"]
    village = next(u for u in results if u["name"] == VILLAGE)
    assert village["final_total"] == "99.00" and village["result"] == "pass"  # 100 − 8 + 7


def test_only_the_district_reviews_final_sheets(team, login_as):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    leader.post(f"/inspection/sheets/{final.id}/reconcile/submit")
    assert leader.post(f"/api/v1/sheets/{final.id}/approve").status_code == 403
    assert login_as("township").post(f"/api/v1/sheets/{final.id}/approve").status_code == 404
    assert login_as("finance").post(f"/api/v1/sheets/{final.id}/approve").status_code == 403


def test_self_versus_final_flags_inflated_self_scores(team, world, login_as):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    version = next(i for i in leader.get(f"/api/v1/sheets/{final.id}").get_json()["indicators"]
                   if i["code"] == "A3")["version"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/score",
                data={"code": "A3", "score": "5", "reason": "抽查发现走访不实", "version": str(version)})
    self_sheet = make_sheet(world, VILLAGE, "self")
    district = login_as("district")
    data = district.get(f"/api/v1/sheets/{self_sheet.id}").get_json()
    a3 = next(i for i in data["indicators"] if i["code"] == "A3")
    assert a3["final"] == "5.00"
    from decimal import Decimal

    expected_gap = Decimal(a3["score"]) - Decimal("5")
    assert a3["gap"] == f"{expected_gap:.2f}" and a3["self_inflated"] is (expected_gap > 1)
    assert expected_gap > 1  # the seeded self-assessment of A3 is at least 6.5 of 8
    page = district.get(f"/results/sheets/{self_sheet.id}/compare").get_data(as_text=True)
    assert '<tr class="table-danger" data-code="A3">' in page and "自评虚高" in page
    totals = data["comparison"]
    assert Decimal(totals["gap"]) == Decimal(totals["self_total"]) - Decimal(totals["final_total"])
    results = district.get(f"/api/v1/rounds/{final.round_id}/results").get_json()["units"]
    row = next(u for u in results if u["name"] == VILLAGE)
    assert row["self_gap"] == totals["gap"]
    # the village sees the comparison only once results are published
    assert login_as("village").get(f"/results/sheets/{self_sheet.id}/compare").status_code == 404
