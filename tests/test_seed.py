"""The demo seed: idempotent, complete, and giving every role live work."""
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import (
    AuditEvent, CatalogueVersion, Indicator, OrgUnit, Round, RoundUnit, Score, Sheet, Team, TeamMember, User,
)
from evalapp.services.seed import ROUND_2021, ROUND_2022, seed_demo
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

COUNTED = [OrgUnit, User, CatalogueVersion, Indicator, Round, RoundUnit, Team, TeamMember, Sheet, Score]


def _snapshot():
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    scores = db.session.execute(select(Score.sheet_id, Score.indicator_id, Score.points)
                                .order_by(Score.sheet_id, Score.indicator_id)).all()
    sheets = db.session.execute(select(Sheet.round_id, Sheet.unit_id, Sheet.kind, Sheet.slot, Sheet.status)
                                .order_by(Sheet.id)).all()
    return counts, scores, sheets


def test_seed_twice_gives_the_same_data(empty_app):
    first = seed_demo("pw-0123456789")
    snap = _snapshot()
    audit_rows = db.session.scalar(select(func.count(AuditEvent.id)))
    second = seed_demo("pw-0123456789")
    assert first == second
    assert _snapshot() == snap
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audit_rows
    assert snap[0]["OrgUnit"] == 1 + 5 + 38
    assert snap[0]["Round"] == 2


def test_seed_cli_prints_the_demo_password(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo-pass-2021" in result.output and "admin" in result.output


def test_seed_if_empty_skips_a_database_with_users(app):
    result = app.test_cli_runner().invoke(args=["seed-demo-if-empty"])
    assert "跳过" in result.output


def test_demo_round_2021_stands_in_inspection_with_submitted_self_assessments(app):
    round_ = db.session.scalar(select(Round).where(Round.name == ROUND_2021))
    assert round_.status == "inspection"
    lucheng = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "陆城镇"))
    team = db.session.scalar(select(Team).where(Team.round_id == round_.id, Team.name == "第一工作组"))
    assigned = {ru.unit.name for ru in team.units}
    assert assigned == {"陆城镇", "陆城村", "道仁矶社区"}
    self_sheets = db.session.scalars(select(Sheet).where(
        Sheet.round_id == round_.id, Sheet.kind == "self", Sheet.unit_id == lucheng.id)).all()
    assert [s.status for s in self_sheets] == ["submitted"]
    assert len(self_sheets[0].scores) == 25
    # two members × three units inspector sheets, three final sheets
    kinds = db.session.execute(select(Sheet.kind, func.count()).where(
        Sheet.round_id == round_.id, Sheet.unit_id.in_([ru.unit_id for ru in team.units]))
        .group_by(Sheet.kind)).all()
    assert dict(kinds) == {"self": 3, "inspector": 6, "final": 3}


def test_every_unit_in_scope_has_a_team_and_pilots_are_one_or_two_per_township(app):
    round_ = db.session.scalar(select(Round).where(Round.name == ROUND_2021))
    assert all(ru.team_id is not None for ru in round_.scope)
    per_township = {}
    for ru in round_.scope:
        if ru.unit.level == "village":
            per_township[ru.unit.parent.name] = per_township.get(ru.unit.parent.name, 0) + 1
    assert set(per_township.values()) <= {1, 2}


def test_demo_round_2022_stands_in_self_assessment(app):
    round_ = db.session.scalar(select(Round).where(Round.name == ROUND_2022))
    assert round_.status == "self_assessment"
    village = db.session.scalar(select(User).where(User.username == "village"))
    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.unit_id == village.unit_id))
    assert sheet.status == "draft" and sheet.kind == "self"
