"""Issue 29, rest of point 2: a published round's set-up and teams change only through a recorded 解锁设置 (who,
when, reason; audited; on the round page), open until the next publication closes it and lists the changes made
under it on that version's 变更; each change takes the round's lock, so one racing a publication is either in the
version or refused — never left behind it unrecorded."""
import threading

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round, SetupUnlock, Team, User
from evalapp.services import locks, publication, readmodel, setup_unlock, snapshots, teams
from evalapp.services.errors import Conflict, Invalid
from tests.factories import INSPECTOR_NAME, LEADER_NAME
from tests.test_publication_snapshot import _client, published  # noqa: F401  (the fixture)


def _team(w) -> Team:
    return db.session.scalar(select(Team).where(Team.round_id == w.round.id, Team.name == "第一工作组"))


def test_every_set_up_change_of_a_published_round_is_refused_with_a_code_until_unlocked(published, empty_app):
    w = published
    admin, team = w.people["admin"], _team(published)
    attempts = [
        lambda: teams.set_leader(team, "inspector", admin),
        lambda: teams.add_member(team, "inspector2", admin),
        lambda: teams.remove_member(team, w.people["inspector"].id, admin, confirm=True),
        lambda: teams.set_leader_scores(team, False, admin),
        lambda: teams.create_team(w.round, "第三工作组", "inspector2", admin),
        lambda: teams.assign(w.round, {}, admin),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "round.setup_frozen" and "解锁设置" in refused.value.message
    client = _client(empty_app, "admin")
    for url, data in ((f"/admin/rounds/{w.round.id}/teams/{team.id}/leader", {"username": "inspector"}),
                      (f"/admin/rounds/{w.round.id}/teams/{team.id}/leader-scores", {"leader_scores": "0"}),
                      (f"/admin/rounds/{w.round.id}/settings", {"threshold": "95", "tolerance": "1",
                                                                 "inspection_end": "2031-12-31"})):
        response = client.post(url, data=data)
        assert response.status_code == 409 and "解锁设置" in response.get_data(as_text=True), url
    db.session.expire_all()
    assert _team(w).leader_id == w.people["leader"].id and not db.session.get(Round, w.round.id).changed_since_publication


def test_the_unlock_needs_a_reason_beside_the_field_and_keeps_what_was_typed(published, empty_app):
    w = published
    client = _client(empty_app, "admin")
    url = f"/admin/rounds/{w.round.id}/setup-unlock"
    empty = client.post(url, data={"reason": "   "})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and 'id="setup-reason-error"' in html and "请填写解锁理由" in html
    long = client.post(url, data={"reason": "原组长调离" * 500})
    html = long.get_data(as_text=True)
    assert long.status_code == 422 and "理由不能超过2000字" in html and "原组长调离原组长调离" in html
    assert db.session.scalar(select(SetupUnlock.id)) is None
    with pytest.raises(Invalid):
        setup_unlock.open_unlock(w.round, "", w.people["admin"])


def test_an_unlock_lets_the_leader_change_and_the_next_publication_closes_it_and_lists_the_change(
        published, empty_app):
    w = published
    rid, team = w.round.id, _team(published)
    admin = _client(empty_app, "admin")
    leader_url = f"/admin/rounds/{rid}/teams/{team.id}/leader"
    assert admin.post(leader_url, data={"username": "inspector"}).status_code == 409
    assert admin.post(f"/admin/rounds/{rid}/setup-unlock", data={"reason": "原组长调离"}).status_code == 302
    unlock = db.session.scalar(select(SetupUnlock))
    assert unlock.opened_by_id == w.people["admin"].id and unlock.reason == "原组长调离" and unlock.closed_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.setup_unlock"))
    assert event.detail == "原组长调离" and event.round_id == rid and event.user_id == w.people["admin"].id
    page = admin.get(f"/admin/rounds/{rid}").get_data(as_text=True)
    assert 'data-testid="setup-unlocked"' in page and "原组长调离" in page
    with pytest.raises(Conflict) as twice:
        setup_unlock.open_unlock(db.session.get(Round, rid), "再次", w.people["admin"])
    assert twice.value.code == "round.setup_already_unlocked"
    # Under the unlock: the leader changes, and the round waits for its next version.
    assert admin.post(leader_url, data={"username": "inspector"}).status_code == 302
    db.session.expire_all()
    round_ = db.session.get(Round, rid)
    assert _team(w).leader_id == w.people["inspector"].id and round_.changed_since_publication
    version = publication.publish(round_, w.people["district"], confirm_no_subsidy=True)
    assert version.version == 2
    db.session.expire_all()
    unlock = db.session.get(SetupUnlock, unlock.id)
    assert unlock.closed_by_version == 2 and unlock.closed_at == version.published_at
    changes = _client(empty_app, "district").get(f"/results/rounds/{rid}/changes?since=1").get_data(as_text=True)
    listed = changes.split('data-testid="setup-unlocks"')[1]
    assert "原组长调离" in listed and "更换组长" in listed and f"{LEADER_NAME} → {INSPECTOR_NAME}" in listed
    # Closed with the version: the next change is refused again, and the page lists the closed unlock.
    assert admin.post(leader_url, data={"username": "leader"}).status_code == 409
    page = admin.get(f"/admin/rounds/{rid}").get_data(as_text=True)
    assert 'data-testid="setup-unlocked"' not in page and "第2版公布时关闭" in page


def test_a_set_up_change_racing_a_republication_is_in_the_version_or_refused(published, empty_app, monkeypatch):
    """Forced overlap: the republication holds the round's lock and waits until the leader change has reached it
    (the fix) or run to its end (without the lock: it would land after the version, its unlock closed, unrecorded
    in any version). With the lock it waits, then sees the unlock closed by the version and is refused."""
    w = published
    rid, team_id = w.round.id, _team(published).id
    admin_id, district_id = w.people["admin"].id, w.people["district"].id
    setup_unlock.open_unlock(w.round, "组长调整", w.people["admin"])
    teams.set_leader(_team(w), "inspector", w.people["admin"])  # pending: the round waits for version 2
    went, locked = threading.Event(), threading.Event()
    real_freeze, real_lock = snapshots.freeze, locks.lock_round

    def freeze(*args, **kwargs):
        assert went.wait(60), "the leader change never started"
        return real_freeze(*args, **kwargs)

    def lock_round(round_):
        if threading.current_thread() is changer:
            went.set()
        real_lock(round_)
        if threading.current_thread() is publisher:
            locked.set()

    monkeypatch.setattr(snapshots, "freeze", freeze)
    monkeypatch.setattr(locks, "lock_round", lock_round)
    errors, refused = [], []

    def republish():
        with empty_app.app_context():
            try:
                publication.publish(db.session.get(Round, rid), db.session.get(User, district_id),
                                    confirm_no_subsidy=True)
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)

    def change():
        with empty_app.app_context():
            try:
                assert locked.wait(60), "the republication never took the round's lock"
                teams.set_leader(db.session.get(Team, team_id), "leader", db.session.get(User, admin_id))
            except Conflict as exc:
                refused.append(exc.code)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                went.set()

    changer, publisher = threading.Thread(target=change), threading.Thread(target=republish)
    publisher.start()
    changer.start()
    publisher.join(120)
    changer.join(120)
    assert not errors, errors
    db.session.expire_all()
    assert [p.version for p in readmodel.versions(rid)] == [1, 2]
    assert refused == ["round.setup_frozen"]
    assert _team(w).leader_id == w.people["inspector"].id  # version 2's leader, the change before it
    assert not db.session.get(Round, rid).changed_since_publication
    assert [e.new for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "team.leader"))] == [
        {"leader": w.people["inspector"].id}]
