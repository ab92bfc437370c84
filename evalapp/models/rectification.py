"""After the scores (issue 32, points 5 and 7): 整改 (a failing unit's rectification notice, extensions, its report),
复查 (the re-inspection, a result of its own beside the published one, which never changes) and 约谈.

The unit's code, name and township are copied from the published version the notice was issued on, as the 通知
printed them; the unit's id is kept for scope checks.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow

RECTIFICATION_STATUSES = ("issued", "reported", "passed", "failed")
EXTENSION_DEADLINES = ("report", "complete")
EXTENSION_DECISIONS = ("granted", "refused")
RECHECK_SCOPES = ("failed", "all")
RECHECK_OUTCOMES = ("passed", "failed")
FILE_PURPOSES = ("report", "minutes", "interview_report")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Rectification(db.Model):
    """A 整改通知 issued to a unit that did not pass in a published version, and where its rectification stands."""

    __tablename__ = "rectifications"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),
                      CheckConstraint(_in("status", RECTIFICATION_STATUSES), name="status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    unit_name: Mapped[str] = mapped_column(String(200))
    unit_level: Mapped[str] = mapped_column(String(16))
    township_name: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))        # the published result (never changes)
    final_total: Mapped[Decimal | None] = mapped_column(Points)
    number: Mapped[str | None] = mapped_column(String(64))  # 文号 (services.doc_numbers, taken when issued)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    report_due: Mapped[date] = mapped_column(Date)
    complete_due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    report_text: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rechecks_allowed: Mapped[int] = mapped_column(Integer, default=1)  # one chance unless the district opens a second

    extensions: Mapped[list["RectificationExtension"]] = relationship(
        order_by="RectificationExtension.id", back_populates="rectification")
    rechecks: Mapped[list["Recheck"]] = relationship(order_by="Recheck.attempt", back_populates="rectification")
    files: Mapped[list["RectifyFile"]] = relationship(
        primaryjoin="RectifyFile.rectification_id == Rectification.id", order_by="RectifyFile.id", viewonly=True)


class RectificationExtension(db.Model):
    """The unit asks for a later report or completion date, with a reason; the district grants (the new date) or
    refuses (with why)."""

    __tablename__ = "rectification_extensions"
    __table_args__ = (CheckConstraint(_in("deadline", EXTENSION_DEADLINES), name="deadline"),
                      CheckConstraint(f"decision IS NULL OR {_in('decision', EXTENSION_DECISIONS)}", name="decision"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"), index=True)
    deadline: Mapped[str] = mapped_column(String(16))
    asked_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    granted_date: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rectification: Mapped[Rectification] = relationship(back_populates="extensions")


class Recheck(db.Model):
    """A 复查: a team the district assigned re-inspects the failed indicators (or all) and records 整改后通过 or
    仍不合格 — a result beside the published one."""

    __tablename__ = "rechecks"
    __table_args__ = (UniqueConstraint("rectification_id", "attempt"),
                      CheckConstraint(_in("scope", RECHECK_SCOPES), name="scope"),
                      CheckConstraint(f"outcome IS NULL OR {_in('outcome', RECHECK_OUTCOMES)}", name="outcome"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    scope: Mapped[str] = mapped_column(String(8))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(8))
    total: Mapped[Decimal | None] = mapped_column(Points)
    veto_resolved: Mapped[bool | None] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rectification: Mapped[Rectification] = relationship(back_populates="rechecks")
    scores: Mapped[list["RecheckScore"]] = relationship(order_by="RecheckScore.id", back_populates="recheck")


class RecheckScore(db.Model):
    """One indicator as the 复查 found it."""

    __tablename__ = "recheck_scores"
    __table_args__ = (UniqueConstraint("recheck_id", "indicator_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recheck_id: Mapped[int] = mapped_column(ForeignKey("rechecks.id", ondelete="CASCADE"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    max_points: Mapped[Decimal] = mapped_column(Points)
    published_points: Mapped[Decimal | None] = mapped_column(Points)
    points: Mapped[Decimal] = mapped_column(Points)
    note: Mapped[str] = mapped_column(Text, default="")

    recheck: Mapped[Recheck] = relationship(back_populates="scores")


class Interview(db.Model):
    """A 约谈 with a unit's leaders: who took part, the points raised, requirements with deadlines, the minutes (a
    file), the unit's written report (due in 30 days) and the district's check; its 约谈通报, once published, is
    frozen (`notice`)."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[str] = mapped_column(Text)
    points_raised: Mapped[str] = mapped_column(Text)
    requirements: Mapped[list] = mapped_column(JSON)  # [[text, "YYYY-MM-DD"]]
    report_due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    report_text: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    check_note: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[str | None] = mapped_column(String(64))  # the 约谈通报's 文号 (taken when published)
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice: Mapped[dict | None] = mapped_column(JSON)  # the 通报 as published: never changes afterwards

    unit = relationship("OrgUnit")
    files: Mapped[list["RectifyFile"]] = relationship(
        primaryjoin="RectifyFile.interview_id == Interview.id", order_by="RectifyFile.id", viewonly=True)


class RectifyFile(db.Model):
    """A file of a rectification or a 约谈 (整改报告, 约谈纪要, the unit's written report), checked by content
    (services.filecheck) and stored under a generated name."""

    __tablename__ = "rectify_files"
    __table_args__ = (CheckConstraint(_in("purpose", FILE_PURPOSES), name="purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int | None] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"),
                                                         index=True)
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
