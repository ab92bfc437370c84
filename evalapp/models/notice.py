"""After publication (issue 32, points 2–4): the working-day calendar, the 公示 period of a published version, the
units' objections (异议) with their evidence, and the re-check groups (复核) that answer them."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow
from .org import OrgUnit
from .round import Round
from .user import User


class CalendarDay(db.Model):
    """A day the district's calendar takes out of the week's rule: a holiday (休) or a 调休 working day (班)."""

    __tablename__ = "calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(100), default="")


class NoticePeriod(db.Model):
    """公示: a published version of a round shown to the units for `length` working days from `start`; objections
    are in time until 24:00 Beijing time on `last_day`. One per round (a later version is 公示'd by reopening it)."""

    __tablename__ = "notice_periods"
    __table_args__ = (
        UniqueConstraint("round_id"),
        CheckConstraint("length >= 1", name="length"),
        CheckConstraint("answer_days >= 1", name="answer_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)  # the published version shown
    start: Mapped[date] = mapped_column(Date)
    length: Mapped[int] = mapped_column(Integer)  # working days
    last_day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    answer_days: Mapped[int] = mapped_column(Integer, default=15)  # 复核 answered within, from assignment
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 结果确定: every objection answered (or none), the final version published or confirmed.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_version: Mapped[int | None] = mapped_column(Integer)

    round: Mapped[Round] = relationship()
    opened_by: Mapped[User] = relationship()


OBJECTION_TARGETS = ("indicator", "bonus", "veto")
OBJECTION_STATUSES = ("open", "assigned", "upheld", "changed")


class Objection(db.Model):
    """异议: a unit contests one indicator, bonus item or veto finding of its published result, in writing."""

    __tablename__ = "objections"
    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        CheckConstraint("target IN ('indicator', 'bonus', 'veto')", name="target"),
        CheckConstraint("status IN ('open', 'assigned', 'upheld', 'changed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice_periods.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 受理编号, sequential per round
    year: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))  # the indicator's, bonus item's or veto item's code
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    on_paper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    objector: Mapped[str] = mapped_column(String(100), default="")  # who signed the paper objection
    status: Mapped[str] = mapped_column(String(16), default="open")
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_on: Mapped[date | None] = mapped_column(Date)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    final_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[Decimal | None] = mapped_column(Points)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[OrgUnit] = relationship()
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    files: Mapped[list["ObjectionFile"]] = relationship(cascade="all, delete-orphan", order_by="ObjectionFile.id")
    reviewers: Mapped[list["ObjectionReviewer"]] = relationship(cascade="all, delete-orphan",
                                                                order_by="ObjectionReviewer.id")

    @property
    def receipt(self) -> str:
        """受理编号 as written on paper: 异议〔2026〕第3号."""
        return f"异议〔{self.year}〕第{self.number}号"


class ObjectionFile(db.Model):
    """Evidence filed with an objection, checked by content as the self-assessment documents are."""

    __tablename__ = "objection_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObjectionReviewer(db.Model):
    """A member of an objection's re-check group (复核组); the leader enters the decided value on the sheet."""

    __tablename__ = "objection_reviewers"
    __table_args__ = (UniqueConstraint("objection_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Reminder(db.Model):
    """An in-app reminder of a deadline near or passed, written by `flask notice-reminders` (services.reminders):
    one per person, subject (`key`: "decide:12", "object:3:45") and day."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("user_id", "key", "sent_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    sent_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
