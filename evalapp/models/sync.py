"""Offline tablets (issue 31): the operations a device sent through the sync call, each applied once, and what each
device last reported it still holds unsent.

`SyncOperation`: one row per operation id a user's device sent (unique per user: a replay finds the row and is
answered with the stored answer, never applied twice), written in the same transaction as the change it made (or
on its own, for a refusal), with the answer the client got. `DevicePending`: per user, device and sheet, how many
changes the device said it still holds unsent (a device report or a sync call); a member sheet with such changes is
not submitted (services.devices).
"""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class SyncOperation(db.Model):
    __tablename__ = "sync_operations"
    __table_args__ = (UniqueConstraint("user_id", "op_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    op_id: Mapped[str] = mapped_column(String(36))            # the client's uuid, lower case
    device_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))             # score, signature
    sheet_id: Mapped[int | None] = mapped_column(Integer, index=True)  # (no key: a refused one may name no sheet)
    indicator: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16))           # applied, equal, conflict, rejected
    http: Mapped[int] = mapped_column(Integer)                # the status the single call would have answered
    answer: Mapped[dict] = mapped_column(JSON)                # the body the single call would have answered
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DevicePending(db.Model):
    __tablename__ = "device_pending"
    __table_args__ = (UniqueConstraint("user_id", "device_id", "sheet_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str] = mapped_column(String(64))
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
