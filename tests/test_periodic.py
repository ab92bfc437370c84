"""Periodic work on the job queue (issue 34, point 2): RQ's cron scheduler (`flask jobs-cron`) puts the reminders,
the job sweep and the audit seal on the jobs queue at their Beijing times, and RQ's worker runs them in the app's
context — tested against the real Redis that .ci/run starts (database 15), the scheduler's times by its own code."""
import os
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditCheckpoint, Reminder
from evalapp.services import periodic
from tests.factories import VILLAGE
from tests.test_jobs import _work as work, rq_queue as queued  # noqa: F401  (the fixture)
from tests.test_notice_reminders import pauses  # noqa: F401  (the fixture)
from tests.test_objections import noticed  # noqa: F401  (the fixture)


@pytest.fixture
def beijing():
    """The process in Beijing time, as `flask jobs-cron` runs, and back after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = periodic.ZONE
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_schedule_puts_each_task_on_the_jobs_queue_at_its_beijing_time(empty_app, queued, beijing):
    cron = periodic.scheduler(queued.connection)
    by_name = {job.func_name.rsplit(".", 1)[-1]: job for job in cron.get_jobs()}
    assert set(by_name) == {"notice_reminders", "sweep_jobs", "seal_audit"}
    assert {job.queue_name for job in by_name.values()} == {queued.name}
    reminders_at = by_name["notice_reminders"].next_enqueue_time.astimezone(timezone.utc)
    # 08:30 in Beijing is 00:30 UTC, whatever day it is now
    assert (reminders_at.hour, reminders_at.minute) == (0, 30)
    assert by_name["sweep_jobs"].next_enqueue_time.second == 0


def test_the_reminders_run_from_the_queue_by_rqs_worker(empty_app, noticed, queued, pauses):  # noqa: F811
    """The cron job enqueued (as the scheduler does when its time comes) and run by RQ's worker: the day's
    reminders are written, by the one injected clock (Monday 14 December 2026, 08:30 in Beijing)."""
    noticed.clock.at = datetime(2026, 12, 14, 0, 30, tzinfo=timezone.utc)
    cron = periodic.scheduler(queued.connection)
    (reminding,) = [j for j in cron.get_jobs() if j.func_name.endswith(".notice_reminders")]
    reminding.enqueue(queued.connection)
    assert queued.count == 1
    work(queued)
    rows = db.session.scalars(select(Reminder).where(Reminder.user_id == noticed.people["village"].id)).all()
    assert [r.sent_on.isoformat() for r in rows] == ["2026-12-14"] and VILLAGE in rows[0].text
    reminding.enqueue(queued.connection)  # a second run the same day writes nothing new
    work(queued)
    assert db.session.query(Reminder).filter(Reminder.user_id == noticed.people["village"].id).count() == 1


def test_the_audit_seal_runs_from_the_queue(empty_app, noticed, queued):  # noqa: F811
    before = db.session.query(AuditCheckpoint).count()
    empty_app.config["AUDIT_SEAL_GRACE_SECONDS"] = 0
    cron = periodic.scheduler(queued.connection)
    (sealing,) = [j for j in cron.get_jobs() if j.func_name.endswith(".seal_audit")]
    sealing.enqueue(queued.connection)
    work(queued)
    assert db.session.query(AuditCheckpoint).count() > before


def test_without_redis_the_cron_command_says_to_use_the_timers(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["jobs-cron"])
    assert result.exit_code != 0 and "notice-reminders" in result.output
