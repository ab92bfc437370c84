"""No lost or forged data: parallel duplicates, half-written saves, cookies, backups."""
import threading

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, ScoreDeduction, SheetTransition
from tests.browser.conftest import live_server  # noqa: F401  (a real threaded server)
from tests.conftest import fill_all
from tests.factories import VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures: a round of its own)


def _session_cookie(app, username):
    from tests.conftest import AuthActions

    client = app.test_client()
    AuthActions(client).login(username)
    return client.get_cookie("session").value


def _parallel(base, cookie, method, path, body=None, n=10):
    """Send n requests at once (one path and body, or `path` as a list of (path, body), one request each)."""
    import http.client
    import json
    from urllib.parse import urlsplit

    requests = list(path) if isinstance(path, list) else [(path, body)] * n
    statuses = []
    barrier = threading.Barrier(len(requests))

    def one(path, body):
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        barrier.wait()
        conn.request(method, path, body=json.dumps(body), headers={
            "Cookie": f"session={cookie}", "Content-Type": "application/json"})
        statuses.append(conn.getresponse().status)
        conn.close()

    threads = [threading.Thread(target=one, args=request) for request in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_ten_parallel_first_saves_create_one_score(app, world, live_server):  # noqa: F811
    sheet = make_sheet(world, VILLAGE)
    cookie = _session_cookie(app, "inspector")
    path = f"/api/v1/sheets/{sheet.id}/scores/A1"
    statuses = _parallel(live_server, cookie, "PUT", [  # ten different entries: one wins, nine are told
        (path, {"deductions": [{"code": "A1-1", "count": 1}], "note": f"第{i}份", "version": 0}) for i in range(10)])
    assert sorted(statuses) == [200] + [409] * 9
    assert db.session.scalar(select(func.count(Score.id)).where(Score.sheet_id == sheet.id)) == 1


def test_ten_parallel_identical_saves_are_all_acknowledged_and_stored_once(app, world, live_server):  # noqa: F811
    """A retry whose first answer was lost (the same change, the old version) is not a conflict with oneself."""
    sheet = make_sheet(world, VILLAGE)
    cookie = _session_cookie(app, "inspector")
    statuses = _parallel(live_server, cookie, "PUT", f"/api/v1/sheets/{sheet.id}/scores/A1",
                         {"deductions": [{"code": "A1-1", "count": 1}], "version": 0})
    assert statuses == [200] * 10
    score = db.session.scalar(select(Score).where(Score.sheet_id == sheet.id))
    assert score.version == 1 and score.points is not None
    assert db.session.scalar(select(func.count(Score.id)).where(Score.sheet_id == sheet.id)) == 1


def test_ten_parallel_updates_with_the_same_version_keep_one(app, world, live_server):  # noqa: F811
    sheet = make_sheet(world, VILLAGE)
    client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(client).login("inspector")
    client.put(f"/api/v1/sheets/{sheet.id}/scores/A3", json={"deductions": [], "version": 0})
    cookie = client.get_cookie("session").value
    path = f"/api/v1/sheets/{sheet.id}/scores/A3"
    statuses = _parallel(live_server, cookie, "PUT", [
        (path, {"deductions": [{"code": "A3-1", "count": 2}], "note": f"第{i}份", "version": 1}) for i in range(10)])
    assert sorted(statuses) == [200] + [409] * 9
    score = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == sheet.id,
                                                                        Score.indicator.has(code="A3")))
    assert score.version == 2
    assert db.session.scalar(select(func.count(ScoreDeduction.id)).where(ScoreDeduction.score_id == score.id)) == 1


def test_ten_parallel_submits_make_one_transition(app, world, live_server, login_as):  # noqa: F811
    sheet = make_sheet(world, VILLAGE)
    client = login_as("inspector")
    fill_all(client, sheet)
    statuses = _parallel(live_server, client.get_cookie("session").value, "POST",
                         f"/api/v1/sheets/{sheet.id}/submit", {})
    assert statuses.count(200) == 1 and all(s in (200, 403, 409) for s in statuses)
    assert db.session.scalar(select(func.count(SheetTransition.id))
                             .where(SheetTransition.sheet_id == sheet.id)) == 1


def test_a_failure_between_score_and_audit_leaves_nothing_half_written(app, world, login_as, monkeypatch):
    from evalapp.services import audit

    sheet = make_sheet(world, VILLAGE)
    client = login_as("inspector")
    assert client.put(f"/api/v1/sheets/{sheet.id}/scores/A1", json={"deductions": [], "version": 0}).status_code == 200
    audits_before = db.session.scalar(select(func.count(AuditEvent.id)))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", boom)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.put(f"/api/v1/sheets/{sheet.id}/scores/A1",
                          json={"deductions": [{"code": "A1-1", "count": 2}], "version": 1})
    assert response.status_code == 500 and response.get_json()["error"]
    first_save = client.put(f"/api/v1/sheets/{sheet.id}/scores/A2",
                            json={"deductions": [{"code": "A2-1", "count": 1}], "version": 0})
    assert first_save.status_code == 500
    db.session.expire_all()
    scores = db.session.scalars(select(Score).where(Score.sheet_id == sheet.id)).all()
    assert [(s.indicator.code, s.points, s.version) for s in scores] == [("A1", 3, 1)]
    assert db.session.scalar(select(func.count(ScoreDeduction.id)).join(Score)
                             .where(Score.sheet_id == sheet.id)) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audits_before


def test_cookies_are_secure_httponly_and_lax_outside_development(databases, tmp_path):
    from tests.conftest import AuthActions, make_app, make_user

    url = databases.clone(databases.template("empty"))
    app = make_app(url, TESTING=False, ENV="production", UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        make_user("finance", "finance")  # a user of no unit: the cookie is what is checked
        db.session.remove()
    client = app.test_client()
    response = AuthActions(client).login("finance")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_session_is_renewed_at_login(app, client, auth):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before log-in"
    auth.login("village")
    data = app.session_interface.get_signing_serializer(app).loads(client.get_cookie("session").value)
    assert "planted" not in data and data["_user_id"]  # a fresh session carrying the new server-side token


@pytest.mark.skipif(__import__("os").environ.get("TEST_DATABASE_URL") is not None,
                    reason="SQLite online backup; PostgreSQL uses pg_dump (docs/deploy.md)")
def test_backup_is_consistent_and_restores_every_sheet(app, world, tmp_path):
    import sqlite3

    from evalapp.models import Sheet

    out = tmp_path / "backup"
    sheet_id = make_sheet(world, VILLAGE).id
    stop = threading.Event()
    errors = []

    def writer():
        from tests.conftest import AuthActions

        client = app.test_client()
        AuthActions(client).login("inspector")
        version = 0
        while not stop.is_set():
            r = client.put(f"/api/v1/sheets/{sheet_id}/scores/A1", json={"deductions": [], "note": str(version),
                                                                          "version": version})
            if r.status_code != 200:
                errors.append(r.status_code)
                return
            version += 1

    with app.app_context():
        t = threading.Thread(target=lambda: app.app_context().push() or writer())
        t.start()
        result = app.test_cli_runner().invoke(args=["backup", str(out)])
        stop.set()
        t.join()
    assert result.exit_code == 0, result.output
    assert errors == []
    conn = sqlite3.connect(out / "database.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    sheets = conn.execute("SELECT count(*) FROM sheets").fetchone()[0]
    assert sheets == db.session.scalar(select(func.count(Sheet.id)))
    conn.close()


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(databases, tmp_path):
    from evalapp.models import AuditEvent as Event
    from tests.conftest import make_app

    from tests.conftest import make_user

    app = make_app(databases.clone(databases.template("empty")), PROXY_FIX=1, UPLOAD_FOLDER=str(tmp_path))
    with app.app_context():
        make_user("finance", "finance")
        app.test_client().post("/login", data={"username": "finance", "password": "x"},
                               headers={"X-Forwarded-For": "203.0.113.7"})
        event = db.session.scalar(select(Event).where(Event.action == "login.failure"))
        assert event.ip == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()
