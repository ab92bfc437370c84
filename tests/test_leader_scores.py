"""Issue 29, point 5: 组长是否评分, set per team by the admin before inspection opens. A leader who does not score gets
no member sheet, is outside the members' mean and signs once, as 组长; a leader who scores (the default, as before)
signs once too, named as both (工作组组长、评估员) — on the tablet and on the printed 评分表."""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Sheet, Team
from evalapp.services import reconcile, rounds as rounds_service, signatures, teams
from evalapp.services.errors import Conflict
from tests.conftest import fill_all
from tests.factories import INSPECTOR_NAME, LEADER_NAME, VILLAGE, make_round, make_sheet


@pytest.fixture
def world(empty_app):
    """A round in set-up (make_round): the first team's leader is also its member, as every team's is."""
    return make_round("setup")


@pytest.fixture(name="app")
def app_of_setup(empty_app, world):
    return empty_app


def _first_team(w) -> Team:
    return db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第一工作组"))


def _to_inspection(w):
    for _ in range(2):
        rounds_service.advance(w.round, w.people["admin"], confirm=True)


def _member_sheets(w, username):
    return db.session.scalars(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "inspector",
                                                  Sheet.inspector_id == w.people[username].id)).all()


def test_the_admin_sets_a_leader_as_non_scoring_on_the_round_page(world, login_as):
    team = _first_team(world)
    assert team.leader_scores is True  # the default: as before, the leader scores
    admin = login_as("admin")
    page = admin.get(f"/admin/rounds/{world.round.id}").get_data(as_text=True)
    assert f'/teams/{team.id}/leader-scores"' in page and "组长评分（有成员评分表，计入平均分）" in page
    response = admin.post(f"/admin/rounds/{world.round.id}/teams/{team.id}/leader-scores", data={"leader_scores": "0"})
    assert response.status_code == 302
    db.session.refresh(team)
    assert team.leader_scores is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "team.leader_scores"))
    assert event.old == {"leader_scores": True} and event.new == {"leader_scores": False}
    assert event.user_id == world.people["admin"].id
    page = admin.get(f"/admin/rounds/{world.round.id}").get_data(as_text=True)
    assert page.split(f'data-team="{team.id}"')[1].split('data-testid="leader-scores">')[1].startswith("组长不评分")


def test_a_non_scoring_leader_gets_no_member_sheet_and_is_outside_the_mean(world, login_as):
    teams.set_leader_scores(_first_team(world), False, world.people["admin"])
    _to_inspection(world)
    assert _member_sheets(world, "leader") == []
    assert len(_member_sheets(world, "inspector")) == 2  # 清溪镇 and 荷塘村
    member = make_sheet(world, VILLAGE, inspector="inspector")
    fill_all(login_as("inspector"), member)
    assert login_as("inspector").post(f"/api/v1/sheets/{member.id}/submit").status_code == 200
    final = make_sheet(world, VILLAGE, "final")
    rec = reconcile.reconciliation(final)
    assert [m.inspector_id for m in rec.members] == [world.people["inspector"].id]
    for row in rec.rows:  # the mean is the one scoring member's value
        assert len(row.members) == 1 and row.proposed == row.members[0][1] is not None
    # The leader still reconciles: the final sheet's page is theirs.
    assert login_as("leader").get(f"/inspection/sheets/{final.id}/reconcile").status_code == 200


def test_a_non_scoring_leader_signs_once_as_leader_and_the_paper_names_them_once(world, login_as):
    teams.set_leader_scores(_first_team(world), False, world.people["admin"])
    _to_inspection(world)
    final = make_sheet(world, VILLAGE, "final")
    found = signatures.signing(final)
    assert [(s.key, s.name, s.title.zh) for s in found.slots] == [
        (f"inspector:{world.people['inspector'].id}", INSPECTOR_NAME, "评估员"),
        ("leader", LEADER_NAME, "工作组组长"), ("representative", "", "被评单位代表")]
    paper = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    sign_off = paper.split('data-testid="signatures"')[1]
    assert sign_off.count(LEADER_NAME) == 1 and sign_off.count('class="sign-line"') == 3
    assert "<td>工作组组长</td>" in sign_off and "工作组组长、评估员" not in sign_off


def test_a_scoring_leader_is_named_once_with_both_roles_on_the_paper(world, login_as):
    _to_inspection(world)
    assert len(_member_sheets(world, "leader")) == 2  # the default: the leader scores as a member
    final = make_sheet(world, VILLAGE, "final")
    paper = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    sign_off = paper.split('data-testid="signatures"')[1]
    assert sign_off.count(LEADER_NAME) == 1 and "<td>工作组组长、评估员</td>" in sign_off
    assert f'data-slot="inspector:{world.people["leader"].id}"' not in sign_off


def test_a_leader_who_signed_twice_before_keeps_the_signature_in_the_one_slot(world, login_as):
    """Sheets signed before the change: the leader's drawing in their member slot counts for the one slot."""
    from evalapp.models import Signature
    from evalapp.models.base import utcnow

    _to_inspection(world)
    final = make_sheet(world, VILLAGE, "final")
    digest = signatures.content_digests([final])[final.id]
    leader = world.people["leader"]
    db.session.add(Signature(sheet_id=final.id, role="inspector", signer_id=leader.id, signer_name=LEADER_NAME,
                             strokes=[], image=b"", content_sha256=digest, signed_at=utcnow(),
                             recorded_by_id=leader.id))
    db.session.commit()
    slot = next(s for s in signatures.signing(final).slots if s.key == "leader")
    assert slot.signed and slot.title.zh == "工作组组长、评估员"


def test_the_setting_is_refused_once_inspection_opened_and_a_team_needs_someone_to_score(world):
    team = _first_team(world)
    teams.set_leader_scores(team, False, world.people["admin"])
    other = db.session.scalar(select(Team).where(Team.round_id == world.round.id, Team.name == "第二工作组"))
    teams.set_leader_scores(other, False, world.people["admin"])  # its leader is its only member
    rounds_service.advance(world.round, world.people["admin"], confirm=True)
    problems = [str(p) for p in rounds_service.inspection_problems(world.round)]
    assert "第二工作组的组长不评分，且没有其他评分的成员" in problems
    with pytest.raises(Conflict):
        rounds_service.advance(world.round, world.people["admin"], confirm=True)
    teams.set_leader_scores(other, True, world.people["admin"])
    rounds_service.advance(world.round, world.people["admin"], confirm=True)
    with pytest.raises(Conflict) as refused:
        teams.set_leader_scores(team, True, world.people["admin"])
    assert refused.value.code == "team.leader_scores_after_inspection"
    db.session.refresh(team)
    assert team.leader_scores is False


def test_a_new_leader_of_a_non_scoring_team_leaves_the_former_one_an_ordinary_scoring_member(world):
    team = _first_team(world)
    teams.set_leader_scores(team, False, world.people["admin"])
    _to_inspection(world)
    teams.set_leader(team, "inspector", world.people["admin"])
    assert len(_member_sheets(world, "leader")) == 2  # the former leader now scores the team's units
    final = make_sheet(world, VILLAGE, "final")
    titles = {s.name: s.title.zh for s in signatures.signing(final).slots}
    # the new leader keeps the sheets they had: they scored, so they sign as both
    assert titles == {LEADER_NAME: "评估员", INSPECTOR_NAME: "工作组组长、评估员", "": "被评单位代表"}
