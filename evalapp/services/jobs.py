"""Long work in a job queue (issue 34, point 2): the district workbook, the audit export and a round's evidence zip
are built by a job, not inside the request that asks for them.

A request (`request_job`) finds or makes the one row of `jobs` for its key — the kind, its parameters, who may fetch
the file (`audience`) and the version of the data it is built from — and queues it: asked twice for the same
published version, it is one job and one file. The job function (`run`) claims the row, tells its progress and
heartbeat on a connection of its own (the build reads in the session's transaction), writes the file through
services.storage and marks the row done with an expiry. Where it runs (`JOBS_RUNNER`):

* ``rq``: RQ over Redis (``REDIS_URL``), in its own worker process (`flask --app wsgi jobs-worker`, docs/deploy.md);
* ``thread`` (the embedded default: no ``REDIS_URL``, `make run`): a background thread of the app process that took
  the request — the request answers at once and the page shows the progress as the worker would; nothing more to
  start or run. A process that dies takes its thread with it: the heartbeat then goes stale as a worker's does;
* ``sync`` (tests): inside the request, before it answers.

A job whose heartbeat is older than `JOBS_STALE_SECONDS` (120 s) is *shown* failed by every read (`visible_job`,
which never writes) and failed for good by `reap` (`flask jobs-sweep`, a request or retry of it): never shown as
running for good; its page offers a retry, which queues the same row again. A file is kept `JOBS_RESULT_SECONDS`
after it was made: past that it is shown expired, and deleted by `expire` (`flask jobs-sweep`, a request or retry)
only after the commit that forgets it.
Each download is audited as the direct downloads are (`downloaded`).
"""
import hashlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.vocabulary import N_
from ..extensions import db
from ..models import AuditEvent, EvidenceFile, Job, Round, Sheet, User
from ..models.base import utcnow
from ..models.version import ResultsVersion
from . import audit
from .errors import NotFound, _l
from .storage import storage

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
LOST_ERROR = N_("生成的文件已不在存储中")
STALE_ERROR = N_("工作进程中断（心跳超时）")  # shown translated (templates/jobs/show.html)
FAILED_ERROR = N_("生成文件时出错，详情已记入服务器日志")  # what a user sees of any other failure
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Kind:
    mimetype: str
    fallback: str          # the ASCII name a download falls back to
    build: Callable        # (job, progress) → (binary file, name)
    action: str            # a download's audit action (the direct downloads' own)
    audited: Callable = lambda params: {}  # what of the parameters a download's audit row records


def now() -> datetime:
    """The clock (config JOBS_CLOCK, a function, in tests)."""
    clock = current_app.config.get("JOBS_CLOCK")
    return clock() if clock is not None else utcnow()


def stale_seconds() -> int:
    return int(current_app.config.get("JOBS_STALE_SECONDS", 120))


def result_seconds() -> int:
    return int(current_app.config.get("JOBS_RESULT_SECONDS", 24 * 3600))


def runner() -> str:
    """rq, thread or sync: JOBS_RUNNER, else rq where REDIS_URL is set, else thread."""
    chosen = current_app.config.get("JOBS_RUNNER")
    if chosen:
        return chosen
    return "rq" if current_app.config.get("REDIS_URL") else "thread"


# -- the kinds -----------------------------------------------------------------------------------------------------

def _build_workbook(job: Job, progress):
    from .export import results_workbook
    from .readmodel import round_model

    round_ = db.session.get(Round, job.params["round_id"])
    model = round_model(round_, draft=job.params["draft"], extras=True, fresh=True)
    data, name = results_workbook(model, progress=progress)
    return data, name


def _build_audit(job: Job, progress):
    filters, _ = audit.parse_filters(job.params["filters"])
    user = db.session.get(User, job.requested_by_id)
    made = audit.export(filters, user, before=job.params["before"], now=job.created_at, progress=progress,
                        audited=False)
    return made.file, made.name


def _build_evidence_zip(job: Job, progress):
    from .evidence_zip import evidence_zip

    round_ = db.session.get(Round, job.params["round_id"])
    return evidence_zip(round_, db.session.get(User, job.requested_by_id), progress=progress)


def _build_summary(job: Job, progress):
    from .summary import build_summary

    return build_summary(job.params, progress)


def _summary_audited(params: dict) -> dict:
    from .summary import audited

    return audited(params)


KINDS = {
    "results_workbook": Kind(XLSX, "results.xlsx", _build_workbook, "export.results_workbook", lambda p: {
        "status": "草稿" if p.get("draft") else "正式", "version": p.get("version"),
        "publication_sha256": p.get("sha256")}),
    "audit_export": Kind(XLSX, "audit.xlsx", _build_audit, "export.audit", lambda p: {"filters": p["filters"]}),
    "evidence_zip": Kind("application/zip", "evidence.zip", _build_evidence_zip, "export.evidence_zip"),
    # the 评估总结 (services.summary.prepare_summary makes its parameters)
    "summary_docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "summary.docx",
                         _build_summary, "export.summary", _summary_audited),
}
# Who may fetch a kind's file: the roles that may ask for it (evidence: the roles that see the same sheets alike,
# access.SHEET_KINDS_SEEN — the district's and the admin's zip is one file, finance's another).
AUDIENCES = {"results_workbook": ("district", "admin"), "audit_export": ("admin",)}
EVIDENCE_AUDIENCES = {"district": ("district", "admin"), "admin": ("district", "admin"), "finance": ("finance",)}


def audience_of(job: Job) -> tuple[str, ...]:
    return tuple(job.params.get("audience") or ())


def may_fetch(user: User, job: Job) -> bool:
    """The one scope rule of a job's page, status and file: the user's role is the job's audience."""
    return user is not None and user.role in audience_of(job)


# -- what a request's key is made of -------------------------------------------------------------------------------

def workbook_params(round_: Round, draft: bool) -> dict:
    """The district workbook: a published round's last version (by number and checksum: byte-identical files), or
    the data as it stands at its results version (services.versions)."""
    from .readmodel import latest

    pub = None if draft else latest(round_.id)
    if pub is not None:
        version = {"version": pub.version, "sha256": pub.sha256}
    else:
        n = db.session.scalar(select(ResultsVersion.n).where(ResultsVersion.round_id == round_.id)) or 0
        version = {"draft_n": n}
    return {"round_id": round_.id, "draft": pub is None, "audience": list(AUDIENCES["results_workbook"]), **version}


def audit_params(filters, user: User) -> dict:
    """The audit export: the filters, its reader (the file names who exported it) and the log as it stands (rows up
    to the newest event now)."""
    newest = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    return {"filters": filters.args(), "before": newest + 1, "user_id": user.id,
            "audience": list(AUDIENCES["audit_export"])}


def evidence_params(round_: Round, user: User) -> dict:
    """A round's evidence zip for what the user's role sees (access.visible_sheets): the round's last version and
    the photos as they stand (how many, the newest and the last removal)."""
    from ..access import visible_sheets
    from .readmodel import latest

    sheets = visible_sheets(user, round_.id).with_only_columns(Sheet.id)
    count, newest, removed = db.session.execute(
        select(func.count(EvidenceFile.id), func.max(EvidenceFile.id), func.max(EvidenceFile.deleted_at))
        .where(EvidenceFile.sheet_id.in_(sheets), EvidenceFile.kind == "photo")).one()
    pub = latest(round_.id)
    return {"round_id": round_.id, "role": user.role, "audience": list(EVIDENCE_AUDIENCES[user.role]),
            "version": pub.version if pub is not None else None,
            "photos": [count, newest, removed.isoformat() if removed is not None else None]}


def key_of(kind: str, params: dict) -> str:
    return hashlib.sha256(json.dumps([kind, params], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -- request, retry, status ------------------------------------------------------------------------------------------

def _find(key: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.key == key))


def request_job(kind: str, params: dict, user: User) -> Job:
    """The job for this request: the running or finished one of the same key, or a new (or again queued) one.
    Commits (once) when it makes or requeues one; never starts a second job for a key."""
    key = key_of(kind, params)
    job = _find(key)
    if job is not None:
        reap(job)
        gone = expire(job)
        if job.state in ACTIVE or job.state == "done":  # nothing changed (reap and expire move a row out of these)
            if job.state == "queued" and _lost_from_queue(job):
                enqueue(job)  # its queue was lost with Redis: the same row queued again
            return job
        return _requeue(job, gone)
    job = Job(kind=kind, params=params, key=key, state="queued", done=0, total=0, attempts=0,
              requested_by_id=user.id, created_at=now(), heartbeat_at=now())
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # the same request at the same moment: the other one's job
        db.session.rollback()
        return _find(key)
    enqueue(job)
    return job


def retry(job: Job) -> Job:
    """A failed (or expired) job queued again, the same row; one that runs or is done is left as it is (no
    commit)."""
    job = db.session.get(Job, job.id)  # the row as stored (visible_job's may be a detached copy, shown otherwise)
    reap(job)
    gone = expire(job)
    if job.state in ACTIVE or job.state == "done":
        return job
    return _requeue(job, gone)


def _delete_files(keys) -> None:
    """Delete the files of rows already committed as forgetting them (a failure is logged: at worst a file is
    left behind, never a row naming a deleted file)."""
    for key in keys:
        if key:
            try:
                storage().delete(key)
            except Exception:
                log.exception("could not delete the job file %s", key)


def _requeue(job: Job, gone=()) -> Job:
    """Queue a failed or expired row again: only the request that moves it out of that state enqueues it. `gone`:
    files of rows expired in this transaction, deleted once it is committed."""
    moved = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state.in_(("failed", "expired")))
        .values(state="queued", done=0, total=0, error=None, heartbeat_at=now(), started_at=None, finished_at=None,
                result_key=None, result_name=None, result_sha256=None, result_size=None, expires_at=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    _delete_files(gone)
    db.session.refresh(job)
    if moved:
        enqueue(job)
    return job


def _bounds():
    """(running bound, queued bound): a running job whose heartbeat is older than the first is stale, a queued one
    older than the second was never taken."""
    return (now() - timedelta(seconds=stale_seconds()),
            now() - timedelta(seconds=int(current_app.config.get("JOBS_QUEUED_SECONDS", 3600))))


def reap(job: Job | None = None) -> int:
    """Fail the running jobs whose heartbeat is older than the bound (a killed worker), and the queued ones nobody
    took for as long (a queue lost); one job or all. Adds to the session's transaction: the caller commits."""
    bound, queued_bound = _bounds()
    stmt = (update(Job).where((Job.state == "running") & (Job.heartbeat_at < bound)
                              | (Job.state == "queued") & (Job.heartbeat_at < queued_bound))
            .values(state="failed", error=STALE_ERROR, finished_at=now())
            .execution_options(synchronize_session=False))
    if job is not None:
        stmt = stmt.where(Job.id == job.id)
    count = db.session.execute(stmt).rowcount
    if job is not None and count:
        db.session.refresh(job)
    return count


def expire(job: Job | None = None) -> list:
    """Mark the rows kept past their expiry (one job's, or all) expired, forgetting their files; returns the files'
    keys (one per row, None where it had none), to delete once the caller has committed (_delete_files)."""
    query = select(Job).where(Job.state == "done", Job.expires_at <= now())
    if job is not None:
        query = query.where(Job.id == job.id)
    gone = []
    for old in db.session.scalars(query):
        gone.append(old.result_key)
        old.state, old.result_key = "expired", None
    db.session.flush()
    return gone


def sweep() -> tuple[int, int]:
    """`flask jobs-sweep`: reap stale jobs and expire old files; (reaped, expired). Commits once, then deletes the
    expired files."""
    reaped, gone = reap(), expire()
    db.session.commit()
    _delete_files(gone)
    return reaped, len(gone)


def shown_state(job: Job) -> dict:
    """What a read shows of a row that the sweep has not yet written (the attributes that differ; none for most):
    a running job past its heartbeat bound (or a queued one never taken) failed, a done one past its expiry
    expired. The same conditions as reap and expire, computed without writing."""
    bound, queued_bound = _bounds()
    if (job.state == "running" and job.heartbeat_at is not None and job.heartbeat_at < bound
            or job.state == "queued" and job.heartbeat_at is not None and job.heartbeat_at < queued_bound):
        return {"state": "failed", "error": STALE_ERROR, "finished_at": now()}
    if job.state == "done" and job.expires_at is not None and job.expires_at <= now():
        return {"state": "expired", "result_key": None}
    return {}


def visible_job(user: User, job_id: int) -> Job:
    """The job if the user may fetch it, else NotFound. A read: never writes. A row the sweep would fail or expire
    is given as a copy detached from the session showing that state (shown_state), the row itself left alone."""
    job = db.session.get(Job, job_id)
    if job is None or not may_fetch(user, job):
        raise NotFound("job.not_found", _l("没有这个导出任务"))
    shown = shown_state(job)
    if shown:
        db.session.refresh(job)  # every attribute loaded before it leaves the session
        db.session.expunge(job)
        for name, value in shown.items():
            setattr(job, name, value)
    return job


def status(job: Job) -> dict:
    """What the page's script polls."""
    percent = 100 if job.state == "done" else (min(99, job.done * 100 // job.total) if job.total else 0)
    return {"id": job.id, "state": job.state, "done": job.done, "total": job.total, "percent": percent,
            "error": job.error, "name": job.result_name, "size": job.result_size,
            "expires_at": job.expires_at.isoformat() if job.expires_at else None}


# -- the file ------------------------------------------------------------------------------------------------------

def downloaded(job: Job, user: User, *, address: str | None = None):
    """The job's file for a download, audited as the direct downloads are (the kind's action, the version, the
    file's checksum) and committed: (file, name, mimetype, fallback). NotFound when it is not (or no longer) there."""
    if job.state != "done" or not job.result_key:
        raise NotFound("job.no_file", _l("文件尚未生成或已过期"))
    kind = KINDS[job.kind]
    try:
        file = storage().open(job.result_key)
    except FileNotFoundError:  # removed behind the app's back: the job is failed, its page offers 重新生成
        db.session.execute(update(Job).where(Job.id == job.id, Job.state == "done")
                           .values(state="failed", error=LOST_ERROR, result_key=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        raise NotFound("job.no_file", _l("文件尚未生成或已过期")) from None
    round_id = job.params.get("round_id")
    audit.record(kind.action, user=user, address=address, obj=db.session.get(Round, round_id) if round_id else None,
                 round_id=round_id, new={**kind.audited(job.params), "job": job.id, "sha256": job.result_sha256},
                 detail=job.result_name or "")
    try:
        db.session.commit()
    except BaseException:
        file.close()
        raise
    return file, job.result_name, kind.mimetype, kind.fallback


# -- running -------------------------------------------------------------------------------------------------------

def _write(job_id: int, **values) -> int:
    """A progress, heartbeat or end write on a connection of its own, committed at once (the build's reads stay in
    the session's transaction)."""
    with db.engine.begin() as conn:
        return conn.execute(update(Job).where(Job.id == job_id, Job.state == "running",
                                               Job.attempts == values.pop("attempt")).values(**values)).rowcount


class _Heartbeat:
    """Beats every quarter of the bound while the job runs (a build step that tells no progress for a while still
    shows the worker alive); stops with the job, dies with its process."""

    def __init__(self, app, job_id: int, attempt: int):
        self.app, self.job_id, self.attempt = app, job_id, attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"job-{job_id}-heartbeat")

    def _beat(self):
        interval = max(1.0, stale_seconds_of(self.app) / 4)
        while not self.stopped.wait(interval):
            with self.app.app_context():
                _write(self.job_id, attempt=self.attempt, heartbeat_at=now())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()


def stale_seconds_of(app) -> int:
    return int(app.config.get("JOBS_STALE_SECONDS", 120))


def run(job_id: int) -> str:
    """The job function, wherever it runs: claim the queued row, build its file telling progress, store it, and
    mark it done (or failed, with the error). Returns the state it left. A row that is not queued (already taken,
    done, or failed by the reaper) is left alone."""
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="running", attempts=Job.attempts + 1, started_at=now(), heartbeat_at=now(), done=0)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    attempt = job.attempts
    hook = current_app.config.get("JOBS_TEST_HOOK")  # tests: hold a job mid-way (a barrier), or kill it

    told = {"total": 0}

    def progress(done: int, total: int) -> None:
        told["total"] = total
        _write(job_id, attempt=attempt, done=done, total=total, heartbeat_at=now())
        if hook is not None:
            hook(job_id, done, total)

    stored = None
    try:
        with _Heartbeat(current_app._get_current_object(), job_id, attempt):
            file, name = KINDS[job.kind].build(job, progress)
            try:
                db.session.rollback()  # the build's reads end here
                key = f"job-{job_id}-{attempt}-{uuid.uuid4().hex[:16]}{_suffix(name)}"
                copied = _Hashing(file)
                stored = key
                storage().save_file(key, copied)  # a chunk at a time, hashed as it is copied
            finally:
                file.close()
        at = now()
        whole = max(told["total"], 1)
        if not _write(job_id, attempt=attempt, state="done", done=whole, total=whole,
                      result_key=key, result_name=name, result_sha256=copied.digest.hexdigest(),
                      result_size=copied.size, finished_at=at, heartbeat_at=at,
                      expires_at=at + timedelta(seconds=result_seconds())):
            _delete_files([key])  # reaped meanwhile (or retried): this attempt's file is nobody's
            return "lost"
    except Exception:  # logged in full; the page shows a generic error; the worker goes on with the next job
        db.session.rollback()
        log.exception("job %s failed", job_id)
        if stored is not None:
            _delete_files([stored])  # stored (or half stored) but never recorded: nobody's
        try:
            _write(job_id, attempt=attempt, state="failed", error=FAILED_ERROR, finished_at=now())
        except Exception:  # the database itself failing: the row stays running until the reaper fails it
            log.exception("job %s: could not record its failure", job_id)
        return "failed"
    return "done"


class _Hashing:
    """A binary file read through, its SHA-256 and size taken as it is read (not seekable: a reader takes it in
    order, once)."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1] if "." in name and name.rsplit(".", 1)[-1].isalnum() else ""


def _rq_id(job: Job) -> str:
    """RQ's id of the job's attempt, named after its queue (RQ's ids are one namespace per Redis database: two
    queues there, as two test processes', must not share ids); "evalapp-job-<id>-<attempt>" on the default queue."""
    return f"{current_app.config['JOBS_QUEUE']}-job-{job.id}-{job.attempts}"


def _lost_from_queue(job: Job) -> bool:
    """A queued row that RQ no longer knows (Redis restarted empty, or a new one after a failover): no worker would
    ever take it."""
    if runner() != "rq":
        return False
    from rq.job import Job as RQJob

    return not RQJob.exists(_rq_id(job), connection=queue().connection)


def enqueue(job: Job) -> None:
    """Hand a queued job to its runner (JOBS_RUNNER)."""
    how = runner()
    if how == "rq":
        queue().enqueue(rq_entry, job.id, job_id=_rq_id(job),
                        job_timeout=int(current_app.config.get("JOBS_TIMEOUT_SECONDS", 3600)))
    elif how == "thread":
        app = current_app._get_current_object()
        threading.Thread(target=_in_thread, args=(app, job.id), daemon=True, name=f"job-{job.id}").start()
    elif how == "sync":
        run(job.id)
        db.session.refresh(job)
    # "none": left queued (tests run it themselves)


def _in_thread(app, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def queue():
    """The RQ queue (JOBS_QUEUE) on REDIS_URL."""
    from redis import Redis
    from rq import Queue

    return Queue(current_app.config["JOBS_QUEUE"], connection=Redis.from_url(current_app.config["REDIS_URL"]))


def rq_entry(job_id: int) -> str:
    """What RQ runs for an export job: `run` in the app's context."""
    return in_app(run, job_id)


def in_app(fn, *args):
    """`fn(*args)` in the app's context: the jobs-worker's own (one context for every job: nothing kept from the
    last one), or, under a plain `rq worker`, an app made from the environment as wsgi.py makes it."""
    from flask import has_app_context

    if has_app_context():
        db.session.rollback()
        db.session.expire_all()
        return fn(*args)
    from .. import create_app

    with create_app().app_context():
        try:
            return fn(*args)
        finally:
            db.session.remove()
