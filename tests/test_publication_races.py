"""Issue 28, points 1 and 5: an unlock racing a republication never strands its correction (forced overlap, two
connections, both databases), and the refusals of publish and unlock answer with a reason, never a 500."""
import threading

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, Sheet, User
from evalapp.services import locks, publication, readmodel, snapshots
from evalapp.services.moves import move_sheet
from tests.factories import TOWNSHIP, VILLAGE
from tests.test_publication_snapshot import _client, published  # noqa: F401  (the fixture)


def _final(w, name: str) -> Sheet:
    return db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                 Sheet.unit_id == w.units[name].id))


def _corrected_and_approved(w, name: str) -> Sheet:
    """Unlock a unit's final sheet, and approve it again: a pending change, ready to be republished."""
    sheet = _final(w, name)
    publication.unlock(sheet, w.people["admin"], "复核台账")
    move_sheet(sheet, "submitted", w.people["admin"])
    move_sheet(sheet, "approved", w.people["admin"])
    return sheet


def test_an_unlock_racing_a_republication_is_in_the_next_version_never_lost(published, empty_app, monkeypatch):
    """The district republishes (a pending change flagged) while the admin unlocks another sheet. Forced overlap:
    the republication holds the round's lock and waits, inside its transaction, until the unlock has either run to
    its end (the bug: it takes no lock, and the publication then clears its flag and its mark) or reached the round's
    lock (the fix: it waits there until the version is written, then flags the round changed for the next)."""
    w = published
    round_id = w.round.id
    _corrected_and_approved(w, TOWNSHIP)
    village_id = _final(w, VILLAGE).id
    district_id, admin_id = w.people["district"].id, w.people["admin"].id
    went = threading.Event()  # the unlock reached the round's lock, or finished without it
    locked = threading.Event()  # the republication holds the round's lock
    real_freeze, real_lock = snapshots.freeze, locks.lock_round

    def freeze(*args, **kwargs):  # the republication, holding the lock, waits for the unlock to go
        assert went.wait(60), "the unlock never started"
        return real_freeze(*args, **kwargs)

    def lock_round(round_):
        if threading.current_thread() is unlocker:
            went.set()  # about to wait for the lock the republication holds
        real_lock(round_)
        if threading.current_thread() is first:
            locked.set()

    monkeypatch.setattr(snapshots, "freeze", freeze)
    monkeypatch.setattr(locks, "lock_round", lock_round)
    errors = []

    def republish():
        with empty_app.app_context():
            try:
                publication.publish(db.session.get(Round, round_id), db.session.get(User, district_id), confirm_no_subsidy=True)
            except Exception as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)

    def unlock():
        with empty_app.app_context():
            try:
                assert locked.wait(60), "the republication never took the round's lock"
                publication.unlock(db.session.get(Sheet, village_id), db.session.get(User, admin_id), "录入错误")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                went.set()

    unlocker = threading.Thread(target=unlock)
    first = threading.Thread(target=republish)
    first.start()
    unlocker.start()
    first.join(120)
    unlocker.join(120)
    assert not errors, errors
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    village = db.session.get(Sheet, village_id)
    assert [p.version for p in readmodel.versions(round_id)] == [1, 2]
    # The unlock is after version 2: pending for version 3, the sheet back with the leader, marked unlocked.
    assert round_.changed_since_publication and village.unlocked and village.status == "returned"
    monkeypatch.undo()
    move_sheet(village, "submitted", w.people["admin"])
    move_sheet(village, "approved", w.people["admin"])
    assert publication.publish(round_, w.people["district"], confirm_no_subsidy=True).version == 3


def test_a_refused_unlock_while_changes_are_pending_answers_with_the_reason(published, empty_app):
    w = published
    _corrected_and_approved(w, TOWNSHIP)
    admin = _client(empty_app, "admin")
    village = _final(w, VILLAGE)
    response = admin.post(f"/results/sheets/{village.id}/unlock", data={"reason": ""})
    assert response.status_code == 422  # the unlock form again, the reason's message beside it
    assert "请填写解锁理由" in response.get_data(as_text=True)
    typed = admin.post(f"/results/sheets/{village.id}/unlock", data={"reason": "A3录入\x07错误"})
    page = typed.get_data(as_text=True)
    assert typed.status_code == 422 and 'value="A3录入\x07错误"' in page  # what was typed is kept…
    assert "U+0007" in page  # …and the character named beside it
    db.session.refresh(village)
    assert not village.unlocked


def test_five_parallel_unlocks_of_one_sheet_one_succeeds_the_others_are_told_why(published, empty_app):
    w = published
    sheet_id = _final(w, VILLAGE).id
    clients = [_client(empty_app, "admin") for _ in range(5)]
    barrier = threading.Barrier(5)
    statuses = []

    def unlock(client):
        with empty_app.app_context():
            barrier.wait()
            response = client.post(f"/results/sheets/{sheet_id}/unlock", data={"reason": "复核"},
                                   headers={"Accept": "application/json"})
            statuses.append((response.status_code, response.is_json and response.get_json().get("code")))

    threads = [threading.Thread(target=unlock, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses, key=str) == sorted([(302, False)] + [(409, "sheet.already_unlocked")] * 4, key=str)


def test_the_refused_publish_page_links_to_the_round_pages_not_to_the_publish_action(published, empty_app):
    w = published
    sheet = _final(w, VILLAGE)
    publication.unlock(sheet, w.people["admin"], "复核")  # unlocked, not approved again: publishing is refused
    district = _client(empty_app, "district")
    response = district.post(f"/results/rounds/{w.round.id}/publish", follow_redirects=True, data={"confirm_no_subsidy": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "尚未重新审核通过" in page
    assert "/publish?" not in page and f"/results/rounds/{w.round.id}?view=draft" in page


def test_a_sheet_approved_again_can_be_unlocked_once_more_before_republishing(published):
    w = published
    sheet = _corrected_and_approved(w, TOWNSHIP)
    publication.unlock(sheet, w.people["admin"], "再次复核")
    db.session.refresh(sheet)
    assert sheet.unlocked and sheet.status == "returned"


def test_a_reason_given_with_the_mean_is_kept(empty_app):
    from decimal import Decimal

    from evalapp.domain.scoring import ScoreEntry
    from evalapp.models import Score
    from evalapp.services.reconcile import set_final_score
    from evalapp.services.scores import save_score
    from tests.factories import make_round, make_sheet

    w = make_round("inspection")
    member = make_sheet(w, VILLAGE, "inspector", "inspector")
    final = make_sheet(w, VILLAGE, "final")
    code = "A1"
    save_score(member, code, ScoreEntry(direct=Decimal("1.00"), reason="台账不全"), w.people["inspector"], 0)
    move_sheet(member, "submitted", w.people["inspector"])
    set_final_score(final, code, "", "与成员意见一致，已核对台账", w.people["leader"], 0)
    score = db.session.scalar(select(Score).where(Score.sheet_id == final.id))
    assert score.reason == "与成员意见一致，已核对台账" and score.points == Decimal("1.00")
