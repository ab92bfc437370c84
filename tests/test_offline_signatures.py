"""Signatures drawn offline (issue 31, point 4, the server's side): the signature operation takes the operation's
id, the device's time and the versions of the content the signer saw; bound when nothing changed since, recorded
marked 签名后有改动 otherwise (on the signing panel and the printed 评分表), answered once per id, refused once
published."""
import uuid

from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Indicator, Score, Signature, SyncOperation
from tests.factories import VILLAGE, app_of_world  # noqa: F401  (the `app` of the world)
from tests.test_frozen_round import _publish
from tests.test_signatures import team, world, zigzag  # noqa: F401  (fixtures)


def _seen(final) -> dict:
    """What the tablet holds: each scored indicator's version (GET /sheets/<id>)."""
    return dict(db.session.execute(select(Indicator.code, Score.version).join(
        Indicator, Indicator.id == Score.indicator_id).where(Score.sheet_id == final.id)).all())


def _sign(client, final, slot="leader", **extra):
    return client.post(f"/api/v1/sheets/{final.id}/signatures", json={
        "slot": slot, "name": "王丽" if slot == "representative" else "", "strokes": zigzag(), "width": 600,
        "height": 240, **extra})


def _slot(data, key):
    return next(s for s in data["slots"] if s["slot"] == key)


def test_a_signature_over_the_content_as_it_stands_is_bound(team):
    final = team["final"]
    response = _sign(team["leader"], final, op_id=str(uuid.uuid4()), device_time="2026-12-07T10:00:00+08:00",
                     seen_versions=_seen(final))
    assert response.status_code == 201
    assert _slot(response.get_json(), "leader")["state"] == "signed"
    sig = db.session.scalar(select(Signature))
    assert sig.changed_after is False and sig.device_time.isoformat() == "2026-12-07T02:00:00+00:00"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.sign"))
    assert event.new["offline"]["device_time"] == "2026-12-07T10:00:00+08:00"
    assert event.new["offline"]["changed_after"] is False and event.new["offline"]["server_time"]


def test_a_signature_over_content_changed_since_is_recorded_marked_on_the_panel_and_the_paper(team, login_as):
    final = team["final"]
    seen = _seen(final)
    # after the representative saw the sheet offline, the leader changed A1 online
    a1 = team["leader"].get(f"/api/v1/sheets/{final.id}").get_json()["indicators"][0]
    changed = team["leader"].put(f"/api/v1/sheets/{final.id}/scores/{a1['code']}",
                                 json={"score": "2.5", "reason": "复核后调整", "version": a1["version"]})
    assert changed.status_code == 200, changed.get_json()
    response = _sign(team["leader"], final, "representative", op_id=str(uuid.uuid4()), seen_versions=seen,
                     device_time="2026-12-07T10:05:00+08:00")
    assert response.status_code == 201
    assert _slot(response.get_json(), "representative")["state"] == "stale"
    sig = db.session.scalar(select(Signature))
    assert sig.changed_after is True and sig.seen_versions == seen
    panel = team["leader"].get(f"/inspection/sheets/{final.id}/reconcile").get_data(as_text=True)
    assert 'data-slot="representative" data-state="stale"' in panel and "签名后有改动" in panel
    paper = login_as("district").get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert 'data-slot="representative" data-state="stale"' in paper and "电子签名后评分表有改动" in paper
    # signed again over what is there now: bound
    again = _sign(team["leader"], final, "representative", seen_versions=_seen(final))
    assert _slot(again.get_json(), "representative")["state"] == "signed"


def test_a_signature_operation_sent_again_is_answered_as_the_first_time_and_recorded_once(team):
    final, op_id = team["final"], str(uuid.uuid4())
    first = _sign(team["leader"], final, op_id=op_id, seen_versions=_seen(final))
    assert first.status_code == 201
    for _ in range(2):
        again = _sign(team["leader"], final, op_id=op_id, seen_versions=_seen(final))
        assert again.status_code == 201 and again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count(Signature.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "signature.sign")) == 1
    assert db.session.scalar(select(SyncOperation.kind)) == "signature"


def test_bad_offline_fields_are_refused_by_field(team):
    final = team["final"]
    for extra, field in (({"op_id": "nope"}, "op_id"), ({"device_time": "yesterday"}, "device_time"),
                         ({"device_time": "2026-12-07T10:00:00"}, "device_time"),
                         ({"seen_versions": {"A1": -1}}, "seen_versions"), ({"seen_versions": [1]}, "seen_versions")):
        response = _sign(team["leader"], final, **extra)
        assert response.status_code == 422 and field in response.get_json()["fields"], extra
    assert db.session.scalar(select(func.count(Signature.id))) == 0


def test_an_offline_signature_arriving_after_publication_is_refused(team):
    from evalapp.services.moves import move_sheet

    final, w = team["final"], team["world"]
    seen = _seen(final)
    move_sheet(final, "submitted", w.people["admin"])
    move_sheet(final, "approved", w.people["admin"])
    _publish(w)
    response = _sign(team["leader"], final, "representative", op_id=str(uuid.uuid4()), seen_versions=seen)
    assert response.status_code == 409 and response.get_json()["code"] == "signature.published"
    assert db.session.scalar(select(func.count(Signature.id))) == 0
