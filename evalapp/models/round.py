"""Evaluation rounds (评估验收批次), the units in scope, teams and subsidy rules."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint,
    true as sa_true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain import vocabulary
from ..domain.doc_numbers import year_of_round
from ..domain.vocabulary import Rollout, RoundPhase
from ..extensions import db
from .base import Points, UTCDateTime, utcnow
from .catalogue import CatalogueVersion
from .org import OrgUnit
from .user import User

ROUND_STATUSES = tuple(vocabulary.ROUND_STATUSES)
ROUND_ROLLOUTS = tuple(Rollout)
# Chinese labels (the msgids), kept for the services' stored texts; pages translate them.
ROUND_ROLLOUT_LABELS = Rollout.zh_labels()
ROUND_STATUS_LABELS = {s.value: s.zh for s in vocabulary.ROUND_STATUSES}


def _default_year(context) -> int:
    """A round created without a 年度: the name's leading year, else this year (domain.doc_numbers)."""
    return year_of_round(context.get_current_parameters().get("name") or "", None)


class Round(db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint(
            "status IN ('setup', 'self_assessment', 'inspection', 'review', 'published')", name="status"
        ),
        CheckConstraint("threshold > 0", name="threshold"),
        CheckConstraint("rollout IN ('pilot', 'full')", name="rollout"),
        CheckConstraint("tolerance >= 0", name="tolerance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # 年度: the year its documents are numbered in (文号 〔2026〕) and its history is told by; set at creation.
    year: Mapped[int] = mapped_column(Integer, default=_default_year)
    status: Mapped[str] = mapped_column(String(20), default="setup")
    # 试点 (the pilot-village rule applies) or 全面推行; set at creation.
    rollout: Mapped[str] = mapped_column(String(8), default="pilot", server_default="pilot")
    threshold: Mapped[Decimal] = mapped_column(Points, default=Decimal("95.00"))
    tolerance: Mapped[Decimal] = mapped_column(Points, default=Decimal("1.00"))
    township_catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id"))
    village_catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id"))
    self_due: Mapped[date | None] = mapped_column(Date)  # villages submit to the township
    township_due: Mapped[date | None] = mapped_column(Date)  # townships submit to the district
    inspection_start: Mapped[date | None] = mapped_column(Date)
    inspection_end: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin unlocks a sheet of a published round, cleared on republication.
    changed_since_publication: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    township_catalogue: Mapped[CatalogueVersion] = relationship(foreign_keys=[township_catalogue_id])
    village_catalogue: Mapped[CatalogueVersion] = relationship(foreign_keys=[village_catalogue_id])
    scope: Mapped[list["RoundUnit"]] = relationship(back_populates="round", cascade="all, delete-orphan")
    teams: Mapped[list["Team"]] = relationship(back_populates="round", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        """The status's Chinese label (the msgid)."""
        return RoundPhase.zh_of(self.status)

    @property
    def rollout_label(self) -> str:
        """The rollout's Chinese label (the msgid)."""
        return Rollout.zh_of(self.rollout)

    def catalogue_for(self, level: str) -> CatalogueVersion:
        return self.township_catalogue if level == "township" else self.village_catalogue


class Team(db.Model):
    """工作组: members score, the leader (组长) owns the final sheet."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("round_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 组长是否评分 (issue 29, point 5): a scoring leader gets a member sheet per unit like any member and signs once
    # as both 组长 and 评估员; a non-scoring one only reconciles (no member sheet, not in the mean). Set before
    # inspection opens.
    leader_scores: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())

    round: Mapped[Round] = relationship(back_populates="teams")
    leader: Mapped[User | None] = relationship()
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team", cascade="all, delete-orphan")
    units: Mapped[list["RoundUnit"]] = relationship(back_populates="team")


class SetupUnlock(db.Model):
    """解锁设置 (issue 29, point 2): an admin opened a published round's set-up and teams for changes, with a reason.
    Open (closed_at NULL) until the next publication closes it; the changes made under it are that version's."""

    __tablename__ = "setup_unlocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_version: Mapped[int | None] = mapped_column(Integer)  # the version whose publication closed it

    opened_by: Mapped[User] = relationship()


class TeamMember(db.Model):
    __tablename__ = "team_members"
    # One team per inspector per round.
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class RoundUnit(db.Model):
    """A unit in a round's scope; `team_id` assigns it to exactly one team."""

    __tablename__ = "round_units"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)

    round: Mapped[Round] = relationship(back_populates="scope")
    unit: Mapped[OrgUnit] = relationship()
    team: Mapped[Team | None] = relationship(back_populates="units")


class SubsidyRule(db.Model):
    """奖补 rule for one level in one round: fixed amount, score bands, or a shared pool. Money in fen."""

    __tablename__ = "subsidy_rules"
    __table_args__ = (
        UniqueConstraint("round_id", "level"),
        CheckConstraint("level IN ('township', 'village')", name="level"),
        CheckConstraint("mode IN ('fixed', 'bands', 'pool', 'none')", name="mode"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount"),
        CheckConstraint("rectified_percent IS NULL OR (rectified_percent >= 0 AND rectified_percent <= 100)",
                        name="rectified_percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))
    # fixed: per passing unit; pool: the whole pool.
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    # A 整改后通过 unit gets this percentage of what it would have had as 合格; NULL: 暂缓 (issue 32, point 6).
    rectified_percent: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    bands: Mapped[list["SubsidyBand"]] = relationship(
        order_by="SubsidyBand.min_total", cascade="all, delete-orphan"
    )


class SubsidyBand(db.Model):
    """Totals in [min_total, max_total) get amount_fen; max_total NULL means no upper bound."""

    __tablename__ = "subsidy_bands"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("subsidy_rules.id", ondelete="CASCADE"), index=True)
    min_total: Mapped[Decimal] = mapped_column(Points)
    max_total: Mapped[Decimal | None] = mapped_column(Points)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(50), default="")
