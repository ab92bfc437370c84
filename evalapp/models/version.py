"""The results version of each round: what cached results are keyed by (services.versions)."""
from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ResultsVersion(db.Model):
    """`n` goes up by one in every transaction that changes what the round's results are computed from; the service
    that makes the change adds it (services.versions.bump), as the last write before its commit."""

    __tablename__ = "results_versions"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
