"""Publications: each publication of a round frozen as it was (issue 17), append-only, version 1, 2, …

A publication holds what the official outputs show — the results page and API once published, the 正式 eligibility
sheet, the 通报, the district workbook — so that an unlock, a unit's move or a rename changes none of them until the
round is published again. Rows are written once, in the publishing transaction, and never updated; `sha256` is
taken over a canonical serialization of the rows (services.snapshots.canonical) and `verify-publication` checks it.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime


class Publication(db.Model):
    """One published version of a round's results, with the settings the results were computed under."""

    __tablename__ = "publications"
    # Of two publishers who both read version N, one writes N + 1; the other's insert fails here (a 409).
    __table_args__ = (UniqueConstraint("round_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    round_name: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_name: Mapped[str] = mapped_column(String(100))
    threshold: Mapped[Decimal] = mapped_column(Points)
    tolerance: Mapped[Decimal] = mapped_column(Points)
    # {"township": {"id", "code", "name", "version", "bonus_cap"}, "village": {...}}
    catalogues: Mapped[dict] = mapped_column(JSON)
    # {"township": {"mode", "amount_fen", "bands": [[min, max|None, amount_fen, label]]} | None, "village": ...}
    rules: Mapped[dict] = mapped_column(JSON)
    unit_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # The seal (services.seals): the id of the key it was made with (kept in the configuration, not here) and the
    # HMAC of this row; NULL on versions published before seals, until `flask seal-publications` seals them.
    seal_key: Mapped[str | None] = mapped_column(String(32))
    seal: Mapped[str | None] = mapped_column(String(64))
    # The rule its roll-ups (mean, lowest, highest, vetoed) are computed by when read (domain.aggregation.ROLLUP_RULE):
    # a version reads back with the figures it was published with. 1 for versions written before the column; sealed
    # when other than 1 (services.seals), so old seals still verify.
    figures_rule: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The 通报's 文号 (云溪民发〔2026〕3号), written with the version and never changed; NULL on versions published
    # before numbering (their 通报 leaves the number to be written by hand).
    doc_number: Mapped[str | None] = mapped_column(String(60))
    # A republished version: why it replaces the one before (the unlocks' reasons), as its 通报 says.
    replaces_reason: Mapped[str | None] = mapped_column(Text)

    units: Mapped[list["PublishedUnit"]] = relationship(
        back_populates="publication", order_by="PublishedUnit.position", cascade="all, delete-orphan",
        passive_deletes=True)


class PublishedUnit(db.Model):
    """A unit in scope as it stood at publication: names and township as they were, totals, result, money."""

    __tablename__ = "published_units"
    __table_args__ = (UniqueConstraint("publication_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # report order (township, its villages)
    unit_id: Mapped[int] = mapped_column(Integer)   # the unit's id then (for links; not a key of the record)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    township_code: Mapped[str | None] = mapped_column(String(32))
    township_name: Mapped[str] = mapped_column(String(200))
    self_sheet_id: Mapped[int | None] = mapped_column(Integer)
    final_sheet_id: Mapped[int | None] = mapped_column(Integer)
    final_status: Mapped[str | None] = mapped_column(String(16))
    self_total: Mapped[Decimal | None] = mapped_column(Points)
    score_sum: Mapped[Decimal | None] = mapped_column(Points)   # Σ indicator scores of the final sheet
    bonus_sum: Mapped[Decimal | None] = mapped_column(Points)   # Σ bonus items, before the cap
    final_total: Mapped[Decimal | None] = mapped_column(Points)
    vetoed: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[Decimal | None] = mapped_column(Points)
    place: Mapped[int] = mapped_column(Integer)
    # [[code, text, points, note]] and [[code, text, finding]]
    bonus_items: Mapped[list] = mapped_column(JSON)
    veto_findings: Mapped[list] = mapped_column(JSON)
    subsidy_basis: Mapped[str] = mapped_column(Text)
    subsidy_note: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    scores_sha256: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of this unit's indicator rows
    points_sha256: Mapped[str | None] = mapped_column(String(64))  # … of their codes and points only (seals)
    seal: Mapped[str | None] = mapped_column(String(64))           # HMAC of this row and its version (seals)

    publication: Mapped[Publication] = relationship(back_populates="units")


class PublishedScore(db.Model):
    """One indicator of a unit's final sheet at publication, with the members' deductions behind it."""

    __tablename__ = "published_scores"
    __table_args__ = (UniqueConstraint("publication_id", "unit_code", "indicator_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    indicator_code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    max_points: Mapped[Decimal] = mapped_column(Points)
    points: Mapped[Decimal | None] = mapped_column(Points)
    reason: Mapped[str] = mapped_column(Text)  # the leader's reason where the final differs from the mean
    # [{"member", "points", "rules": [[code, text, count, points_each | None (void)]], "free", "reason"}]
    deductions: Mapped[list] = mapped_column(JSON)
