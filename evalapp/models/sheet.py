"""Sheets (评分表), scores, evidence files and the sheet's history."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, JSON, String, Text, UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow
from .catalogue import BonusItem, DeductionRule, Indicator, VetoItem
from .org import OrgUnit
from ..domain.vocabulary import SheetKind, SheetStatus
from .round import Round
from .user import User

SHEET_KINDS = ("self", "inspector", "final")
SHEET_KIND_LABELS = SheetKind.zh_labels()  # Chinese: stored texts (messages, audit); pages use the vocabulary
SHEET_STATUSES = ("draft", "submitted", "returned", "approved", "closed")
# closed (未提交): a member's draft closed when the round moved on or the member left the team; kept for the audit,
# left out of the members' mean.
SHEET_STATUS_LABELS = SheetStatus.zh_labels()


class Sheet(db.Model):
    __tablename__ = "sheets"
    __table_args__ = (
        # NULLs never collide in a unique key, so the key uses `slot` (0, or the inspector's id), never NULL.
        UniqueConstraint("round_id", "unit_id", "kind", "slot"),
        CheckConstraint("kind IN ('self', 'inspector', 'final')", name="kind"),
        CheckConstraint("status IN ('draft', 'submitted', 'returned', 'approved', 'closed')", name="status"),
        CheckConstraint(
            "(kind = 'inspector' AND inspector_id IS NOT NULL AND slot = inspector_id)"
            " OR (kind <> 'inspector' AND inspector_id IS NULL AND slot = 0)",
            name="slot",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text, default="")  # 工作总结 (self sheets)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # submitted after the deadline (逾期)
    # An admin unlocked this sheet of a published round (with a reason); cleared on republication.
    unlocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The sheet's figures, kept by services.figures.refresh_figures in the transaction of every change to its scores,
    # bonus items or vetoes, so results read one row per sheet instead of summing every score.
    score_sum: Mapped[Decimal] = mapped_column(Points, default=Decimal("0.00"),
                                               server_default="0")
    scored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bonus_sum: Mapped[Decimal] = mapped_column(Points, default=Decimal("0.00"),
                                               server_default="0")
    vetoed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    figures_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # services.figures
    # 代填: the township lead who last filled in this village's self sheet for it, the village having no account
    # (access.fills_for_village); kept when the village gets one, so the sheet stays marked (services.proxy).
    proxy_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[Round] = relationship()
    unit: Mapped[OrgUnit] = relationship()
    inspector: Mapped[User | None] = relationship(foreign_keys=[inspector_id])
    proxy_by: Mapped[User | None] = relationship(foreign_keys=[proxy_by_id])
    scores: Mapped[list["Score"]] = relationship(back_populates="sheet", cascade="all, delete-orphan")
    bonuses: Mapped[list["SheetBonus"]] = relationship(cascade="all, delete-orphan")
    vetoes: Mapped[list["SheetVeto"]] = relationship(cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return SHEET_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return SHEET_STATUS_LABELS[self.status]


class Score(db.Model):
    """One indicator on one sheet. `points` is the score the rules computed, kept for SQL aggregation; NULL when the
    row holds only a note (the indicator is unscored)."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("sheet_id", "indicator_id"),
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("free_deduction >= 0", name="free_deduction"),
        CheckConstraint("direct_score IS NULL OR direct_score >= 0", name="direct_score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    points: Mapped[Decimal | None] = mapped_column(Points)
    direct_score: Mapped[Decimal | None] = mapped_column(Points)  # typed directly instead of deductions
    free_deduction: Mapped[Decimal] = mapped_column(Points, default=Decimal("0.00"))
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Final sheets: the submitted member scores the value was decided from, [{"sheet_id", "version", "points"}].
    basis: Mapped[list | None] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sheet: Mapped[Sheet] = relationship(back_populates="scores")
    indicator: Mapped[Indicator] = relationship()
    deductions: Mapped[list["ScoreDeduction"]] = relationship(
        back_populates="score", cascade="all, delete-orphan"
    )
    updated_by: Mapped[User | None] = relationship()

    # Every ORM update of a score adds one to `version`, on the condition that the row still holds the version it
    # was read with (StaleDataError otherwise): two concurrent writers cannot both win (services.scores.store_score).
    __mapper_args__ = {"version_id_col": version}


class ScoreDeduction(db.Model):
    """A deduction rule applied `count` times (a void rule: count 1)."""

    __tablename__ = "score_deductions"
    __table_args__ = (UniqueConstraint("score_id", "rule_id"), CheckConstraint("count > 0", name="count"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("deduction_rules.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)

    score: Mapped[Score] = relationship(back_populates="deductions")
    rule: Mapped[DeductionRule] = relationship()


class SheetBonus(db.Model):
    """A bonus item (加分项) recorded on a sheet."""

    __tablename__ = "sheet_bonuses"
    __table_args__ = (UniqueConstraint("sheet_id", "bonus_item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"))
    bonus_item_id: Mapped[int] = mapped_column(ForeignKey("bonus_items.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[BonusItem] = relationship()


class SheetVeto(db.Model):
    """A veto finding (一票否决) with its description."""

    __tablename__ = "sheet_vetoes"
    __table_args__ = (UniqueConstraint("sheet_id", "veto_item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"))
    veto_item_id: Mapped[int] = mapped_column(ForeignKey("veto_items.id"))
    description: Mapped[str] = mapped_column(Text)

    item: Mapped[VetoItem] = relationship()


class SheetTransition(db.Model):
    """History of a sheet's status: who moved it, when, with what comment."""

    __tablename__ = "sheet_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


class ReviewComment(db.Model):
    """A reviewer's comment on one indicator of a sheet (township lead or district reviewer)."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class EvidenceFile(db.Model):
    """A photo or document. Stored under the instance folder by `storage_key`, never by its own name."""

    __tablename__ = "evidence_files"
    __table_args__ = (CheckConstraint("kind IN ('photo', 'document')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))
    kind: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    thumb_key: Mapped[str | None] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Provenance of a photo (issue 34, migration 0028): `sha256` is of the upload as received, kept privately under
    # `original_key` (EXIF, GPS and all: only district and admin open it) until the retention period ends
    # (`original_deleted_at`); the shown copy and the thumbnail have their own hashes; the camera's capture time
    # (its own clock, as EXIF gives it) and place (microdegrees) are read before EXIF is stripped from the copy.
    original_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    original_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stored_sha256: Mapped[str | None] = mapped_column(String(64))
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime)
    gps_lat_e6: Mapped[int | None] = mapped_column(Integer)
    gps_lon_e6: Mapped[int | None] = mapped_column(Integer)

    sheet: Mapped[Sheet] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
