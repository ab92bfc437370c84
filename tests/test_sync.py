"""The sync call of an offline tablet (issue 31, points 5 and 8): a batch of operations, each applied once in its
own transaction through the single save, answered per operation; replays answered as the first time."""
import uuid

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, SyncOperation
from tests.factories import INSPECTOR_NAME, VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401

pytestmark = pytest.mark.pgbouncer  # run again through PgBouncer by .ci/run


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def inspector(login_as):
    return login_as("inspector")


def op(sheet, code, body, *, op_id=None, device_time="2026-12-07T10:00:00+08:00"):
    return {"op_id": op_id or str(uuid.uuid4()), "type": "score", "sheet_id": sheet.id, "indicator": code,
            "device_time": device_time, "body": body}


def sync(client, *ops, device="tablet-1", **extra):
    return client.post("/api/v1/sync", json={"device_id": device, "operations": list(ops), **extra})


def saves(sheet) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "score.save",
                                                                      AuditEvent.detail.like(f"sheet={sheet.id} %")))


def test_one_operation_replayed_three_times_is_one_change_and_one_audit_row(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    one = op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 1}], "version": 0})
    first = sync(inspector, one)
    assert first.status_code == 200
    [result] = first.get_json()["results"]
    assert result["status"] == "applied" and result["http"] == 200 and result["op_id"] == one["op_id"]
    assert result["data"]["score"] == "7.00" and result["data"]["version"] == 1
    for _ in range(2):
        [again] = sync(inspector, one).get_json()["results"]
        assert again == {**result, "status": "duplicate"}
    score = db.session.scalar(select(Score).where(Score.sheet_id == sheet.id))
    assert (score.points, score.version) == (7, 1)
    assert saves(sheet) == 1
    assert db.session.scalar(select(func.count(SyncOperation.id))) == 1


def test_the_audit_row_carries_the_device_time_the_server_time_and_the_op_id(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    one = op(sheet, "A1", {"deductions": [], "version": 0}, device_time="2026-12-07T09:15:00+08:00")
    sync(inspector, one)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "score.save"))
    assert event.new["sync"]["op_id"] == one["op_id"] and event.new["sync"]["device_id"] == "tablet-1"
    assert event.new["sync"]["device_time"] == "2026-12-07T09:15:00+08:00"
    assert event.new["sync"]["server_time"].startswith(event.at.date().isoformat())
    assert one["op_id"] in event.detail


def test_a_batch_with_one_bad_operation_applies_the_others_and_reports_that_one(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    ops = [op(sheet, "A1", {"deductions": [], "version": 0}),
           op(sheet, "A2", {"score": "99", "version": 0}),  # above the indicator's maximum
           op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 2}], "version": 0}),
           {**op(sheet, "A4", {"deductions": [], "version": 0}), "sheet_id": "x"}]  # malformed operation
    results = sync(inspector, *ops).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "rejected"]
    assert [r["op_id"] for r in results] == [o["op_id"] for o in ops]
    assert results[1]["http"] == 422 and results[1]["data"]["code"] == "score.invalid"
    assert "score" in results[1]["data"]["fields"]
    assert results[3]["http"] == 422 and "sheet_id" in results[3]["data"]["fields"]
    scored = dict(db.session.execute(select(Score.indicator_id, Score.points).where(Score.sheet_id == sheet.id)).all())
    assert sorted(scored.values()) == [3, 6]  # A1 full (3), A3 with two deductions (6); A2 untouched


def test_control_characters_in_an_operations_code_or_type_are_rejected_not_a_server_error(inspector, world):
    """What PostgreSQL refuses in a row (a NUL) never reaches the operation's row: the operation is rejected with the
    field named, the others applied (the fuzz found a 500 on PostgreSQL)."""
    sheet = make_sheet(world, VILLAGE)
    ops = [op(sheet, "A1\x00", {"deductions": [], "version": 0}),
           {**op(sheet, "A2", {"deductions": [], "version": 0}), "type": "sc\x00ore"},
           op(sheet, "A3", {"deductions": [], "version": 0, "note": "x"})]
    answer = sync(inspector, *ops)
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "indicator" in results[0]["data"]["fields"] and "type" in results[1]["data"]["fields"]
    kept = db.session.execute(select(SyncOperation.indicator, SyncOperation.kind).order_by(SyncOperation.id)).all()
    assert kept[:2] == [("", "score"), ("A2", "?")]


def test_a_submitted_sheet_rejects_the_operation_with_the_reason(inspector, world):
    from evalapp.models import Sheet

    sheet = make_sheet(world, VILLAGE)
    db.session.get(Sheet, sheet.id).status = "submitted"
    db.session.commit()
    [result] = sync(inspector, op(sheet, "A1", {"deductions": [], "version": 0})).get_json()["results"]
    assert result["status"] == "rejected" and result["http"] == 403
    assert result["data"]["code"] == "sheet.read_only" and result["data"]["error"]


def test_batches_from_two_devices_interleaved_keep_every_change(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    a = [op(sheet, "A1", {"deductions": [], "version": 0}), op(sheet, "A2", {"deductions": [], "version": 0})]
    b = [op(sheet, "B1", {"deductions": [], "version": 0}), op(sheet, "B2", {"deductions": [], "version": 0})]
    out = [sync(inspector, a[0], device="tablet-a"), sync(inspector, b[0], device="tablet-b"),
           sync(inspector, a[1], device="tablet-a"), sync(inspector, b[1], device="tablet-b"),
           sync(inspector, *a, device="tablet-a")]  # the first device resends both: duplicates
    assert [r.get_json()["results"][0]["status"] for r in out[:4]] == ["applied"] * 4
    assert [r["status"] for r in out[4].get_json()["results"]] == ["duplicate", "duplicate"]
    assert db.session.scalar(select(func.count(Score.id)).where(Score.sheet_id == sheet.id)) == 4
    assert saves(sheet) == 4


def test_a_stale_base_version_is_a_conflict_with_both_values_and_who_made_the_other(inspector, world, login_as):
    sheet = make_sheet(world, VILLAGE)
    assert sync(inspector, op(sheet, "A3", {"deductions": [], "version": 0}),
                device="tablet-a").get_json()["results"][0]["status"] == "applied"
    # the second tablet was prepared before that change: its change is based on version 0
    mine = {"deductions": [{"code": "A3-1", "count": 3}], "version": 0}
    [result] = sync(inspector, op(sheet, "A3", mine), device="tablet-b").get_json()["results"]
    assert result["status"] == "conflict" and result["http"] == 409
    assert result["data"]["code"] == "score.conflict"
    current = result["data"]["current"]
    assert current["score"] == "8.00" and current["version"] == 1 and current["updated_by"] == INSPECTOR_NAME
    score = db.session.scalar(select(Score).where(Score.sheet_id == sheet.id))
    assert (score.points, score.version) == (8, 1)  # nothing overwritten


def test_a_change_equal_to_the_current_value_is_equal_not_a_conflict(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    sync(inspector, op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 1}], "version": 0}), device="tablet-a")
    [result] = sync(inspector, op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 1}], "version": 0}),
                    device="tablet-b").get_json()["results"]
    assert result["status"] == "equal" and result["http"] == 200 and result["data"]["version"] == 1
    assert saves(sheet) == 1


@pytest.mark.parametrize("body, field", [
    ({"device_id": "t", "operations": "x"}, "operations"),
    ({"device_id": "t", "operations": [{"op_id": "x"}]}, "operations[1].op_id"),
    ({"device_id": "t", "operations": [7]}, "operations[1]"),
    ({"operations": []}, "device_id"),
    ({"device_id": "t", "operations": [], "pending": -1}, "pending"),
])
def test_a_malformed_batch_is_422_by_field_and_applies_nothing(inspector, world, body, field):
    sheet = make_sheet(world, VILLAGE)
    good = op(sheet, "A1", {"deductions": [], "version": 0})
    if isinstance(body["operations"], list):
        body = {**body, "operations": [good, *body["operations"]]}
    response = inspector.post("/api/v1/sync", json=body)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert db.session.scalar(select(func.count(Score.id))) == 0
    assert db.session.scalar(select(func.count(SyncOperation.id))) == 0


def test_too_many_operations_are_refused_whole(inspector, world):
    sheet = make_sheet(world, VILLAGE)
    ops = [op(sheet, "A1", {"deductions": [], "version": 0}) for _ in range(201)]
    response = sync(inspector, *ops)
    assert response.status_code == 422 and "operations" in response.get_json()["fields"]
    assert db.session.scalar(select(func.count(Score.id))) == 0


def test_not_json_is_422(inspector, world):
    response = inspector.post("/api/v1/sync", data=b"not json", content_type="application/json")
    assert response.status_code == 422 and response.get_json()["code"] == "request.not_json"


def test_op_ids_are_per_user(login_as, world):
    """Another user's replay of an id is that user's own operation: answered by the rules, never with the first
    user's answer."""
    sheet = make_sheet(world, VILLAGE)
    one = op(sheet, "A1", {"deductions": [], "version": 0})
    assert sync(login_as("inspector"), one).get_json()["results"][0]["status"] == "applied"
    [other] = sync(login_as("inspector2"), one).get_json()["results"]
    assert other["status"] == "rejected" and other["http"] == 404  # not their sheet: it says nothing of it


def test_a_replay_that_got_past_the_lookup_is_stopped_by_the_unique_key(inspector, world, monkeypatch):
    """Two requests carrying one operation at once: both find it unsent, both apply it; the id's unique key refuses
    the second's record, its transaction is rolled back and it answers `duplicate` with the first answer. (The
    interleaving forced: the second request's lookup is made to find nothing.)"""
    from evalapp.services import sync as sync_service

    sheet = make_sheet(world, VILLAGE)
    one = op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 1}], "version": 0})
    [first] = sync(inspector, one).get_json()["results"]
    real = sync_service.answered
    calls = []

    def blind_first(user, op_ids):
        calls.append(op_ids)
        return {} if len(calls) == 1 else real(user, op_ids)

    monkeypatch.setattr(sync_service, "answered", blind_first)
    [second] = sync(inspector, one).get_json()["results"]
    assert second == {**first, "status": "duplicate"} and len(calls) == 2
    assert saves(sheet) == 1 and db.session.scalar(select(func.count(SyncOperation.id))) == 1


def test_a_replay_of_a_change_that_moved_on_is_still_answered_as_the_first_time(inspector, world):
    """The queue sent an operation, lost the answer, and the indicator was changed again since: the replay is not
    a conflict, it is the first answer."""
    sheet = make_sheet(world, VILLAGE)
    one = op(sheet, "A3", {"deductions": [], "version": 0})
    [first] = sync(inspector, one).get_json()["results"]
    sync(inspector, op(sheet, "A3", {"deductions": [{"code": "A3-1", "count": 2}], "version": 1}))
    [again] = sync(inspector, one).get_json()["results"]
    assert again == {**first, "status": "duplicate"}
    score = db.session.scalar(select(Score).where(Score.sheet_id == sheet.id))
    assert (score.points, score.version) == (6, 2)


def test_on_postgresql_the_operations_commit_without_waiting_and_the_batch_ends_with_one_commit_that_waits(
        inspector, world):
    """bench/sync_batch.py: each operation's own transaction commits with synchronous_commit off, and one commit
    that waits for the disk (a transaction id taken, so it writes a record) ends the batch before the answer."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit")
    from sqlalchemy import event

    sheet = make_sheet(world, VILLAGE)
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    def waits_for_disk(conn):
        seen.append("COMMIT " + conn.exec_driver_sql("SHOW synchronous_commit").scalar())

    event.listen(db.engine, "before_cursor_execute", note)
    event.listen(db.engine, "commit", waits_for_disk)
    try:
        answer = sync(inspector, *(op(sheet, code, {"deductions": [], "version": 0}) for code in ("A1", "A2", "A3")))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        event.remove(db.engine, "commit", waits_for_disk)
    assert [r["status"] for r in answer.get_json()["results"]] == ["applied"] * 3
    commits = [s for s in seen if s.startswith("COMMIT")]
    writes = [n for n, s in enumerate(seen) if s.startswith("INSERT INTO sync_operations")]
    assert len(writes) == 3
    # each operation: its statements and a commit without waiting; then the commit that waits, last
    assert commits[:3] == ["COMMIT off"] * 3
    last = max(n for n, s in enumerate(seen) if s == "COMMIT on")
    assert last > writes[-1] and "SELECT txid_current()" in seen[writes[-1]:last]
    assert scores_of(sheet) == {"A1", "A2", "A3"}


def scores_of(sheet) -> set[str]:
    from evalapp.models import Indicator

    db.session.expire_all()
    return set(db.session.scalars(select(Indicator.code).join(Score.indicator).where(Score.sheet_id == sheet.id)))
