"""Long work in a job queue (issue 34, point 2; services.jobs): progress, one job and one file per request, a
worker that stops (its heartbeat left stale, the clock injected: no sleeps), expiry, scope, the evidence zip's
manifest, each download audited; and the same job function run by a real RQ worker over Redis."""
import hashlib
import io
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Job
from evalapp.models.base import utcnow
from evalapp.services import jobs
from evalapp.services.evidence_zip import read_manifest
from evalapp.services.storage import storage
from tests.factories import PASSWORD, VILLAGE, make_round, make_sheet
from tests.test_publication_snapshot import published  # noqa: F401 (fixture)


class Clock:
    def __init__(self):
        self.at = utcnow()

    def __call__(self):
        return self.at


@pytest.fixture
def clock(empty_app):
    c = Clock()
    empty_app.config["JOBS_CLOCK"] = c
    yield c
    empty_app.config.pop("JOBS_CLOCK", None)


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _job_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _file(client, job_id) -> bytes:
    response = client.get(f"/jobs/{job_id}/file")
    assert response.status_code == 200, response.status_code
    return response.data


def _exports(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_the_workbook_job_tells_its_progress_and_ends_done(empty_app, published, clock, monkeypatch):  # noqa: F811
    """Queued (nothing runs it yet), then run: each unit's row moves the progress, told on a connection of its own
    (read back while the build is still going), and the status ends at 100 % with the file."""
    from evalapp.services import export

    monkeypatch.setattr(export, "PROGRESS_ROWS", 1)
    empty_app.config["JOBS_RUNNER"] = "none"
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert (status["state"], status["percent"]) == ("queued", 0)
    page = district.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-progress"' in page and "排队等候中" in page and "js/jobs.js" in page

    seen = []

    def hook(job_id_, done, total):
        with db.engine.connect() as conn:  # what a poll from another request reads now
            seen.append(conn.execute(select(Job.state, Job.done, Job.total).where(Job.id == job_id_)).one())

    empty_app.config["JOBS_TEST_HOOK"] = hook
    try:
        assert jobs.run(job_id) == "done"
    finally:
        empty_app.config.pop("JOBS_TEST_HOOK")
    assert [s for s, _, _ in seen] == ["running"] * len(seen)
    assert [d for _, d, _ in seen] == [1, 2, 3, 4, 4] and {t for *_, t in seen} == {4}
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert (status["state"], status["percent"], status["done"], status["total"]) == ("done", 100, 4, 4)
    assert "下载文件" in district.get(f"/jobs/{job_id}").get_data(as_text=True)
    openpyxl.load_workbook(io.BytesIO(_file(district, job_id)))  # a workbook


def test_the_same_request_is_one_job_and_the_same_bytes(empty_app, published, clock):  # noqa: F811
    """Two requests for the published version: one job, one file; the file again after it expired is made by the
    same row and is byte-identical — and is the direct download's file. Each download is audited."""
    district = _client(empty_app, "district")
    admin = _client(empty_app, "admin")
    rid = published.round.id
    first, second = (_job_id(c.post(f"/jobs/rounds/{rid}/workbook")) for c in (district, admin))
    assert first == second
    assert db.session.scalar(select(func.count(Job.id))) == 1
    before = _exports("export.results_workbook")
    data = _file(district, first)
    assert _file(admin, first) == data
    assert _exports("export.results_workbook") == before + 2
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.results_workbook")
                            .order_by(AuditEvent.id.desc()).limit(1))
    assert row.new["job"] == first and row.new["sha256"] == hashlib.sha256(data).hexdigest()
    assert row.new["status"] == "正式" and row.new["version"] == 1

    clock.at += timedelta(seconds=empty_app.config["JOBS_RESULT_SECONDS"] + 1)
    assert _job_id(district.post(f"/jobs/rounds/{rid}/workbook")) == first  # expired: the same row, again
    assert db.session.scalar(select(func.count(Job.id))) == 1
    assert _file(district, first) == data
    assert district.get(f"/results/rounds/{rid}/workbook.xlsx").data == data


def test_a_worker_that_stops_is_noticed_by_its_heartbeat_and_retried(empty_app, published, clock):  # noqa: F811
    """A worker killed mid-job (its function stopped by a BaseException no handler takes, the row left running):
    within the bound its job still shows running; past it the status says failed, with a retry that finishes it."""
    empty_app.config["JOBS_RUNNER"] = "none"
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))

    class Killed(BaseException):
        pass

    def kill(*_):
        raise Killed

    empty_app.config["JOBS_TEST_HOOK"] = kill
    try:
        with pytest.raises(Killed):
            jobs.run(job_id)
    finally:
        empty_app.config.pop("JOBS_TEST_HOOK")
        db.session.rollback()
    bound = empty_app.config["JOBS_STALE_SECONDS"]
    clock.at += timedelta(seconds=bound - 1)
    assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "running"
    clock.at += timedelta(seconds=2)
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert status["state"] == "failed" and status["error"] == jobs.STALE_ERROR
    page = district.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="job-retry"' in page and "生成失败" in page
    empty_app.config["JOBS_RUNNER"] = "sync"
    assert _job_id(district.post(f"/jobs/{job_id}/retry")) == job_id
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert status["state"] == "done"
    assert db.session.get(Job, job_id).attempts == 2
    # the stopped attempt cannot mark the retried job: its writes name its own attempt
    assert jobs._write(job_id, attempt=1, state="failed") == 0


def test_finished_files_expire(empty_app, published, clock):  # noqa: F811
    """Past JOBS_RESULT_SECONDS the file is deleted (on access, or by `flask jobs-sweep`) and the job says so."""
    district = _client(empty_app, "district")
    rid = published.round.id
    job_id = _job_id(district.post(f"/jobs/rounds/{rid}/workbook"))
    key = db.session.get(Job, job_id).result_key
    assert storage().exists(key)
    clock.at += timedelta(seconds=empty_app.config["JOBS_RESULT_SECONDS"] - 1)
    assert empty_app.test_cli_runner().invoke(args=["jobs-sweep"]).exit_code == 0
    assert storage().exists(key)
    clock.at += timedelta(seconds=2)
    result = empty_app.test_cli_runner().invoke(args=["jobs-sweep"])
    assert "已删除 1 个过期文件" in result.output
    assert not storage().exists(key)
    db.session.expire_all()
    assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "expired"
    assert district.get(f"/jobs/{job_id}/file").status_code == 302  # to its page: 文件已过期删除, 重新生成
    assert "文件已过期删除" in district.get(f"/jobs/{job_id}").get_data(as_text=True)
    # made again, then its file removed behind the app's back: failed (with 重新生成), never a 500
    assert _job_id(district.post(f"/jobs/{job_id}/retry")) == job_id
    storage().delete(db.session.get(Job, job_id).result_key)
    assert district.get(f"/jobs/{job_id}/file").status_code == 302
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert (status["state"], status["error"]) == ("failed", jobs.LOST_ERROR)


def test_a_job_is_fetched_only_by_its_audience(empty_app, published):  # noqa: F811
    """The district's workbook job: not the village's, the township's or finance's (their role may ask for some
    job, not see this one), before or after it is done; nor a finance evidence zip the district's."""
    district = _client(empty_app, "district")
    rid = published.round.id
    job_id = _job_id(district.post(f"/jobs/rounds/{rid}/workbook"))
    for who, expected in (("village", 403), ("township", 403), ("inspector", 403), ("finance", 404)):
        client = _client(empty_app, who)
        for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/status", f"/jobs/{job_id}/file"):
            assert client.get(url).status_code == expected, (who, url)
        assert client.post(f"/jobs/{job_id}/retry").status_code == expected
        assert client.post(f"/jobs/rounds/{rid}/workbook").status_code == 403
    finance = _client(empty_app, "finance")
    zip_id = _job_id(finance.post(f"/jobs/rounds/{rid}/evidence"))
    assert zip_id != _job_id(district.post(f"/jobs/rounds/{rid}/evidence"))
    assert district.get(f"/jobs/{zip_id}/file").status_code == 404


def test_the_evidence_zip_has_a_folder_per_unit_and_indicator_and_a_true_manifest(empty_app, clock):
    """Photos on a member's and a final sheet: each under 单位/指标/, the manifest's SHA-256 and size those of the
    entry and of the stored file; finance's zip leaves out the member's sheet (finance never sees one); a removed
    photo is not in it; the download is audited."""
    from evalapp.services import evidence
    from evalapp.services.sheet_views import find_indicator
    from tests.test_evidence import image_bytes

    w = make_round("inspection")
    insp, final = make_sheet(w, VILLAGE), make_sheet(w, VILLAGE, "final")
    inspector, leader = w.people["inspector"], w.people["leader"]
    kept = [evidence.add_photo(insp, find_indicator(insp, "A1"), image_bytes(color=(1, 2, 3)), "现场1.jpg", inspector),
            evidence.add_photo(insp, find_indicator(insp, "A1"), image_bytes(color=(4, 5, 6)), "a/b.jpg", inspector),
            evidence.add_photo(final, find_indicator(final, "B1"), image_bytes(color=(7, 8, 9)), "x.jpg", leader)]
    gone = evidence.add_photo(insp, find_indicator(insp, "A1"), image_bytes(color=(9, 9, 9)), "删.jpg", inspector)
    evidence.remove(gone, inspector)
    district = _client(empty_app, "district")
    before = _exports("export.evidence_zip")
    job_id = _job_id(district.post(f"/jobs/rounds/{w.round.id}/evidence"))
    data = _file(district, job_id)
    assert _exports("export.evidence_zip") == before + 1
    manifest = read_manifest(data)
    assert len(manifest) == 3
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted([m["路径"] for m in manifest] + ["manifest.csv"])
        for m in manifest:
            entry = zf.read(m["路径"])
            assert hashlib.sha256(entry).hexdigest() == m["SHA-256"] and len(entry) == int(m["字节数"])
            assert m["路径"].split("/")[0].endswith(VILLAGE) and m["路径"].count("/") == 2
    stored = {}
    for ev in kept:
        with storage().open(ev.storage_key) as f:
            stored[ev.id] = hashlib.sha256(f.read()).hexdigest()
    assert {int(m["照片编号"]): m["SHA-256"] for m in manifest} == stored
    assert {m["路径"].split("/")[1].split("_")[0] for m in manifest} == {"A1", "B1"}
    assert _job_id(district.post(f"/jobs/rounds/{w.round.id}/evidence")) == job_id  # the same photos: the same job
    clock.at += timedelta(seconds=empty_app.config["JOBS_RESULT_SECONDS"] + 1)  # expired, made again: the same bytes
    assert _job_id(district.post(f"/jobs/rounds/{w.round.id}/evidence")) == job_id
    assert _file(district, job_id) == data
    finance = _client(empty_app, "finance")
    theirs = read_manifest(_file(finance, _job_id(finance.post(f"/jobs/rounds/{w.round.id}/evidence"))))
    assert {int(m["照片编号"]) for m in theirs} == {kept[2].id}


def test_the_audit_export_job_holds_the_log_as_it_was_asked_for(empty_app, clock):
    """The admin's export of the filtered log: the rows up to the request, none written after it (its own
    download's audit row included); each download audited as export.audit."""
    make_round("inspection")
    admin = _client(empty_app, "admin")
    empty_app.config["JOBS_RUNNER"] = "none"
    job_id = _job_id(admin.post("/jobs/audit", data={"action": "round"}))
    rounds_then = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("round%")))
    assert rounds_then > 0
    from evalapp.services import audit

    audit.record("round.create", detail="after the request")
    db.session.commit()
    assert jobs.run(job_id) == "done"
    before = _exports("export.audit")
    wb = openpyxl.load_workbook(io.BytesIO(_file(admin, job_id)), read_only=True)
    rows = list(wb["操作日志"].iter_rows(values_only=True))[1:]
    wb.close()
    assert len(rows) == rounds_then
    assert _exports("export.audit") == before + 1


def _redis_or_skip(url="redis://127.0.0.1:6379/15"):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        client.close()
        pytest.skip("no Redis at 127.0.0.1:6379 (.ci/run starts redis-server)")
    return client


def test_an_rq_worker_runs_the_job_from_redis(empty_app, published):  # noqa: F811
    """REDIS_URL set: the request only queues the job in Redis; RQ's worker (as `flask jobs-worker` runs it) runs
    the same job function and the file is there."""
    from rq import SimpleWorker

    url = "redis://127.0.0.1:6379/15"
    client = _redis_or_skip(url)
    empty_app.config.update(JOBS_RUNNER=None, REDIS_URL=url)
    queue = jobs.queue()
    try:
        queue.empty()
        district = _client(empty_app, "district")
        job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
        assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "queued"
        assert queue.count == 1
        SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
        db.session.expire_all()
        assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "done"
        assert _file(district, job_id)[:2] == b"PK"
    finally:
        queue.empty()
        queue.connection.close()
        client.close()
        empty_app.config.update(JOBS_RUNNER="sync", REDIS_URL=None)


def test_a_real_worker_killed_with_sigkill_mid_job_is_shown_failed_then_retried(empty_app, published,  # noqa: F811
                                                                                  clock):
    """`flask jobs-worker`'s RQ worker in a process of its own takes the job from Redis and is held at its first
    progress; SIGKILL: the row stays "running" (nothing ran to say otherwise) until its heartbeat is older than the
    bound, then the status says failed, and the retry makes the file."""
    import os
    import selectors
    import signal
    import subprocess
    import sys

    url = "redis://127.0.0.1:6379/15"
    client = _redis_or_skip(url)
    empty_app.config.update(JOBS_RUNNER=None, REDIS_URL=url)
    queue = jobs.queue()
    queue.empty()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        district = _client(empty_app, "district")
        job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.job_worker_proc", empty_app.config["SQLALCHEMY_DATABASE_URI"],
             empty_app.config["UPLOAD_FOLDER"], url], cwd=root, stdout=subprocess.PIPE, text=True)
        try:
            line = ""
            with selectors.DefaultSelector() as waiting:  # the worker's line (after RQ's own), a minute at most
                waiting.register(worker.stdout, selectors.EVENT_READ)
                while not line.startswith("running"):
                    assert waiting.select(timeout=60), "the worker never took the job"
                    line = worker.stdout.readline()
                    assert line, "the worker ended"
            assert line.strip() == f"running {job_id}"
            db.session.expire_all()
            assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "running"
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=60) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            worker.stdout.close()
        bound = empty_app.config["JOBS_STALE_SECONDS"]  # the worker's heartbeat was written on the real clock
        clock.at = utcnow() + timedelta(seconds=bound - 5)
        assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "running"
        clock.at = utcnow() + timedelta(seconds=bound + 1)
        assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "failed"
        empty_app.config.update(JOBS_RUNNER="sync")
        district.post(f"/jobs/{job_id}/retry")
        assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "done"
        assert _file(district, job_id)[:2] == b"PK"
    finally:
        queue.empty()
        queue.connection.close()
        client.close()
        empty_app.config.update(JOBS_RUNNER="sync", REDIS_URL=None)
