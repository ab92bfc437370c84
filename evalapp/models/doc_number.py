"""文号 sequences: one row per (issuing office, kind of document, year) holding the last number given out
(services.doc_numbers takes the next one under the row's lock)."""
from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DocSequence(db.Model):
    __tablename__ = "doc_sequences"
    __table_args__ = (UniqueConstraint("office", "kind", "year"), CheckConstraint("last >= 0", name="last"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)
