"""The 评估总结 to 市民政局 (issue 33, point 4): what the district writes for a round's summary (the narrative
paragraphs, the 签发人, the 文号 once taken) and the Word template the district owns (its uploads; none in force:
the default, built by services.summary_doc)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class RoundSummary(db.Model):
    """A round's 评估总结 as the district writes it: one row per round, the three narrative sections (做法和成效,
    问题分析, 建议) placed in the file each time it is generated, the 签发人 last used, and the 文号 taken at the
    first generation (every later generation of the round's summary carries the same number)."""

    __tablename__ = "round_summaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), unique=True)
    practice: Mapped[str] = mapped_column(Text, default="")   # 做法和成效
    analysis: Mapped[str] = mapped_column(Text, default="")   # 问题分析
    advice: Mapped[str] = mapped_column(Text, default="")     # 建议
    signer: Mapped[str] = mapped_column(String(50), default="")  # 签发人
    doc_number: Mapped[str | None] = mapped_column(String(60))   # 发文字号, taken once (services.doc_numbers)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SummaryTemplate(db.Model):
    """A Word template the district uploaded for the 评估总结. The newest row not retired is in force; restoring
    the default retires them all (the rows stay: which template made which file is in the audit log)."""

    __tablename__ = "summary_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
