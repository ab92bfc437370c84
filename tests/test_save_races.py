"""A save racing a move of its sheet (issue 28, point 4): the sheet's status holds under the save's write, on SQLite
and PostgreSQL alike — the save either lands before the move (and is in the sheet as submitted or closed) or is
refused with 409, never written into a sheet already submitted or closed.

Each race runs in two threads forced to overlap with a barrier (no sleeps, no repeated trials): the move starts once
the save has read and checked the sheet and before it writes anything. On SQLite nothing holds the sheet in that
gap (reads take no lock and see every commit), so the move commits there and the save must be refused; on
PostgreSQL the save loaded the sheet with its row lock, so the move waits for the save to commit and finds the save
in the sheet it moves. The last test runs it the other way round: a submit that has made its checks, and a save
that clears a score.
"""
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round, Score, Sheet, User
from evalapp.services import moves, rounds, scores
from evalapp.services.seed import fill_sheet
from tests.factories import PASSWORD, VILLAGE, make_round, make_sheet

WAIT = 60  # seconds: only a broken run waits this long (a deadlock fails instead of hanging the suite)


@pytest.fixture
def inspection(empty_app):
    return make_round("inspection")


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def overlapped(monkeypatch, paused, other, *, pause_at, ready_at=None):
    """Run two calls in two threads, "paused" and "other". `paused` stops at `pause_at` (a module and the name of a
    function it calls there, patched for the test) — when it has read and checked the sheet and written nothing yet —
    until `other` has started. It goes on once `other` has finished: on SQLite nothing holds the sheet in that gap,
    so `other` commits there. On PostgreSQL, where `paused` holds the sheet's row lock, it goes on once `other`
    reaches `ready_at` (the function `other` calls just before its write; None: at once), and `other` then waits for
    `paused` to commit. Returns (what paused returned, what other returned)."""
    sqlite = db.engine.dialect.name == "sqlite"
    started = threading.Barrier(2, timeout=WAIT)
    go = threading.Event()
    results, errors, stopped = {}, [], []

    def patch(module, name, before):
        original = getattr(module, name)

        def patched(*args, **kwargs):
            before()
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, patched)

    def pause():
        if threading.current_thread().name == "paused" and not stopped:
            stopped.append(True)  # once
            started.wait()
            if not sqlite and ready_at is None:
                go.set()
            assert go.wait(WAIT), "the other call neither finished nor reached its write"

    def ready():
        if threading.current_thread().name == "other" and not sqlite:
            go.set()  # its write comes next: it waits for the paused call's row lock

    patch(*pause_at, pause)
    if ready_at is not None and not sqlite:
        patch(*ready_at, ready)

    def run(name, call):
        try:
            if name == "other":
                started.wait()
            results[name] = call()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            errors.append(exc)
            started.abort()
        finally:
            if name == "other":
                go.set()

    threads = [threading.Thread(target=run, args=(name, call), name=name)
               for name, call in (("paused", paused), ("other", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 2)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    db.session.expire_all()
    return results["paused"], results["other"]


SAVE_WRITES = (scores, "write_score")  # a save's first write, after its checks
MOVE_WRITES = (moves, "can_move_sheet")  # called by moves.move_sheet_in just before its UPDATE
SUBMIT_LOCKS = (moves, "lock_sheet")  # a submit's first step: the sheet's row lock (PostgreSQL), before its checks


def _audit_ids(sheet_id: int, action: str) -> list[int]:
    return list(db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == action,
                                                                AuditEvent.object_id == sheet_id)
                                   .order_by(AuditEvent.id)))


def _score(sheet_id: int, code: str = "A1") -> Score | None:
    from evalapp.models import Indicator

    return db.session.scalar(select(Score).join(Indicator, Indicator.id == Score.indicator_id)
                             .where(Score.sheet_id == sheet_id, Indicator.code == code))


def test_a_save_racing_the_members_submit_lands_before_it_or_is_refused(inspection, empty_app, monkeypatch):
    w = inspection
    sheet = make_sheet(w, VILLAGE)
    fill_sheet(sheet, w.people["inspector"], "race/submit")  # complete: the submit is allowed
    before = _score(sheet.id)
    sheet_id, version, old_points = sheet.id, before.version, before.points
    saves_before = _audit_ids(before.id, "score.save")  # the fill's
    saver, submitter = _login(empty_app, "inspector"), _login(empty_app, "inspector")

    def save():
        return saver.put(f"/api/v1/sheets/{sheet_id}/scores/A1",
                         json={"score": "0.50", "reason": "现场未见台账", "version": version})

    def submit():
        return submitter.post(f"/api/v1/sheets/{sheet_id}/submit")

    saved, submitted = overlapped(monkeypatch, save, submit, pause_at=SAVE_WRITES, ready_at=SUBMIT_LOCKS)
    assert submitted.status_code == 200, submitted.get_json()
    sheet = db.session.get(Sheet, sheet_id)
    assert sheet.status == "submitted"
    stored = _score(sheet_id)
    if db.engine.dialect.name == "sqlite":  # the submit committed in the save's gap
        assert saved.status_code == 409, saved.get_json()
    else:  # the submit waited for the save's row lock
        assert saved.status_code == 200, saved.get_json()
    if saved.status_code == 200:  # landed before the submit: in the sheet as submitted
        assert stored.points == Decimal("0.50")
        assert _audit_ids(stored.id, "score.save")[-1] < _audit_ids(sheet_id, "sheet.submitted")[0]
    else:  # refused: nothing of it was written
        assert saved.get_json()["code"] == "sheet.not_open"
        assert (stored.points, stored.version) == (old_points, version)
        assert _audit_ids(stored.id, "score.save") == saves_before


def test_a_save_racing_the_round_closing_member_drafts_lands_before_it_or_is_refused(inspection, empty_app,
                                                                                     monkeypatch):
    """Leaving inspection closes the member drafts (未提交): a save racing the advance is in the closed sheet or
    refused, never written after the close."""
    w = inspection
    sheet_id, round_id, admin_id = make_sheet(w, VILLAGE).id, w.round.id, w.people["admin"].id
    saver = _login(empty_app, "inspector")

    def save():
        return saver.put(f"/api/v1/sheets/{sheet_id}/scores/A1",
                         json={"score": "1.00", "reason": "现场未见台账", "version": 0})

    def advance():
        with empty_app.app_context():
            try:
                return rounds.advance(db.session.get(Round, round_id), db.session.get(User, admin_id), confirm=True)
            finally:
                db.session.remove()

    saved, advanced = overlapped(monkeypatch, save, advance, pause_at=SAVE_WRITES, ready_at=MOVE_WRITES)
    assert advanced == "review"
    assert db.session.get(Sheet, sheet_id).status == "closed"
    stored = _score(sheet_id)
    if db.engine.dialect.name == "sqlite":
        assert saved.status_code == 409, saved.get_json()
        assert saved.get_json()["code"] == "sheet.not_open"
        assert stored is None  # nothing of the refused save was written
    else:
        assert saved.status_code == 200, saved.get_json()
        assert stored.points == Decimal("1.00")
        assert _audit_ids(stored.id, "score.save")[-1] < _audit_ids(sheet_id, "sheet.closed")[0]


def test_a_submit_racing_a_save_that_clears_a_score_never_submits_an_unscored_sheet(inspection, empty_app,
                                                                                    monkeypatch):
    """The other way round: the submit has checked that every indicator is scored when a save clears one. The
    submit's checks hold at its move: the save waits for it and finds the sheet submitted (PostgreSQL: the submit
    holds the sheet's row lock from before its checks), or the submit is refused (SQLite: the save committed in
    the gap, and the submit's move is conditional on the sheet's figures as its checks read them)."""
    w = inspection
    sheet = make_sheet(w, VILLAGE)
    fill_sheet(sheet, w.people["inspector"], "race/clear")
    sheet_id, version = sheet.id, _score(sheet.id).version
    saver, submitter = _login(empty_app, "inspector"), _login(empty_app, "inspector")

    def clear():
        return saver.put(f"/api/v1/sheets/{sheet_id}/scores/A1", json={"clear": True, "version": version})

    def submit():
        return submitter.post(f"/api/v1/sheets/{sheet_id}/submit")

    submitted, cleared = overlapped(monkeypatch, submit, clear, pause_at=MOVE_WRITES)
    sheet = db.session.get(Sheet, sheet_id)
    if db.engine.dialect.name == "sqlite":  # the clearing committed between the submit's checks and its move
        assert (cleared.status_code, submitted.status_code) == (200, 409), (cleared.get_json(), submitted.get_json())
        assert submitted.get_json()["code"] == "sheet.changed_while_moving"
        assert sheet.status == "draft" and _score(sheet_id).points is None
    else:  # the clearing waited for the submit's row lock, then found the sheet submitted (as any save would)
        assert (cleared.status_code, submitted.status_code) == (403, 200), (cleared.get_json(), submitted.get_json())
        assert cleared.get_json()["code"] == "sheet.read_only"
        assert sheet.status == "submitted" and _score(sheet_id).points is not None
