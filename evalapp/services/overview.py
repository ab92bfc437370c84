"""Read-only overviews for the role home pages, each a fixed number of GROUP BY queries."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Indicator, OrgUnit, Round, RoundUnit, Sheet, Team, TeamMember, User
from .sheets import figures_of, sheet_total


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
    counts = indicator_counts()
    rows = []
    for sheet in sheets:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        f = figures_of(sheet)  # the sheet's stored figures, already loaded with it
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
    sheets = _sheets(select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id).join(Round, Round.id == Sheet.round_id)
                     .where(Sheet.status == "submitted", Round.status != "published",
                            (Sheet.kind == "final") | ((Sheet.kind == "self") & (OrgUnit.level == "township")
                                                       & (Round.status == "self_assessment"))))
    return sheet_rows(sheets)


@dataclass
class TownshipProgress:
    township: OrgUnit
    villages: dict[str, int]
    own: str | None


def district_progress(round_: Round) -> list[TownshipProgress]:
    """Per township: its villages' self sheets by queue status, and its own sheet's status (two GROUP BYs)."""
    from sqlalchemy import case, exists

    from ..models import Score

    started = exists().where(Score.sheet_id == Sheet.id)
    status = case(
        (Sheet.status == "draft", case((started | (Sheet.summary != ""), "填报中"), else_="未开始")),
        (Sheet.status == "submitted", "已提交"), (Sheet.status == "returned", "已退回"), else_="已通过")
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for parent_id, label, n in db.session.execute(
            select(OrgUnit.parent_id, status, func.count()).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
            .where(Sheet.round_id == round_.id, Sheet.kind == "self", OrgUnit.level == "village")
            .group_by(OrgUnit.parent_id, status)):
        counts[parent_id][label] = n
    own = dict(db.session.execute(
        select(Sheet.unit_id, status).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
        .where(Sheet.round_id == round_.id, Sheet.kind == "self", OrgUnit.level == "township")).all())
    townships = db.session.scalars(select(OrgUnit).join(RoundUnit, RoundUnit.unit_id == OrgUnit.id)
                                   .where(RoundUnit.round_id == round_.id, OrgUnit.level == "township")
                                   .order_by(OrgUnit.code)).all()
    return [TownshipProgress(t, counts.get(t.id, {}), own.get(t.id)) for t in townships]


@dataclass
class Todos:
    returned: list[Sheet]
    to_review: list[Sheet]
    due_soon: list[tuple[Sheet, int]]

    @property
    def any(self) -> bool:
        return bool(self.returned or self.to_review or self.due_soon)


def todos(user: User, today: date) -> Todos:
    """The home page's to-dos: sheets returned to me, sheets awaiting my review, my deadlines within 7 days."""
    mine = select(Sheet).join(Round, Round.id == Sheet.round_id).where(Round.status != "published")
    if user.role in ("village", "township"):
        mine = mine.where(Sheet.kind == "self", Sheet.unit_id == user.unit_id)
    elif user.role == "inspector":
        leader_units = select(RoundUnit.unit_id).join(Team, Team.id == RoundUnit.team_id).where(
            Team.leader_id == user.id, RoundUnit.round_id == Sheet.round_id)
        mine = mine.where((Sheet.inspector_id == user.id) |
                          ((Sheet.kind == "final") & Sheet.unit_id.in_(leader_units)))
    else:
        mine = mine.where(False)
    own = _sheets(mine)
    returned = [s for s in own if s.status == "returned"]
    due_soon = []
    for s in own:
        if s.status in ("draft", "returned"):
            due = (s.round.self_due if s.unit.level == "village" else s.round.township_due) if s.kind == "self" \
                else s.round.inspection_end
            left = days_left(due, today)
            if left is not None and 0 <= left <= 7:
                due_soon.append((s, left))
    if user.role == "township":
        to_review = _sheets(select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id)
                            .join(Round, Round.id == Sheet.round_id).where(
            Sheet.kind == "self", Sheet.status == "submitted", OrgUnit.parent_id == user.unit_id,
            Round.status == "self_assessment"))
    elif user.role == "district":
        to_review = [row.sheet for row in awaiting_district_review()]
    else:
        to_review = []
    return Todos(returned, to_review, sorted(due_soon, key=lambda x: x[1]))
