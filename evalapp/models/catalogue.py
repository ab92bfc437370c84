"""Versioned acceptance-indicator catalogues (评估验收指标)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow


class CatalogueVersion(db.Model):
    __tablename__ = "catalogue_versions"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("level IN ('township', 'village')", name="level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    total: Mapped[Decimal] = mapped_column(Points)
    bonus_cap: Mapped[Decimal] = mapped_column(Points)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    categories: Mapped[list["Category"]] = relationship(
        back_populates="catalogue", order_by="Category.position", cascade="all, delete-orphan"
    )
    bonus_items: Mapped[list["BonusItem"]] = relationship(
        order_by="BonusItem.position", cascade="all, delete-orphan"
    )
    veto_items: Mapped[list["VetoItem"]] = relationship(order_by="VetoItem.position", cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code} 第{self.version}版）"


class Category(db.Model):
    """一级指标."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("catalogue_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(Points)
    position: Mapped[int] = mapped_column(Integer, default=0)

    catalogue: Mapped[CatalogueVersion] = relationship(back_populates="categories")
    indicators: Mapped[list["Indicator"]] = relationship(
        back_populates="category", order_by="Indicator.position", cascade="all, delete-orphan"
    )


class Indicator(db.Model):
    """二级指标: the unit that is scored."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("catalogue_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Denormalised from the category so that codes are unique per catalogue.
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    points: Mapped[Decimal] = mapped_column(Points)
    methods: Mapped[str] = mapped_column(String(200), default="")  # 、-separated
    evidence: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[Category] = relationship(back_populates="indicators")
    rules: Mapped[list["DeductionRule"]] = relationship(
        back_populates="indicator", order_by="DeductionRule.position", cascade="all, delete-orphan"
    )

    @property
    def method_list(self) -> list[str]:
        return [m for m in self.methods.split("、") if m]


class DeductionRule(db.Model):
    """扣分项: `per` points per occurrence, or `void` (the indicator scores 0)."""

    __tablename__ = "deduction_rules"
    __table_args__ = (
        UniqueConstraint("catalogue_id", "code"),
        CheckConstraint("(void AND per IS NULL) OR (NOT void AND per > 0)", name="per_or_void"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(300))
    per: Mapped[Decimal | None] = mapped_column(Points)
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    indicator: Mapped[Indicator] = relationship(back_populates="rules")


class BonusItem(db.Model):
    """加分项: added on top of the total, capped by the catalogue's bonus_cap."""

    __tablename__ = "bonus_items"
    __table_args__ = (UniqueConstraint("catalogue_id", "code"), CheckConstraint("points > 0", name="points"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(300))
    points: Mapped[Decimal] = mapped_column(Points)
    position: Mapped[int] = mapped_column(Integer, default=0)


class VetoItem(db.Model):
    """一票否决: a confirmed finding fails the unit whatever its points."""

    __tablename__ = "veto_items"
    __table_args__ = (UniqueConstraint("catalogue_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
