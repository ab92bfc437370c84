"""Signatures on a unit's 评分表 (the final sheet), drawn on the tablet (issue 19, point 6).

Each row is one drawing by one signer — a team member (评估员), the team leader (工作组组长) or the evaluated unit's
representative (被评单位代表, who need not be a user: they type their name on the inspector's tablet). The strokes are
kept as vector data (normalised to a 1000 × 400 box, times in ms) and as the PNG the server draws from them; the row
holds the SHA-256 of the sheet's content when it was signed (services.signatures.content_digests), so any later
change shows as 签名后有改动. Rows are never updated but for `superseded_at`, set when the same signer signs again;
nothing is deleted while the sheet exists.
"""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, JSON, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User


class Signature(db.Model):
    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint("role IN ('inspector', 'leader', 'representative')", name="role"),
        CheckConstraint("(role = 'representative') = (signer_id IS NULL)", name="signer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the unit's representative
    signer_name: Mapped[str] = mapped_column(String(100))
    strokes: Mapped[list] = mapped_column(JSON)   # [[[x, y, t], ...], ...] in the 1000 × 400 box
    image: Mapped[bytes] = mapped_column(LargeBinary)  # PNG drawn by the server from the strokes
    content_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # whose tablet (session) recorded it
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Drawn offline (issue 31): the device's clock when drawn, the indicator versions the signer saw (code →
    # version), and whether any of them had moved when it reached the server (签名后有改动 from the start).
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_versions: Mapped[dict | None] = mapped_column(JSON)
    changed_after: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
