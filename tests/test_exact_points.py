"""Points are exact on SQLite too (issue 16): stored as integer hundredths, so the sums that are not exact in binary
floating point (0.1 + 0.2, 0.79 …) are exact in the database, in SQL aggregates and in Python."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from evalapp.extensions import db
from evalapp.models import Indicator, Score, Sheet
from evalapp.models.base import Points
from evalapp.services import rounds, scores
from evalapp.services.results import round_report
from tests.test_results_version import World


@pytest.fixture
def world(empty_app):
    w = World()
    rounds.advance(w.round, w.admin)
    rounds.advance(w.round, w.admin)
    return w


TRAPS = [Decimal("0.10"), Decimal("0.20"), Decimal("0.49")]  # 0.1 + 0.2 + 0.49 = 0.79, not 0.79 in floats


def _store(sheet: Sheet, user, values: list[Decimal]) -> list[Indicator]:
    catalogue_id = sheet.round.catalogue_for(sheet.unit.level).id
    chosen = db.session.scalars(select(Indicator).where(Indicator.catalogue_id == catalogue_id, Indicator.points >= 1)
                                .order_by(Indicator.id).limit(len(values))).all()
    for indicator, value in zip(chosen, values):
        scores.store_score(sheet, indicator, user, 0, points=value, direct_score=value, free_deduction=Decimal(0),
                           reason="测试", note="", deductions={})
    return chosen


def test_float_trap_sums_are_exact_in_the_database_and_in_python(world):
    sheet = world.sheet("甲村", "inspector", world.member)
    _store(sheet, world.member, TRAPS)
    db.session.expire_all()
    stored = db.session.get(Sheet, sheet.id)
    assert stored.score_sum == Decimal("0.79") and str(stored.score_sum) == "0.79"
    raw = db.session.execute(text("SELECT score_sum FROM sheets WHERE id = :id"), {"id": sheet.id}).scalar()
    assert raw == 79 and isinstance(raw, int)  # hundredths, an integer: nothing to round
    total = db.session.execute(select(func.sum(Score.points)).where(Score.sheet_id == sheet.id)).scalar()
    assert total == Decimal("0.79")
    difference = db.session.execute(select(func.sum(Indicator.points - Score.points)).select_from(Score)
                                    .join(Indicator, Indicator.id == Score.indicator_id)
                                    .where(Score.sheet_id == sheet.id)).scalar()
    points = db.session.execute(select(func.sum(Indicator.points)).select_from(Indicator)
                                .join(Score, Score.indicator_id == Indicator.id)
                                .where(Score.sheet_id == sheet.id)).scalar()
    assert difference == points - Decimal("0.79")


def test_many_small_values_add_up_exactly(world):
    """Thirty scores of 0.1 (or 0.01 …) add up to exactly 3.00 in the stored sum the results read."""
    sheet = world.sheet("甲村", "final")
    indicators = _store(sheet, world.leader, [Decimal("0.10")] * 30)
    db.session.expire_all()
    expected = Decimal("0.10") * len(indicators)
    assert db.session.get(Sheet, sheet.id).score_sum == expected
    row = next(r for r in round_report(db.session.get(type(world.round), world.round.id)).rows
               if r.unit.final_sheet_id == sheet.id)
    assert row.unit.final_total == expected + 0  # no bonus here
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("SELECT typeof(points) FROM scores LIMIT 1")).scalar() == "integer"


def test_the_type_rounds_half_up_and_reads_two_places():
    points = Points()
    assert points.process_bind_param(Decimal("95"), None) == 9500
    assert points.process_bind_param(Decimal("0.005"), None) == 1  # half-up, as NUMERIC(…, 2) stored it
    assert points.process_bind_param(None, None) is None
    assert str(points.process_result_value(9499, None)) == "94.99"
    assert str(points.process_result_value(0, None)) == "0.00"
