"""Long work in a job queue (issue 34, point 2; services.jobs): progress, one job and one file per request, a
worker that stops (its heartbeat left stale, the clock injected: no sleeps), expiry, scope, the evidence zip's
manifest, each download audited; and the same job function run by a real RQ worker over Redis."""
import hashlib
import io
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select, update

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


REDIS = "redis://127.0.0.1:6379/15"


def _redis_or_skip(url=REDIS):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        client.close()
        pytest.skip("no Redis at 127.0.0.1:6379 (.ci/run starts redis-server)")
    return client


@pytest.fixture
def rq_queue(empty_app):
    """REDIS_URL set: the app's jobs go to RQ over the tests' Redis, on the test app's own queue (emptied before and
    after), as `flask jobs-worker` takes them."""
    client = _redis_or_skip()
    empty_app.config.update(JOBS_RUNNER=None, REDIS_URL=REDIS)
    queue = jobs.queue()
    queue.empty()
    yield queue
    queue.empty()
    queue.connection.close()
    client.close()
    empty_app.config.update(JOBS_RUNNER="sync", REDIS_URL=None)


def _work(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
    db.session.expire_all()


def test_an_rq_worker_runs_the_job_from_redis(empty_app, published, rq_queue):  # noqa: F811
    """REDIS_URL set: the request only queues the job in Redis; RQ's worker (as `flask jobs-worker` runs it) runs
    the same job function and the file is there."""
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "queued"
    assert rq_queue.count == 1
    _work(rq_queue)
    assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "done"
    assert _file(district, job_id)[:2] == b"PK"


def test_a_job_whose_queue_was_lost_is_queued_again_when_asked_again(empty_app, published, rq_queue):  # noqa: F811
    """Redis lost (restarted empty, or failed over to a new one): the queued job's row is still queued but no queue
    holds it. Asking again for the same export queues the same row again, and a worker then runs it; asking while it
    is still queued adds nothing."""
    district = _client(empty_app, "district")
    ask = f"/jobs/rounds/{published.round.id}/workbook"
    job_id = _job_id(district.post(ask))
    assert _job_id(district.post(ask)) == job_id and rq_queue.count == 1  # still queued: not queued twice
    rq_queue.empty()  # the queue lost with Redis
    assert _job_id(district.post(ask)) == job_id
    assert rq_queue.count == 1
    _work(rq_queue)
    assert district.get(f"/jobs/{job_id}/status").get_json()["state"] == "done"
    assert db.session.scalar(select(func.count(Job.id))) == 1


def test_redis_down_is_a_503_that_says_so_and_the_job_is_queued_when_asked_again(empty_app, published,  # noqa: F811
                                                                                 rq_queue):
    """Redis not answering when an export is asked for: a 503 naming the queue (page and API shape), never a 500;
    the job's row stays queued, and asking again once Redis answers queues that same row."""
    district = _client(empty_app, "district")
    ask = f"/jobs/rounds/{published.round.id}/workbook"
    empty_app.config.update(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    down = district.post(ask)
    assert down.status_code == 503 and "后台任务队列暂时无法访问" in down.get_data(as_text=True)
    (row,) = db.session.scalars(select(Job)).all()
    assert row.state == "queued"
    empty_app.config.update(REDIS_URL=REDIS)
    assert _job_id(district.post(ask)) == row.id and rq_queue.count == 1


def test_a_real_worker_killed_with_sigkill_mid_job_is_shown_failed_then_retried(empty_app, published,  # noqa: F811
                                                                                  clock, rq_queue):
    """`flask jobs-worker`'s RQ worker in a process of its own takes the job from Redis and is held at its first
    progress; SIGKILL: the row stays "running" (nothing ran to say otherwise) until its heartbeat is older than the
    bound, then the status says failed, and the retry makes the file."""
    import os
    import selectors
    import signal
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.job_worker_proc", empty_app.config["SQLALCHEMY_DATABASE_URI"],
         empty_app.config["UPLOAD_FOLDER"], REDIS, empty_app.config["JOBS_QUEUE"]], cwd=root,
        stdout=subprocess.PIPE, text=True)
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


def _job_keys() -> list[str]:
    return [k for k in storage().keys() if k.startswith("job-")]


@pytest.mark.both_storages
def test_a_job_whose_final_write_fails_leaves_no_file_and_is_failed(empty_app, published, storage_backend,  # noqa: F811
                                                                    monkeypatch):
    """The file stored, then the row's done write fails (a size past int4 once did): the job is failed with the
    generic message (the details only in the log: they may name the bucket or the SQL), its file deleted."""
    empty_app.config["JOBS_RUNNER"] = "none"
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    real, stored = jobs._write, []

    def failing(job_id_, **values):
        if values.get("state") == "done":
            stored.extend(_job_keys())
            raise RuntimeError("integer out of range in bucket secret-bucket")
        return real(job_id_, **values)

    monkeypatch.setattr(jobs, "_write", failing)
    assert jobs.run(job_id) == "failed"
    assert len(stored) == 1  # it was stored, and is no more
    assert _job_keys() == []
    db.session.expire_all()
    row = db.session.get(Job, job_id)
    assert (row.state, row.error, row.result_key) == ("failed", jobs.FAILED_ERROR, None)
    status = district.get(f"/jobs/{job_id}/status").get_json()
    assert status["state"] == "failed" and "secret" not in status["error"]


@pytest.mark.both_storages
def test_a_job_file_is_copied_in_chunks_with_its_hash_and_size(empty_app, published, storage_backend,  # noqa: F811
                                                               monkeypatch):
    """save_file, never the whole file read at once: the recorded SHA-256 and size are those of the stored
    bytes (the size column a BigInteger: a zip past 2 GiB fits)."""
    from evalapp.services import storage as storage_module

    monkeypatch.setattr(storage_module, "CHUNK", 1000)
    reads = []
    real = jobs._Hashing.read

    def read(self, size=-1):
        chunk = real(self, size)
        reads.append((size, len(chunk)))
        return chunk

    monkeypatch.setattr(jobs._Hashing, "read", read)
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    data = _file(district, job_id)
    row = db.session.get(Job, job_id)
    assert row.result_sha256 == hashlib.sha256(data).hexdigest() and row.result_size == len(data)
    # never the whole file read at once: each read bounded (a read to the end only once nothing is left: boto3's
    # check that what it took under its multipart threshold was all)
    assert reads and all(size is not None and size > 0 or got == 0 for size, got in reads)
    assert Job.__table__.c.result_size.type.__class__.__name__ == "BigInteger"


class _Commits:
    """Counts the commits of every session while it is entered."""

    def __init__(self):
        self.count = 0

    def _seen(self, _session):
        self.count += 1

    def __enter__(self):
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "after_commit", self._seen)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.remove(Session, "after_commit", self._seen)


def _stored_row(job_id):
    with db.engine.connect() as conn:
        return tuple(conn.execute(select(Job.__table__).where(Job.id == job_id)).one())


def test_reads_show_a_stale_or_expired_job_without_writing_and_the_sweep_writes(empty_app, published,  # noqa: F811
                                                                                 clock):
    """GET of a job's page or status never commits: a running job past its heartbeat bound is shown failed (with
    重新生成), a done one past its expiry shown expired, the rows and the file left as they are; `flask jobs-sweep`
    then writes both (and deletes the file after its commit). Asking again for a done job commits nothing."""
    empty_app.config["JOBS_RUNNER"] = "none"
    district = _client(empty_app, "district")
    stale = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook", data={"view": "draft"}))
    db.session.execute(update(Job).where(Job.id == stale).values(state="running", attempts=1,
                                                                     heartbeat_at=clock.at))
    db.session.commit()
    empty_app.config["JOBS_RUNNER"] = "sync"
    done = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    assert done != stale
    key = db.session.get(Job, done).result_key
    with _Commits() as commits:
        assert _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook")) == done
    assert commits.count == 0
    clock.at += timedelta(seconds=max(empty_app.config["JOBS_STALE_SECONDS"],
                                      empty_app.config["JOBS_RESULT_SECONDS"]) + 1)
    rows = {job_id: _stored_row(job_id) for job_id in (stale, done)}
    with _Commits() as commits:
        status = district.get(f"/jobs/{stale}/status").get_json()
        assert (status["state"], status["error"]) == ("failed", jobs.STALE_ERROR)
        page = district.get(f"/jobs/{stale}").get_data(as_text=True)
        assert 'data-testid="job-retry"' in page and "生成失败" in page
        assert district.get(f"/jobs/{done}/status").get_json()["state"] == "expired"
        assert "文件已过期删除" in district.get(f"/jobs/{done}").get_data(as_text=True)
        assert district.get(f"/jobs/{done}/file").status_code == 302
    assert commits.count == 0
    assert {job_id: _stored_row(job_id) for job_id in (stale, done)} == rows
    assert storage().exists(key)

    result = empty_app.test_cli_runner().invoke(args=["jobs-sweep"])
    assert result.exit_code == 0 and "已删除 1 个过期文件" in result.output
    db.session.expire_all()
    assert db.session.get(Job, stale).state == "failed" and db.session.get(Job, done).state == "expired"
    assert not storage().exists(key)


def test_a_photo_missing_from_storage_is_listed_not_fatal(empty_app, clock):
    """One photo's file lost: the zip is made with the others, and manifest.csv lists the lost one as 文件缺失 (the
    others 正常), with no entry for it."""
    from evalapp.services import evidence
    from evalapp.services.sheet_views import find_indicator
    from tests.test_evidence import image_bytes

    w = make_round("inspection")
    sheet = make_sheet(w, VILLAGE)
    inspector = w.people["inspector"]
    kept = evidence.add_photo(sheet, find_indicator(sheet, "A1"), image_bytes(color=(1, 2, 3)), "在.jpg", inspector)
    lost = evidence.add_photo(sheet, find_indicator(sheet, "A1"), image_bytes(color=(4, 5, 6)), "丢.jpg", inspector)
    storage().delete(lost.storage_key)
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{w.round.id}/evidence"))
    assert db.session.get(Job, job_id).state == "done"
    data = _file(district, job_id)
    manifest = {int(m["照片编号"]): m for m in read_manifest(data)}
    assert manifest[kept.id]["状态"] == "正常" and manifest[lost.id]["状态"] == "文件缺失"
    assert manifest[lost.id]["SHA-256"] == "" and manifest[lost.id]["字节数"] == ""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted([manifest[kept.id]["路径"], "manifest.csv"])


def test_the_job_file_is_closed_when_sending_fails(empty_app, published, monkeypatch):  # noqa: F811
    """send_download raising after the file was opened: the file is closed (no descriptor left open)."""
    from evalapp.jobs import routes

    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    opened = []
    real = jobs.downloaded

    def downloaded(*args, **kwargs):
        made = real(*args, **kwargs)
        opened.append(made[0])
        return made

    def broken(*args, **kwargs):
        raise RuntimeError("sending failed")

    monkeypatch.setattr(jobs, "downloaded", downloaded)
    monkeypatch.setattr(routes, "send_download", broken)
    assert district.get(f"/jobs/{job_id}/file").status_code == 500
    assert len(opened) == 1 and opened[0].closed


def _drop_bucket(settings):
    import boto3

    client = boto3.session.Session().client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                                            aws_access_key_id="testing", aws_secret_access_key="testing")
    for item in client.list_objects_v2(Bucket=settings["S3_BUCKET"]).get("Contents", ()):
        client.delete_object(Bucket=settings["S3_BUCKET"], Key=item["Key"])
    client.delete_bucket(Bucket=settings["S3_BUCKET"])
    client.close()


def test_a_job_download_from_a_store_gone_is_a_503(empty_app, published, s3_settings):  # noqa: F811
    """The object store's bucket deleted under a done job: the download is a 503 saying the store is unavailable,
    not a 500; the job is not marked lost (the file may come back with the store)."""
    empty_app.config.update(s3_settings)
    district = _client(empty_app, "district")
    job_id = _job_id(district.post(f"/jobs/rounds/{published.round.id}/workbook"))
    _drop_bucket(s3_settings)
    response = district.get(f"/jobs/{job_id}/file")
    assert response.status_code == 503
    assert "文件存储暂时无法访问" in response.get_data(as_text=True)
    assert s3_settings["S3_BUCKET"] not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Job, job_id).state == "done"
