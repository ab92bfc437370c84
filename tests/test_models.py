"""Constraints that keep duplicates and impossible values out of the database."""
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from evalapp.extensions import db
from evalapp.models import Indicator, OrgUnit, Round, Score, Sheet, User
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def _first_sheet(kind):
    return db.session.scalars(select(Sheet).where(Sheet.kind == kind).order_by(Sheet.id)).first()


def test_one_self_sheet_per_round_and_unit_even_though_inspector_is_null(app):
    sheet = _first_sheet("self")
    db.session.add(Sheet(round_id=sheet.round_id, unit_id=sheet.unit_id, kind="self", slot=0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_inspector_sheet_per_inspector(app):
    sheet = _first_sheet("inspector")
    db.session.add(Sheet(round_id=sheet.round_id, unit_id=sheet.unit_id, kind="inspector",
                         inspector_id=sheet.inspector_id, slot=sheet.inspector_id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_inspector_sheet_slot_must_match_the_inspector(app):
    sheet = _first_sheet("inspector")
    db.session.add(Sheet(round_id=sheet.round_id, unit_id=sheet.unit_id, kind="inspector",
                         inspector_id=sheet.inspector_id, slot=0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_score_per_sheet_and_indicator(app):
    score = db.session.scalars(select(Score)).first()
    db.session.add(Score(sheet_id=score.sheet_id, indicator_id=score.indicator_id, points=Decimal("1")))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_negative_points_are_refused_by_the_database(app):
    score = db.session.scalars(select(Score)).first()
    score.points = Decimal("-1")
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unit_codes_and_usernames_are_unique(app):
    db.session.add(OrgUnit(code="430603101", name="重复", level="township", kind="镇"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(User(username="admin", display_name="x", password_hash="x", role="admin"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_points_come_back_as_decimal(app):
    round_ = db.session.scalar(select(Round).order_by(Round.id))
    indicator = db.session.scalars(select(Indicator)).first()
    assert round_.threshold == Decimal("95.00") and isinstance(round_.threshold, Decimal)
    assert isinstance(indicator.points, Decimal)
