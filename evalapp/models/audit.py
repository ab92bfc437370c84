"""Audit events: append-only record of every change that matters, each row MACed and linked (domain.audit_trail),
sealed in checkpoints over the exact ids they cover (AuditCheckpoint, services.audit_trail)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User

_UNSEALED = text("sealed_in IS NULL")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        # the previous row of a chain, read before every insert (services.audit.record)
        Index("ix_audit_events_chain_id", "chain", "id"),
        # what the next checkpoint seals (services.audit_trail.seal): small, rows leave it when sealed
        Index("ix_audit_events_unsealed", "id", postgresql_where=_UNSEALED, sqlite_where=_UNSEALED),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    old: Mapped[dict | None] = mapped_column(JSON)
    new: Mapped[dict | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    # The trail (NULL on rows written before migration 0032 until `flask backfill-audit`): the chain (object or
    # actor), the previous row of that chain and the newest row the writer saw (plain ids, no foreign keys: a
    # deleted row is what the check reports), the key id and the HMAC; the checkpoint that sealed the row.
    chain: Mapped[str | None] = mapped_column(String(48))
    prev_id: Mapped[int | None] = mapped_column(Integer)
    seen_id: Mapped[int | None] = mapped_column(Integer)
    mac_key: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))
    sealed_in: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User | None] = relationship()


class AuditCheckpoint(db.Model):
    """A seal over the exact ids of the audit rows it lists (`ids` as runs, "1-500,502-900"), in id order, chained
    to the previous checkpoint by its MAC. `id` is the checkpoint's number: 1, 2, 3… with no gap."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    ids: Mapped[str] = mapped_column(Text)
    mac_key: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))
