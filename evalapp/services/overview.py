"""Read-only overviews for the role home pages, each a fixed number of GROUP BY queries."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Indicator, OrgUnit, Round, RoundUnit, Sheet, Team, TeamMember, User
from .sheets import sheet_figures, sheet_total


@dataclass
class RoundSummary:
    round: Round
    units: int = 0
    by_kind_status: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))


def rounds_overview() -> list[RoundSummary]:
    """Every round, newest first, with its units in scope and sheet counts by kind and status."""
    rounds = db.session.scalars(select(Round).order_by(Round.id.desc())).all()
    summaries = {r.id: RoundSummary(r) for r in rounds}
    for round_id, n in db.session.execute(
            select(RoundUnit.round_id, func.count()).group_by(RoundUnit.round_id)):
        summaries[round_id].units = n
    for round_id, kind, status, n in db.session.execute(
            select(Sheet.round_id, Sheet.kind, Sheet.status, func.count())
            .group_by(Sheet.round_id, Sheet.kind, Sheet.status)):
        summaries[round_id].by_kind_status[kind][status] = n
    return list(summaries.values())


def indicator_counts() -> dict[int, int]:
    """Number of indicators per catalogue version."""
    return dict(db.session.execute(
        select(Indicator.catalogue_id, func.count()).group_by(Indicator.catalogue_id)).all())


@dataclass
class SheetRow:
    sheet: Sheet
    township: OrgUnit | None
    scored: int
    indicators: int
    total: object
    veto: bool


def sheet_rows(sheets: list[Sheet]) -> list[SheetRow]:
    """Progress rows (scored / total indicators, running total) for sheets, sorted by township then unit code."""
    figures = sheet_figures(s.id for s in sheets)
    counts = indicator_counts()
    rows = []
    for sheet in sheets:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        f = figures[sheet.id]
        township = sheet.unit if sheet.unit.level == "township" else sheet.unit.parent
        rows.append(SheetRow(sheet, township, f.scored, counts.get(catalogue.id, 0),
                             sheet_total(f, catalogue.bonus_cap) if f.scored else None, f.veto))
    rows.sort(key=lambda r: ((r.township.code if r.township else ""), r.sheet.unit.level != "township",
                             r.sheet.unit.code))
    return rows


def _sheets(query) -> list[Sheet]:
    return db.session.scalars(query.options(
        selectinload(Sheet.unit).selectinload(OrgUnit.parent),
        selectinload(Sheet.round).selectinload(Round.township_catalogue),
        selectinload(Sheet.round).selectinload(Round.village_catalogue),
    )).all()


def inspector_worklist(user: User) -> dict[Round, dict]:
    """For each round in inspection or review where the user is on a team: their sheets and, for a leader,
    the final sheets."""
    memberships = db.session.execute(
        select(TeamMember.round_id, Team).join(Team, Team.id == TeamMember.team_id)
        .join(Round, Round.id == TeamMember.round_id)
        .where(TeamMember.user_id == user.id, Round.status.in_(("inspection", "review")))
    ).all()
    out = {}
    for round_id, team in memberships:
        mine = _sheets(select(Sheet).where(Sheet.round_id == round_id, Sheet.kind == "inspector",
                                           Sheet.inspector_id == user.id))
        finals = []
        if team.leader_id == user.id:
            team_units = select(RoundUnit.unit_id).where(RoundUnit.team_id == team.id)
            finals = _sheets(select(Sheet).where(Sheet.round_id == round_id, Sheet.kind == "final",
                                                 Sheet.unit_id.in_(team_units)))
        out[team.round] = {"team": team, "mine": sheet_rows(mine), "finals": sheet_rows(finals)}
    return out


def self_sheets_for_units(unit_ids: list[int], statuses=("self_assessment", "inspection", "review",
                                                          "published")) -> list[SheetRow]:
    """Self sheets of these units in rounds past set-up, newest round first."""
    sheets = _sheets(select(Sheet).join(Round, Round.id == Sheet.round_id)
                     .where(Sheet.kind == "self", Sheet.unit_id.in_(unit_ids), Round.status.in_(statuses)))
    rows = sheet_rows(sheets)
    rows.sort(key=lambda r: -r.sheet.round_id)
    return rows


def days_left(due: date | None, today: date) -> int | None:
    """Days until a deadline (negative when late)."""
    return None if due is None else (due - today).days


def awaiting_district_review() -> list[SheetRow]:
    """Submitted final sheets and townships' own self sheets: the district reviewer's queue."""
    sheets = _sheets(select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id).where(
        Sheet.status == "submitted",
        (Sheet.kind == "final") | ((Sheet.kind == "self") & (OrgUnit.level == "township"))))
    return sheet_rows(sheets)
