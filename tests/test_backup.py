"""Backup and restore of the database and the evidence storage together (issue 34, point 7): a round published
with photos and a sealed audit log, backed up, restored on "a fresh machine" (a new empty database, a new empty
folder or bucket) where verify-publication, verify-audit and verify-evidence pass; a byte changed in the backup
stops the restore naming the file; a restore into a database or storage that holds anything is refused. The main
test runs with the instance folder and again with the local S3 server (both_storages), the others with the
instance folder only."""
import json
import uuid

import pytest
from sqlalchemy import func, inspect, select

from evalapp.extensions import db
from evalapp.models import AuditCheckpoint
from evalapp.services import audit
from evalapp.services.storage import LocalStorage, read_all, storage
from tests.conftest import make_app
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, make_round, make_sheet
from tests.test_evidence import image_bytes
from tests.test_publication_snapshot import _score_final

JOB_FILE = "job-1-1-0123456789abcdef.xlsx"


@pytest.fixture
def fresh(databases, tmp_path, storage_backend, request):
    """The app of another machine: a new database with no tables, and an empty storage (a new folder, or a new
    bucket on the S3 server)."""
    settings = {}
    if storage_backend == "s3":
        import boto3

        settings = {**request.getfixturevalue("s3_settings"), "S3_BUCKET": f"restored-{uuid.uuid4().hex[:12]}"}
        client = boto3.session.Session().client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                                                aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=settings["S3_BUCKET"])
        client.close()
    url = databases.new_url()
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path / "restored-uploads"), **settings)
    yield app
    with app.app_context():
        db.engine.dispose()
    databases.release(url)


def run(app, *args):
    """A flask command on this app (in a context of its own, so that it is the current app)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def published(empty_app):
    """A round of four units published, with a photo on each of two inspectors' sheets (the photos stored through
    the service, the finals written directly: test_publication_snapshot's quick round)."""
    from evalapp.services import evidence, publication, rounds as rounds_service
    from evalapp.services.sheet_views import find_indicator

    w = make_round("inspection")
    for name, color in ((TOWNSHIP, (200, 30, 30)), (VILLAGE, (30, 200, 30))):
        sheet = make_sheet(w, name)
        evidence.add_photo(sheet, find_indicator(sheet, "A1"), image_bytes(color=color), "台账.jpg",
                           w.people["inspector"])
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "94.5"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    return w


@pytest.fixture
def backed_up(published, empty_app, tmp_path):
    """The published round's world with its audit log sealed and a job's result file, backed up: (world, dir)."""
    empty_app.config["AUDIT_SEAL_GRACE_SECONDS"] = 0
    sealed = empty_app.test_cli_runner().invoke(args=["seal-audit"])
    assert sealed.exit_code == 0 and "检查点" in sealed.output, sealed.output
    storage().save(JOB_FILE, b"made again on request")
    out = tmp_path / "backup"
    result = empty_app.test_cli_runner().invoke(args=["backup", str(out)])
    db.session.rollback()
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output
    return published, out


@pytest.mark.both_storages
def test_a_backup_restored_on_a_fresh_machine_passes_every_verify(backed_up, fresh):
    world, out = backed_up
    described = json.loads((out / "backup.json").read_text(encoding="utf-8"))
    assert described["database"]["kind"] == db.engine.dialect.name and described["database"]["alembic_revision"]
    assert described["counts"]["evidence_files"] == 2 and described["counts"]["publications"] == 1
    # two photos, each kept as received, re-encoded and as a thumbnail; the job's result left out
    assert described["objects"]["count"] == described["objects"]["checked_against_database"] == 6
    assert described["objects"]["job_results_left_out"] == 1 and described["problems"] == []
    newest = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    assert described["audit_checkpoint"] == {"id": newest.id, "last_id": newest.last_id, "mac": newest.mac}
    originals = {key: read_all(storage(), key) for key in storage().keys() if key != JOB_FILE}

    restored = run(fresh, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    assert "文件：已恢复 6 个，其中 6 个与数据库记录的SHA-256核对一致" in restored.output
    assert f"校验码 {newest.mac}" in restored.output  # the sealed log it restored, to compare with seal-audit's
    publication = run(fresh, "verify-publication", "--round", str(world.round.id))
    assert publication.exit_code == 0 and "校验通过" in publication.output, publication.output
    trail = run(fresh, "verify-audit")
    assert trail.exit_code == 0 and "校验通过" in trail.output and "0 条记录" not in trail.output, trail.output
    files = run(fresh, "verify-evidence")
    assert files.exit_code == 0 and "已核对 6 个文件" in files.output and "校验通过" in files.output, files.output
    with fresh.app_context():
        assert {key: read_all(storage(), key) for key in storage().keys()} == originals  # no job file
        audit.record("test.after_restore", new={"k": 1})  # the restored sequences go on from the backup's ids
        db.session.commit()
    assert run(fresh, "verify-audit").exit_code == 0


def test_a_byte_changed_in_the_backup_stops_the_restore_naming_the_file(backed_up, fresh):
    _, out = backed_up
    objects = LocalStorage(str(out / "objects"))
    key = sorted(objects.keys())[2]
    path = out / "objects" / key[:2] / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))

    checked = run(fresh, "verify-backup", str(out))
    assert checked.exit_code == 1 and f"{key}：备份中的文件与清单不符" in checked.output, checked.output
    restored = run(fresh, "restore", str(out))
    assert restored.exit_code == 1, restored.output
    assert f"未恢复：{key}：备份中的文件与清单不符" in restored.output
    with fresh.app_context():  # checked before anything was written
        assert inspect(db.engine).get_table_names() == [] and list(storage().keys()) == []


def test_a_restore_into_a_database_or_storage_holding_anything_is_refused_and_a_backup_into_a_used_directory(
        backed_up, empty_app, fresh):
    _, out = backed_up
    into_live = empty_app.test_cli_runner().invoke(args=["restore", str(out)])
    assert into_live.exit_code == 1 and "未恢复：数据库不是空的" in into_live.output, into_live.output
    with fresh.app_context():
        storage().save("ab" + "0" * 30 + ".jpg", b"something")
    into_used_storage = run(fresh, "restore", str(out))
    assert into_used_storage.exit_code == 1 and "不是空的：只能恢复到空的存储" in into_used_storage.output
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []
    again = empty_app.test_cli_runner().invoke(args=["backup", str(out)])
    assert again.exit_code == 1 and "不是空目录" in again.output, again.output
    empty_app.config["DATABASE_PGBOUNCER"] = True  # pg_dump's snapshot and pg_restore need sessions of their own
    through_pgbouncer = empty_app.test_cli_runner().invoke(args=["backup", str(out.parent / "another")])
    assert through_pgbouncer.exit_code == 1 and "直接连接 PostgreSQL" in through_pgbouncer.output
    fresh.config["DATABASE_PGBOUNCER"] = True
    assert "直接连接 PostgreSQL" in run(fresh, "restore", str(out)).output
    assert json.loads((out / "backup.json").read_text(encoding="utf-8"))["format"] == 1  # left as it was


def test_a_photo_stored_while_the_files_are_copied_is_not_in_the_rows_backed_up(published, empty_app, fresh,
                                                                                 tmp_path, monkeypatch):
    """The files are checked against the rows of the dump's own snapshot: a photo committed after the dump (from
    another connection, before the copy) adds files to the backup but no row, and breaks nothing."""
    from evalapp.models import EvidenceFile, Indicator, Sheet, User
    from evalapp.services import evidence, evidence_integrity
    from evalapp.services.sheet_views import find_indicator
    from tests.test_evidence import image_bytes

    migrate, calls = evidence_integrity.migrate, []
    photo = db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)).first()
    sheet_id, user_id = photo.sheet_id, photo.uploaded_by_id
    code = db.session.get(Indicator, photo.indicator_id).code

    def photo_meanwhile(source, target):
        if not calls:
            with empty_app.app_context():  # another session, another connection: the app's own path
                sheet = db.session.get(Sheet, sheet_id)
                evidence.add_photo(sheet, find_indicator(sheet, code), image_bytes(color=(1, 99, 7)), "后来.jpg",
                                   db.session.get(User, user_id))
        calls.append(target)
        return migrate(source, target)

    monkeypatch.setattr(evidence_integrity, "migrate", photo_meanwhile)
    out = tmp_path / "backup"
    result = empty_app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    described = json.loads((out / "backup.json").read_text(encoding="utf-8"))
    assert described["counts"]["evidence_files"] == 2  # the dump's rows, not the third photo's
    assert described["objects"]["count"] == 9 and described["objects"]["checked_against_database"] == 6
    assert db.session.scalar(select(func.count(EvidenceFile.id))) == 3  # committed, after the dump
    assert run(fresh, "restore", str(out)).exit_code == 0
    files = run(fresh, "verify-evidence")
    assert files.exit_code == 0 and "已核对 6 个文件" in files.output, files.output
