"""Lineage across rounds (issue 33, point 1): how a catalogue version's indicators relate to the version it was
copied or imported from, and how a unit relates to the units (or codes) it was before.

A catalogue version has at most one lineage, to its predecessor: one row per relation (old indicator code → new
indicator code, typed same / renamed / split / merged / new / retired; domain.lineage). Filled by the app for
identical codes when the version is made, confirmed or edited by an admin, and frozen once a 评估总结 uses it.

A unit keeps its own lineage: each change of code (an official code imported, a code renamed) and each merger or
split, with the unit it came from where there is one, so a unit is the same unit across rounds whatever its code
became (services.history).
"""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.lineage import UnitChange
from ..extensions import db
from .base import UTCDateTime, utcnow

INDICATOR_RELATIONS = ("same", "renamed", "split", "merged", "new", "retired")
UNIT_CHANGES = ("official_code", "renamed", "merged", "split")


class CatalogueLineage(db.Model):
    """A catalogue version's link to the version before it (one per version)."""

    __tablename__ = "catalogue_lineages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), unique=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an admin confirmed the relations
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)  # used by a 评估总结: never changes again
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    links: Mapped[list["IndicatorLineage"]] = relationship(
        back_populates="lineage", order_by="IndicatorLineage.position", cascade="all, delete-orphan",
        passive_deletes=True)


class IndicatorLineage(db.Model):
    """One relation: `old_code` of the predecessor to `new_code` of the version (NULL on the side that has none:
    a new indicator has no old code, a retired one no new code)."""

    __tablename__ = "indicator_lineages"
    __table_args__ = (
        CheckConstraint("relation IN ('same', 'renamed', 'split', 'merged', 'new', 'retired')", name="relation"),
        CheckConstraint("old_code IS NOT NULL OR new_code IS NOT NULL", name="a_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lineage_id: Mapped[int] = mapped_column(ForeignKey("catalogue_lineages.id", ondelete="CASCADE"), index=True)
    old_code: Mapped[str | None] = mapped_column(String(32))
    new_code: Mapped[str | None] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(8))
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)  # filled by the app (identical codes)
    position: Mapped[int] = mapped_column(Integer, default=0)

    lineage: Mapped[CatalogueLineage] = relationship(back_populates="links")


class UnitLineage(db.Model):
    """A change in a unit's identity: its code changed (official code imported, code renamed), or it was made of
    (merged) or cut from (split) another unit, `predecessor_id`."""

    __tablename__ = "unit_lineages"
    __table_args__ = (
        CheckConstraint("change IN ('official_code', 'renamed', 'merged', 'split')", name="change"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    change: Mapped[str] = mapped_column(String(16))
    old_code: Mapped[str | None] = mapped_column(String(32))
    new_code: Mapped[str | None] = mapped_column(String(32))
    old_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def change_label(self) -> str:
        """The change in the interface's language."""
        return UnitChange.label_of(self.change)
