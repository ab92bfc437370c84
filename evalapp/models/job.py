"""Long work (issue 34, point 2): an export or document built by a job worker (services.jobs), its progress and its
result file, one row per distinct request (`key`): the same request for the same data finds the same row."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "failed", "expired")


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'expired')", name="state"),
        CheckConstraint("done >= 0 AND total >= 0", name="progress"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))          # results_workbook, audit_export, evidence_zip
    params: Mapped[dict] = mapped_column(JSON)             # what the job function is given (ids, filters, audience)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of kind, params and the data's version
    state: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_key: Mapped[str | None] = mapped_column(String(100))   # services.storage key of the file
    result_name: Mapped[str | None] = mapped_column(String(255))  # the name it is downloaded as
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    result_size: Mapped[int | None] = mapped_column(BigInteger)  # a zip may pass 2 GiB
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
