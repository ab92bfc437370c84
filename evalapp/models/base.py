"""Shared column types and helpers for the models."""
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import DateTime, Integer, TypeDecorator

from ..domain.numbers import q2


class Points(TypeDecorator):
    """Points: integer hundredths in the database, Decimal with two places in Python.

    Exact on SQLite and PostgreSQL alike: SQLite keeps NUMERIC values as binary floating point, so a stored sum could
    be 0.7900000000000003 (issue 16); integers add up exactly. Sums, differences and comparisons in SQL keep the
    type (SUM(points) is hundredths too, `points < 1000` compares with 100000). AVG or a product would not: cast to
    Decimal in Python instead. A value with more than two places is rounded half-up, as a NUMERIC(…, 2) stored it.
    """

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int(q2(Decimal(value)).scaleb(2))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return q2(Decimal(value).scaleb(-2))


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use evalapp.models.base.utcnow()")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


ZERO = Decimal("0.00")
