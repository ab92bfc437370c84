"""The tamper-evident audit trail (issue 34, point 6): rows changed or removed behind the app's back (raw SQL) are
named by `flask verify-audit`; ids skipped by rolled-back transactions are not; concurrent writers leave a valid
trail; the demo database verifies clean. On SQLite and PostgreSQL alike."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from evalapp.domain import audit_trail as trail
from evalapp.extensions import db
from evalapp.models import AuditCheckpoint, AuditEvent, OrgUnit, User
from evalapp.models.base import utcnow
from evalapp.services import audit, audit_trail
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

WAIT = 60  # seconds: only a broken run waits this long


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    db.session.rollback()
    return result


def seal(app):
    """seal-audit with no grace period (the rows a test has just written are sealed at once)."""
    app.config["AUDIT_SEAL_GRACE_SECONDS"] = 0
    result = app.test_cli_runner().invoke(args=["seal-audit"])
    db.session.rollback()
    assert result.exit_code == 0, result.output
    return result


def write(n: int, *, obj=None, user=None) -> list[int]:
    """n audit rows by the app's own path, committed one by one; their ids."""
    ids = []
    for k in range(n):
        audit.record("test.write", user=user, address="10.0.0.8", obj=obj, new={"k": k, "正文": "原文"},
                     detail=f"第{k}条")
        db.session.commit()
        ids.append(db.session.scalar(select(func.max(AuditEvent.id))))
    return ids


def raw(sql: str, **params) -> None:
    """Behind the app's back: plain SQL, committed."""
    with db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_the_demo_database_verifies_clean_before_and_after_sealing(app):
    first = verify(app)
    assert first.exit_code == 0, first.output
    assert "校验通过" in first.output
    assert db.session.scalar(select(func.count()).where(AuditEvent.mac.is_(None))) == 0
    sealed = seal(app)
    assert "检查点 1" in sealed.output
    again = verify(app)
    assert again.exit_code == 0, again.output
    rows = db.session.scalar(select(func.count(AuditEvent.id)))
    assert f"已封存 {rows} 条，未封存 0 条" in again.output


def test_a_row_changed_in_the_database_is_named(app):
    user = db.session.scalar(select(User).where(User.username == "district"))
    ids = write(5, obj=user, user=user)
    seal(app)
    raw("UPDATE audit_events SET detail = '改过的说明' WHERE id = :id", id=ids[2])
    result = verify(app)
    assert result.exit_code == 1
    assert f"第一处：记录 #{ids[2]} 的内容与校验码不符" in result.output
    # a JSON value changed (unsealed, by the same path) is named as well
    raw("UPDATE audit_events SET detail = :d WHERE id = :id", d="第2条", id=ids[2])
    assert verify(app).exit_code == 0
    newer = write(1, obj=user, user=user)[0]
    as_json = "CAST(:v AS json)" if db.engine.dialect.name == "postgresql" else ":v"
    raw(f"UPDATE audit_events SET new = {as_json} WHERE id = :id", v='{"k": 0, "正文": "改文"}', id=newer)
    result = verify(app)
    assert result.exit_code == 1 and f"第一处：记录 #{newer}" in result.output


def test_a_row_deleted_inside_a_sealed_range_is_named_even_if_nothing_links_to_it(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    ids = write(3, obj=unit)
    seal(app)
    raw("DELETE FROM audit_events WHERE id = :id", id=ids[-1])  # the newest row: no later row links to it
    result = verify(app)
    assert result.exit_code == 1
    assert f"第一处：记录 #{ids[-1]} 已被删除（检查点" in result.output


def test_a_row_deleted_from_the_middle_of_a_sealed_range_is_named(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    ids = write(4, obj=unit)
    seal(app)
    raw("DELETE FROM audit_events WHERE id = :id", id=ids[1])
    result = verify(app)
    assert result.exit_code == 1 and f"第一处：记录 #{ids[1]} 已被删除" in result.output


def test_the_newest_unsealed_row_of_a_chain_deleted_is_seen_through_the_next_row_written(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    user = db.session.scalar(select(User).where(User.username == "district"))
    # The known limit first: the newest row of the whole log, unsealed, that no later row links to — until the
    # next seal-audit seals it or any later row links to it, its deletion leaves no trace.
    (newest,) = write(1, obj=unit)
    raw("DELETE FROM audit_events WHERE id = :id", id=newest)
    assert verify(app).exit_code == 0
    # Once anything else is written, the newest row of a chain is linked to by the next row's writer.
    (mine,) = write(1, obj=unit)
    (later,) = write(1, obj=user)  # another object's row: its writer saw `mine` as the newest row
    raw("DELETE FROM audit_events WHERE id = :id", id=mine)
    result = verify(app)
    assert result.exit_code == 1
    assert f"第一处：记录 #{mine} 已被删除（随后写入的记录 #{later} 链接到它）" in result.output


def test_the_rows_of_one_transaction_read_their_links_once_and_link_to_each_other(app):
    from tests.statements import counting

    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.id).limit(5)).all()
    with counting() as statements:
        for unit in units:  # a bulk change: one row per object, in one transaction
            audit.record("test.bulk", user=None, address=None, obj=unit)
        db.session.commit()
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "audit_events" in s]
    assert len(reads) == 1, reads
    ids = db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.bulk")
                             .order_by(AuditEvent.id)).all()
    assert verify(app).exit_code == 0
    raw("DELETE FROM audit_events WHERE id = :id", id=ids[2])
    result = verify(app)
    assert f"第一处：记录 #{ids[2]} 已被删除（随后写入的记录 #{ids[3]} 链接到它）" in result.output


def test_a_savepoint_rolled_back_leaves_no_link_to_its_rows(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    audit.record("test.before", user=None, address=None, obj=unit)
    savepoint = db.session.begin_nested()
    audit.record("test.undone", user=None, address=None, obj=unit)
    savepoint.rollback()
    audit.record("test.after", user=None, address=None, obj=unit)
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "test.undone")) == 0
    result = verify(app)
    assert result.exit_code == 0, result.output


def test_an_id_a_rolled_back_transaction_skipped_is_a_gap_not_a_deletion(app):
    user = db.session.scalar(select(User).where(User.username == "district"))
    (before,) = write(1, obj=user, user=user)
    audit.record("test.rolled_back", user=user, address=None, obj=user)
    db.session.flush()
    db.session.rollback()
    (after,) = write(1, obj=user, user=user)
    seal(app)
    if db.engine.dialect.name == "postgresql":
        assert after > before + 1  # the sequence skipped the rolled-back row's id
        last = db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))
        assert f"{before},{after}" in last.ids or f"-{before},{after}" in last.ids
    result = verify(app)
    assert result.exit_code == 0, result.output


@pytest.mark.skipif("not __import__('os').environ.get('TEST_DATABASE_URL')",
                    reason="SQLite has one writer at a time: no row commits below one already committed")
def test_a_row_committed_after_its_range_was_sealed_is_late_not_forged(app):
    """Two transactions write rows about the same object at once, the first still open when the second commits:
    nothing of the trail's makes the second wait (it would hang here), and the first's row, committed after the
    second's was sealed, is a late row with a valid MAC, sealed by the next run."""
    user = db.session.scalar(select(User).where(User.username == "district"))
    write(1, obj=user, user=user)
    slow_id = []
    with app.app_context():  # a second session: a transaction that stays open across the seal
        audit.record("test.slow", user=None, address=None, obj=user)
        db.session.flush()
        slow_id.append(db.session.scalar(select(func.max(AuditEvent.id))))
        slow = db.session
        with app.app_context():
            (fast,) = write(1, obj=user, user=user)
            seal(app)
        slow.commit()
    assert fast > slow_id[0]
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "1 条记录在其编号范围封存后才提交" in result.output
    seal(app)
    assert db.session.scalar(select(AuditEvent.sealed_in).where(AuditEvent.id == slow_id[0])) is not None
    assert "封存后才提交" not in verify(app).output


def test_a_row_copied_whole_is_named(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    ids = write(2, obj=unit)
    columns = ", ".join(["at", "user_id", "action", "object_type", "object_id", "unit_id", "round_id", "old", "new",
                         "detail", "ip", "chain", "prev_id", "seen_id", "mac_key", "mac"])
    raw(f"INSERT INTO audit_events ({columns}) SELECT {columns} FROM audit_events WHERE id = :id", id=ids[0])
    copy = db.session.scalar(select(func.max(AuditEvent.id)))
    result = verify(app)
    assert result.exit_code == 1
    assert f"第一处：记录 #{copy} 是记录 #{ids[0]} 的复制" in result.output


def test_a_checkpoint_deleted_or_a_row_remacced_is_named(app):
    unit = db.session.scalar(select(OrgUnit).limit(1))
    first = write(2, obj=unit)
    seal(app)
    write(2, obj=unit)
    seal(app)
    write(1, obj=unit)
    seal(app)
    raw("DELETE FROM audit_checkpoints WHERE id = (SELECT max(id) - 1 FROM audit_checkpoints)")
    result = verify(app)
    assert result.exit_code == 1 and "已被删除（下一个为检查点" in result.output
    # a row re-MACed with a made-up value: its own check and its checkpoint's fail
    raw("UPDATE audit_events SET mac = :m WHERE id = :id", m="0" * 64, id=first[0])
    result = verify(app)
    assert f"第一处：记录 #{first[0]}" in result.output


def test_rows_from_before_the_trail_are_backfilled_once_and_never_blessed_after(app):
    fourth = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id).offset(3).limit(1))
    raw("UPDATE audit_events SET chain = NULL, prev_id = NULL, seen_id = NULL, mac_key = NULL, mac = NULL")
    # as after migration 0032: no row has a MAC
    assert verify(app).exit_code == 1
    result = app.test_cli_runner().invoke(args=["backfill-audit"])
    assert result.exit_code == 0 and "条旧记录加上校验码" in result.output
    assert verify(app).exit_code == 0
    raw("UPDATE audit_events SET mac = NULL, detail = '改' WHERE id = :id", id=fourth)
    app.test_cli_runner().invoke(args=["backfill-audit"])
    result = verify(app)
    assert result.exit_code == 1 and f"记录 #{fourth} 没有校验码" in result.output
    app.config["AUDIT_SEAL_GRACE_SECONDS"] = 0
    sealing = app.test_cli_runner().invoke(args=["seal-audit"])
    assert sealing.exit_code == 1 and f"记录 #{fourth} 没有校验码" in sealing.output


def test_concurrent_writers_leave_a_valid_trail(app):
    """Four writers, released together by a barrier before each row, on one shared object and their own: none
    waits for a lock of the trail's (SQLite's own single writer aside), and the trail verifies, forks and all."""
    users = db.session.scalars(select(User).order_by(User.id).limit(4)).all()
    shared = db.session.scalar(select(OrgUnit).limit(1))
    user_ids, shared_id = [u.id for u in users], shared.id
    rounds, barrier, errors = 8, threading.Barrier(len(users), timeout=WAIT), []

    def writer(user_id):
        try:
            with app.app_context():
                me = db.session.get(User, user_id)
                unit = db.session.get(OrgUnit, shared_id)
                for k in range(rounds):
                    barrier.wait()
                    audit.record("test.race", user=me, address=None, obj=unit if k % 2 else me, new={"k": k})
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 — reported by the test
            errors.append(error)
            barrier.abort()

    before = db.session.scalar(select(func.count(AuditEvent.id)))
    threads = [threading.Thread(target=writer, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not errors, errors
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before + len(users) * rounds
    result = verify(app)
    assert result.exit_code == 0, result.output
    seal(app)
    assert verify(app).exit_code == 0


def test_id_runs_round_trip():
    assert trail.runs([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert trail.parse_runs("1-3,5,7-8") == [(1, 3), (5, 5), (7, 8)]
    assert trail.runs([]) == "" and trail.parse_runs("") == []
    with pytest.raises(ValueError):
        trail.parse_runs("5-3")


def test_the_grace_period_keeps_the_newest_rows_unsealed(app):
    write(1)
    app.config["AUDIT_SEAL_GRACE_SECONDS"] = 3600
    assert audit_trail.seal(now=utcnow()).checkpoints == []
    assert audit_trail.seal(now=utcnow() + timedelta(hours=2)).checkpoints


def test_a_seal_committed_while_verify_runs_is_no_alarm(app, monkeypatch):
    """verify-audit reads the checkpoints, then streams the rows: rows a seal-audit marked in between (their
    checkpoint not in the list read) are not reported."""
    write(2)
    app.config["AUDIT_SEAL_GRACE_SECONDS"] = 0
    stream = audit_trail._stream

    def sealed_meanwhile(*args, **kwargs):
        with app.app_context():
            assert audit_trail.seal().checkpoints
        return stream(*args, **kwargs)

    monkeypatch.setattr(audit_trail, "_stream", sealed_meanwhile)
    check = audit_trail.verify()
    assert check.problem_count == 0, check.problems
    assert check.checkpoints == 0
