"""Issue 29, point 2 (and issue 28, point 1's inputs a version holds): a published round stays frozen — no leader
change unless the set-up was unlocked (解锁设置) and no tablet signature unless a final sheet was unlocked, in the form and the API alike — and
a version's printed 评分表 names the leader and shows the drawings as they were when it was published."""
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round, RoundUnit, Signature, Team
from evalapp.services import publication, rounds as rounds_service, setup_unlock, teams
from evalapp.services.errors import Conflict
from tests.factories import VILLAGE, app_of_world  # noqa: F401  (the `app` of the world)
from tests.test_publication_snapshot import _score_final
from tests.test_signatures import post, rows, team, world, zigzag  # noqa: F401  (fixtures)


def _publish(w):
    for name, unit in w.units.items():
        if unit.level != "district" and name != VILLAGE:
            _score_final(w, name, "98")
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_incomplete=True, confirm_no_subsidy=True)


def _team_of(w, final) -> Team:
    team_id = db.session.scalar(select(RoundUnit.team_id).where(RoundUnit.round_id == w.round.id,
                                                                RoundUnit.unit_id == final.unit_id))
    return db.session.get(Team, team_id)


def test_a_published_round_refuses_a_signature_in_the_form_and_the_api(team, login_as):
    final, w = team["final"], team["world"]
    assert post(team["leader"], final, "leader").status_code == 302  # before publication: signed
    from evalapp.services.moves import move_sheet

    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    _publish(w)
    before = len(rows(final))
    page = post(team["leader"], final, "representative", name="王丽")
    assert page.status_code == 409 and "公布后以打印的评分表上的手写签名为准" in page.get_data(as_text=True)
    api = team["leader"].post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": "representative", "name": "王丽", "strokes": zigzag(), "width": 600, "height": 240})
    assert api.status_code == 409 and api.json["code"] == "signature.published"
    assert len(rows(final)) == before
    printed = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert 'data-testid="frozen-note"' in printed and 'data-slot="leader" data-state="signed"' in printed


def test_a_published_round_refuses_a_leader_change_until_the_set_up_is_unlocked(team, login_as):
    final, w = team["final"], team["world"]
    assert post(team["leader"], final, "leader").status_code == 302
    from evalapp.services.moves import move_sheet

    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    _publish(w)
    group = _team_of(w, final)
    old_leader = w.people["leader"]
    admin = login_as("admin")
    page = admin.post(f"/admin/rounds/{w.round.id}/teams/{group.id}/leader", data={"username": "inspector"})
    assert page.status_code == 409 and "工作组已冻结" in page.get_data(as_text=True)
    db.session.refresh(group)
    assert group.leader_id == old_leader.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "team.leader")) is None
    # A final sheet unlocked for correction is not enough (issue 29, point 2): the set-up is unlocked, with a reason.
    publication.unlock(final, w.people["admin"], "复核台账")
    page = admin.post(f"/admin/rounds/{w.round.id}/teams/{group.id}/leader", data={"username": "inspector"})
    assert page.status_code == 409 and "解锁设置" in page.get_data(as_text=True)
    setup_unlock.open_unlock(db.session.get(Round, w.round.id), "原组长调离", w.people["admin"])
    teams.set_leader(group, "inspector", w.people["admin"])
    db.session.refresh(group)
    assert group.leader_id == w.people["inspector"].id
    # The version already published keeps its leader and the drawing in force when it was published.
    printed = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    leader_row = printed.split('data-slot="leader"')[1].split("</tr>")[0]
    assert old_leader.display_name in leader_row and 'data-state="signed"' in printed.split(
        'data-slot="leader"')[1][:40]


def test_set_leader_refused_on_a_published_round_by_the_service(team):
    final, w = team["final"], team["world"]
    _publish(w)
    group = _team_of(w, final)
    try:
        teams.set_leader(group, "inspector", w.people["admin"])
    except Conflict as exc:
        assert exc.code == "round.setup_frozen"
    else:
        raise AssertionError("a published round's leader changed")
    assert db.session.get(Round, w.round.id).status == "published"
    assert db.session.scalar(select(Signature.id).limit(1)) is None
