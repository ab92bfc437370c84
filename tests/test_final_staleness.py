"""The leader's final sheet never goes stale (issue 15, point 3): the mean is that of the submitted member sheets
only; a value decided from it keeps the member scores behind it; a member change afterwards flags the row
(成员评分已变化, who changed what, old → new) and blocks the submit until the leader decides again. The reconcile
rule holds through the API too."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Score, Sheet
from tests.conftest import fill_all
from tests.factories import INSPECTOR_NAME, VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures)


def final_score(final, code):
    return db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == final.id,
                                                                       Score.indicator.has(code=code)))


def put(client, sheet_id, code, **body):
    return client.put(f"/api/v1/sheets/{sheet_id}/scores/{code}", json=body)


@pytest.fixture
def team(login_as, app, world):
    """The leader has scored 荷塘村 (full marks) and submitted; the other member is still drafting, A3 at 5.00."""
    leader, inspector = login_as("leader"), login_as("inspector")
    mine = make_sheet(world, VILLAGE, inspector="leader")
    fill_all(leader, mine)
    assert leader.post(f"/api/v1/sheets/{mine.id}/submit").status_code == 200
    theirs = make_sheet(world, VILLAGE)
    fill_all(inspector, theirs)
    assert put(inspector, theirs.id, "A3", deductions=[{"code": "A3-1", "count": 3}], version=1).status_code == 200
    return {"leader": leader, "inspector": inspector, "mine": mine, "theirs": theirs,
            "final": make_sheet(world, VILLAGE, "final")}


def test_the_mean_is_that_of_submitted_member_sheets_only(team):
    final = team["final"]
    page = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    drafting = page[page.index('data-testid="drafting"'):]
    assert INSPECTOR_NAME in drafting[:drafting.index("</div>")]
    assert team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/accept-all").status_code == 302
    a3 = final_score(final, "A3")
    assert a3.points == Decimal("8.00")  # the drafting member's 5.00 is not in it
    assert [b["points"] for b in a3.basis] == ["8.00"]
    assert a3.basis[0]["sheet_id"] == team["mine"].id and a3.basis[0]["version"] == 1


def test_a_member_change_after_the_decision_flags_the_row_and_blocks_the_submit(team):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    assert team["inspector"].post(f"/api/v1/sheets/{team['theirs'].id}/submit").status_code == 200

    page = leader.get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    row = page[page.index('id="row-A3"'):]
    row = row[:row.index("</tr>")]
    assert 'data-stale="1"' in row and "成员评分已变化" in row
    assert f"{INSPECTOR_NAME} 未计入 → 5.00" in row
    assert 'data-stale="1"' not in page[page.index('id="row-A1"'):page.index('id="row-A2"')]  # A1: 10 and 10
    assert "成员评分已变化" in page[:page.index("sticky-summary")]  # the summary at the top links to the row

    refused = leader.post(f"/api/v1/sheets/{final.id}/submit")
    assert refused.status_code == 409 and "A3" in refused.get_json()["error"] and "成员评分已变化" in refused.get_json()["error"]
    form = leader.post(f"/inspection/sheets/{final.id}/reconcile/submit", follow_redirects=True)
    assert "成员评分已变化" in form.get_data(as_text=True)
    assert db.session.get(Sheet, final.id).status == "draft"

    # Deciding again (the mean of both submitted sheets now) clears the flag; then the submit goes through.
    a3 = final_score(final, "A3")
    again = leader.post(f"/inspection/sheets/{final.id}/reconcile/score",
                        data={"code": "A3", "score": "", "reason": "", "version": str(a3.version)})
    assert again.status_code == 302
    assert final_score(final, "A3").points == Decimal("6.50")
    stale = [c for c in ("A1", "A2") if 'data-stale="1"' in leader.get(
        f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)]
    assert stale == []
    assert leader.post(f"/api/v1/sheets/{final.id}/submit").status_code == 200


def test_an_override_taken_before_a_member_submits_is_flagged_too(team):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    a3 = final_score(final, "A3")
    assert leader.post(f"/inspection/sheets/{final.id}/reconcile/score", data={
        "code": "A3", "score": "7", "reason": "现场复核", "version": str(a3.version)}).status_code == 302
    team["inspector"].post(f"/api/v1/sheets/{team['theirs'].id}/submit")
    assert leader.post(f"/api/v1/sheets/{final.id}/submit").status_code == 409


def test_the_api_applies_the_reconcile_rule_to_a_final_sheet(team):
    final, leader = team["final"], team["leader"]
    no_reason = put(leader, final.id, "A3", score="4", version=0)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["fields"]
    assert final_score(final, "A3") is None
    by_rules = put(leader, final.id, "A3", deductions=[{"code": "A3-1", "count": 1}], version=0)
    assert by_rules.status_code == 422 and "score" in by_rules.get_json()["fields"]
    ok = put(leader, final.id, "A3", score="4", reason="复核台账", version=0)
    assert ok.status_code == 200, ok.get_json()
    stored = final_score(final, "A3")
    assert stored.points == Decimal("4.00") and stored.reason == "复核台账" and "组长调整" in stored.note
    assert stored.basis == [{"sheet_id": team["mine"].id, "version": 1, "points": "8.00"}]
    mean = put(leader, final.id, "A1", score="3", version=0)  # the submitted members' mean: no reason needed
    assert mean.status_code == 200 and final_score(final, "A1").note == "采用成员平均分"


def test_a_final_value_over_the_maximum_is_refused_by_the_api(team):
    response = put(team["leader"], team["final"].id, "A3", score="9", reason="x", version=0)
    assert response.status_code == 422 and "score" in response.get_json()["fields"]


def test_a_reconcile_error_opens_at_the_field_with_a_summary_at_the_top(team):
    final = team["final"]
    response = team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/score",
                                   data={"code": "A3", "score": "6", "reason": "", "version": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index('data-testid="error-summary"'):]
    assert 'href="#row-A3"' in summary[:summary.index("</div>")]
    row = html[html.index('id="row-A3"'):]
    row = row[:row.index("</tr>")]
    reason = row[row.index('name="reason"'):]
    assert "autofocus" in reason[:reason.index(">")] and "与成员平均分不同时须填写调整理由" in row
    veto = team["leader"].post(f"/inspection/sheets/{final.id}/reconcile/bonus-veto",
                               data={"veto": "V1", "veto_text_V1": "  "})
    html = veto.get_data(as_text=True)
    assert veto.status_code == 422 and 'href="#bonus-veto"' in html
    box = html[html.index('name="veto_text_V1"'):]
    assert "autofocus" in box[:box.index(">")]


def test_a_member_joining_after_the_final_was_submitted_gets_no_sheet_behind_it(team, app):
    from evalapp.models import Team, User
    from evalapp.services import teams
    from tests.conftest import make_user

    final, leader = team["final"], team["leader"]
    assert team["inspector"].post(f"/api/v1/sheets/{team['theirs'].id}/submit").status_code == 200
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    assert leader.post(f"/api/v1/sheets/{final.id}/submit").status_code == 200
    make_user("latecomer", "inspector")
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    squad = db.session.scalar(select(Team).where(Team.round_id == final.round_id, Team.name == "第一工作组"))
    teams.add_member(squad, "latecomer", admin)
    late = db.session.scalars(select(Sheet).join(User, User.id == Sheet.inspector_id).where(
        User.username == "latecomer", Sheet.round_id == final.round_id)).all()
    assert late and final.unit_id not in {s.unit_id for s in late}  # the other units of the team: yes


def test_the_district_cannot_approve_a_final_sheet_whose_members_changed_and_sees_why(team, login_as):
    final, leader = team["final"], team["leader"]
    assert team["inspector"].post(f"/api/v1/sheets/{team['theirs'].id}/submit").status_code == 200
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    assert leader.post(f"/api/v1/sheets/{final.id}/submit").status_code == 200
    # A member score moved after the decision (as an unlock-and-reopen path could do): written directly here.
    score = db.session.scalar(select(Score).join(Score.indicator).where(
        Score.sheet_id == team["theirs"].id, Score.indicator.has(code="A1")))
    score.points = Decimal("0.00")
    db.session.commit()
    district = login_as("district")
    page = district.get(f"/inspection/sheets/{final.id}").get_data(as_text=True)
    assert 'data-testid="review-problems"' in page and "A1" in page[page.index('data-testid="review-problems"'):][:600]
    refused = district.post(f"/api/v1/sheets/{final.id}/approve")
    assert refused.status_code == 409 and "成员评分已变化" in refused.get_json()["error"]
    assert db.session.get(Sheet, final.id).status == "submitted"
    assert district.post(f"/api/v1/sheets/{final.id}/return", json={"comment": "请重新定分"}).status_code == 200


def test_clearing_a_final_value_leaves_nothing_of_the_decision(team):
    final, leader = team["final"], team["leader"]
    leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all")
    a3 = final_score(final, "A3")
    assert put(leader, final.id, "A3", clear=True, version=a3.version).status_code == 200
    a3 = final_score(final, "A3")
    assert a3.points is None and a3.basis is None and a3.note == ""
