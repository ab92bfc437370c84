"""Periodic work on the job queue (issue 34, point 2): RQ's cron scheduler (`flask --app wsgi jobs-cron`, one per
deployment) puts these on the jobs queue at their times, read as Beijing time; a `jobs-worker` runs them in its
app's context, as it runs the exports. Without Redis (`make run`, one machine) the same work runs from cron or a
systemd timer through its command: `flask notice-reminders`, `flask jobs-sweep`, `flask seal-audit`
(docs/deploy.md)."""
from flask import current_app

from . import audit_trail, jobs, notices, reminders

ZONE = "Asia/Shanghai"  # the cron fields below are Beijing time (jobs-cron runs with TZ set to it)
SCHEDULE = (  # (the function RQ runs, when)
    ("notice_reminders", "30 8 * * *"),  # 公示, 异议 and 复核 deadlines: every morning at 08:30
    ("sweep_jobs", "* * * * *"),  # stale jobs failed, old files deleted: every minute
    ("seal_audit", "*/5 * * * *"),  # the audit log's checkpoints: every five minutes
)


class WebhookFailed(RuntimeError):
    """The reminders were written but the group robot did not take them (RQ keeps the job as failed)."""


def notice_reminders() -> str:
    return jobs.in_app(_remind)


def sweep_jobs() -> str:
    return jobs.in_app(_sweep)


def seal_audit() -> str:
    return jobs.in_app(_seal)


def _remind() -> str:
    sent = reminders.send(notices.today(), current_app.config.get("NOTICE_WEBHOOK_URL"))
    if sent.posted is False:
        raise WebhookFailed(f"{sent.written} reminders written, the webhook refused them (retried)")
    return f"{sent.written} reminders written, posted: {sent.posted}"


def _sweep() -> str:
    reaped, expired = jobs.sweep()
    return f"{reaped} stale jobs failed, {expired} files expired"


def _seal() -> str:
    sealed = audit_trail.seal()
    if sealed.stopped_at is not None:  # a row without its MAC: `flask verify-audit` names it
        raise RuntimeError(f"sealing stopped before audit row #{sealed.stopped_at}")
    return f"{len(sealed.checkpoints)} checkpoints"


def scheduler(connection):
    """RQ's cron scheduler with SCHEDULE registered on the jobs queue."""
    from rq.cron import CronScheduler

    cron = CronScheduler(connection=connection, name="evalapp-cron")
    for name, spec in SCHEDULE:
        cron.register(globals()[name], current_app.config["JOBS_QUEUE"], cron=spec, job_timeout=int(
            current_app.config.get("JOBS_TIMEOUT_SECONDS", 3600)))
    return cron
