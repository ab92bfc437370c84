"""Read-only overviews for the role home pages, each a fixed number of queries whatever the number of units.

Lists that grow with the units (an inspection team's sheets, the district's review queue, the to-dos) are counted
and cut in SQL: a province has 31,500 units, and one page shows a page of them.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, exists, false, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..domain.vocabulary import SheetProgress
from ..domain.workflow import (
    MEMBER_SETTLED, SHEET_CONTEXTS, SHEET_KINDS, SHEET_STATUSES, owner_may_change, reviewer_may_decide,
)
from ..extensions import db
from ..models import Indicator, OrgUnit, Round, RoundUnit, Sheet, Team, TeamMember, User
from ..pagination import Page, page_number
from .figures import figures_of
from .sheet_views import sheet_standing


def leads_a_team(user_id):
    """SQL (for a user id or the column User.id): the user leads the team of the newest round they are on a team
    of. A 工作组成员 who leads it is shown as 工作组组长."""
    newest = (select(func.max(TeamMember.round_id)).where(TeamMember.user_id == user_id)
              .correlate_except(TeamMember).scalar_subquery())
    return exists().where(Team.leader_id == user_id, Team.round_id == newest).correlate_except(Team)


def is_team_leader(user: User) -> bool:
    """Whether this inspector leads the team of their newest round (one query)."""
    return user.role == "inspector" and bool(db.session.scalar(select(leads_a_team(user.id))))


def team_leaders() -> set[int]:
    """Ids of the inspectors who lead the team of their newest round (for the user list)."""
    return set(db.session.scalars(select(User.id).where(User.role == "inspector", leads_a_team(User.id))))


def sheet_progress():
    """SQL: a sheet's SheetProgress value (a draft split by whether anything is entered yet: 未开始, or 填报中 for a
    self sheet and 评分中 for a team's), or "closed" (未提交). One rule for every progress count a page shows, so
    the rounds table and the progress table never count one sheet under two labels."""
    from ..models import Score

    started = exists().where(Score.sheet_id == Sheet.id) | (Sheet.summary != "")
    # The CASE yields SheetProgress values; pages show their labels (vocabulary), so no label lives in SQL.
    return case(
        (Sheet.status == "draft", case(
            (started, case((Sheet.kind == "self", SheetProgress.FILLING.value), else_=SheetProgress.SCORING.value)),
            else_=SheetProgress.NOT_STARTED.value)),
        (Sheet.status == "submitted", SheetProgress.SUBMITTED.value),
        (Sheet.status == "returned", SheetProgress.RETURNED.value),
        (Sheet.status == "approved", SheetProgress.APPROVED.value), else_=Sheet.status)


@dataclass
class RoundSummary:
    round: Round
    units: int = 0
    # kind → SheetProgress value (or "closed") → count
    by_kind_status: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))


def rounds_overview() -> list[RoundSummary]:
    """Every round, newest first, with its units in scope and sheet counts by kind and progress (sheet_progress)."""
    rounds = db.session.scalars(select(Round).order_by(Round.id.desc())).all()
    summaries = {r.id: RoundSummary(r) for r in rounds}
    for round_id, n in db.session.execute(
            select(RoundUnit.round_id, func.count()).group_by(RoundUnit.round_id)):
        summaries[round_id].units = n
    progress = sheet_progress()
    for round_id, kind, stage, n in db.session.execute(
            select(Sheet.round_id, Sheet.kind, progress, func.count()).group_by(Sheet.round_id, Sheet.kind, progress)):
        summaries[round_id].by_kind_status[kind][stage] = n
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
    signing: object = None  # services.signatures.Signing of a final sheet, where the queue shows it (with_signing)
    check: object = None    # services.bulk_review.Check of a final sheet in the district's queue (with_checks)


def with_signing(rows: list[SheetRow]) -> list[SheetRow]:
    """The queues' rows with their final sheets' signing state (signed n of m, changed since signing): a fixed number
    of statements for the page."""
    from .signatures import signings

    found = signings([r.sheet for r in rows if r.sheet.kind == "final"])
    for row in rows:
        row.signing = found.get(row.sheet.id)
    return rows


def sheet_rows(sheets: list[Sheet]) -> list[SheetRow]:
    """Progress rows (scored / total indicators, running total) for sheets, in their order (queries order them
    with _in_unit_order: by township, then unit code)."""
    counts = indicator_counts()
    rows = []
    for sheet in sheets:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        f = figures_of(sheet)  # the sheet's stored figures, already loaded with it
        township = sheet.unit if sheet.unit.level == "township" else sheet.unit.parent
        count = counts.get(catalogue.id, 0)
        rows.append(SheetRow(sheet, township, f.scored, count,
                             sheet_standing(sheet, f, count, catalogue.bonus_cap).total, f.veto))
    return rows


def _sheet_options():
    return (selectinload(Sheet.unit).selectinload(OrgUnit.parent),
            selectinload(Sheet.round).selectinload(Round.township_catalogue),
            selectinload(Sheet.round).selectinload(Round.village_catalogue))


def _sheets(query) -> list[Sheet]:
    return db.session.scalars(query.options(*_sheet_options())).all()


def _in_unit_order(query):
    """Sheets in report order: by township code, the township's own sheet first, then unit code (after any order
    the query has already)."""
    unit, parent = aliased(OrgUnit), aliased(OrgUnit)
    return (query.join(unit, unit.id == Sheet.unit_id).outerjoin(parent, parent.id == unit.parent_id)
            .order_by(func.coalesce(case((unit.level == "township", unit.code), else_=parent.code), ""),
                      unit.level != "township", unit.code, Sheet.id))


def sheet_page(query, requested, size: int, total: int | None = None) -> Page:
    """One page of a Sheet query as progress rows: counted (unless the caller knows the total) and cut in SQL."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number, pages = page_number(requested, total, size)
    sheets = _sheets(_in_unit_order(query).limit(size).offset((number - 1) * size)) if total else []
    return Page(sheet_rows(sheets), number, pages, total, size)


WORK_STATUSES = ("draft", "returned", "submitted", "approved", "closed")
WORKLIST_ROUNDS = ("inspection", "review", "published")  # published rounds stay, read-only, as history


def sheet_context():
    """SQL: where a sheet stands for its moves (domain.workflow.sheet_context): its round's status, or "unlocked" for
    a sheet an admin unlocked in a published round. The query joins Round."""
    return case(((Round.status == "published") & Sheet.unlocked.is_(True), "unlocked"), else_=Round.status)


def _allowed(may) -> object:
    """SQL: the sheet's kind, status and context are among those the workflow's predicate allows."""
    context = sheet_context()
    terms, statuses = [], set()
    for kind in SHEET_KINDS:
        for status in SHEET_STATUSES:
            contexts = [c for c in SHEET_CONTEXTS if may(kind, status, c)]
            if contexts:
                terms.append((Sheet.kind == kind) & (Sheet.status == status) & context.in_(contexts))
                statuses.add(status)
    # the plain status test first, so that an index on the status can narrow the rows the terms are tried on
    return Sheet.status.in_(sorted(statuses)) & or_(*terms) if terms else false()


def open_to_owner():
    """SQL: the sheet's owner may fill and submit it now (the rule of access.can_edit_sheet, from the workflow)."""
    return _allowed(owner_may_change)


def open_to_reviewer():
    """SQL: a reviewer may approve or return the sheet now (the rule of access.can_review_sheet)."""
    return _allowed(reviewer_may_decide)


def members_all_in():
    """SQL, for a final sheet: no member's sheet of its unit holds it up any more (submitted, or closed 未提交 when
    the round moved on or its member left) and at least one member submitted scores to reconcile."""
    member = aliased(Sheet)
    of_unit = (member.round_id == Sheet.round_id, member.unit_id == Sheet.unit_id, member.kind == "inspector")
    return (~exists().where(*of_unit, member.status.notin_(MEMBER_SETTLED))
            & exists().where(*of_unit, member.status == "submitted"))


@dataclass
class WorkSection:
    """One round of an inspector's worklist."""
    round: Round
    team: Team
    counts: dict[str, int]  # the inspector's own sheets by status
    status: str             # the status shown ("" for all)
    mine: Page              # of SheetRow
    finals: Page | None     # the team's final sheets, for its leader

    @property
    def history(self) -> bool:
        """A published round: shown read-only (an admin's unlock reopens single sheets, shown as such)."""
        return self.round.status == "published"

    @property
    def link_args(self) -> dict:
        """The query arguments that show this section as it is now (for its pagers)."""
        args = {"round": self.round.id, **({"status": self.status} if self.status else {})}
        if self.mine.number > 1:
            args["page"] = self.mine.number
        if self.finals and self.finals.number > 1:
            args["fpage"] = self.finals.number
        return args


def inspector_worklist(user: User, round_id: int | None, status: str, page, final_page,
                       size: int) -> list[WorkSection]:
    """For each round in inspection, review or published where the user is on a team: a page of their sheets
    (optionally of one status) with the counts by status and, for a leader, a page of the final sheets. Rounds with
    work open come first (a published round whose results an admin unlocked counts as open), newest first; the
    other published rounds follow as read-only history. The page, status and final page apply to the round
    `round_id` (the first round when None); the others show their first page."""
    settled = (Round.status == "published") & Round.changed_since_publication.is_not(True)
    memberships = db.session.execute(
        select(TeamMember.round_id, Team).join(Team, Team.id == TeamMember.team_id)
        .join(Round, Round.id == TeamMember.round_id)
        .where(TeamMember.user_id == user.id, Round.status.in_(WORKLIST_ROUNDS))
        .order_by(case((settled, 1), else_=0), TeamMember.round_id.desc())
    ).all()
    sections = []
    for i, (rid, team) in enumerate(memberships):
        chosen = rid == round_id if round_id is not None else i == 0
        own = (Sheet.round_id == rid, Sheet.kind == "inspector", Sheet.inspector_id == user.id)
        counts = dict(db.session.execute(select(Sheet.status, func.count()).where(*own).group_by(Sheet.status)).all())
        shown = status if chosen and status in WORK_STATUSES else ""
        mine = sheet_page(select(Sheet).where(*own, *((Sheet.status == shown,) if shown else ())),
                          page if chosen else None, size, counts.get(shown, 0) if shown else sum(counts.values()))
        finals = None
        if team.leader_id == user.id:
            team_units = select(RoundUnit.unit_id).where(RoundUnit.team_id == team.id)
            finals = sheet_page(select(Sheet).where(Sheet.round_id == rid, Sheet.kind == "final",
                                                    Sheet.unit_id.in_(team_units)),
                                final_page if chosen else None, size)
            with_signing(finals.items)
        sections.append(WorkSection(team.round, team, counts, shown, mine, finals))
    return sections


def self_sheets_for_units(unit_ids: list[int], statuses=("self_assessment", "inspection", "review",
                                                          "published")) -> list[SheetRow]:
    """Self sheets of these units in rounds past set-up, newest round first."""
    return sheet_rows(_sheets(_in_unit_order(
        select(Sheet).join(Round, Round.id == Sheet.round_id)
        .where(Sheet.kind == "self", Sheet.unit_id.in_(unit_ids), Round.status.in_(statuses))
        .order_by(Sheet.round_id.desc()))))


def days_left(due: date | None, today: date) -> int | None:
    """Days until a deadline (negative when late)."""
    return None if due is None else (due - today).days


def _district_queue():
    """What the district decides: submitted final sheets (also one an admin unlocked in a published round and its
    leader resubmitted) and, during self-assessment, townships' own self sheets."""
    return (select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id).join(Round, Round.id == Sheet.round_id)
            .where(open_to_reviewer(), (Sheet.kind == "final") | (OrgUnit.level == "township")))


def awaiting_district_review(page, size: int) -> Page:
    """Submitted final sheets and townships' own self sheets: the district reviewer's queue, a page at a time."""
    found = sheet_page(_district_queue(), page, size)
    with_signing(found.items)
    return found


@dataclass
class TownshipProgress:
    township: OrgUnit
    villages: dict[str, int]           # SheetProgress value → number of villages' self sheets
    own: SheetProgress | None          # the township's own self sheet


def district_progress(round_: Round) -> list[TownshipProgress]:
    """Per township: its villages' self sheets by queue status, and its own sheet's status (two GROUP BYs)."""
    status = sheet_progress()
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
    return [TownshipProgress(t, counts.get(t.id, {}), SheetProgress(own[t.id]) if t.id in own else None)
            for t in townships]
