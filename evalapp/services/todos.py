"""The home pages' to-dos: everything that waits for the person who signed in, each with the days left to its
deadline (overdue ones marked, never hidden) — a fixed number of queries whatever the number of units.

Sheets: returned to me, a leader's final sheets whose members have all submitted, sheets waiting for my review,
and every other sheet of mine still to fill (a final sheet whose members are still scoring only when its deadline
is within a week or passed: until then it waits for them, not for its leader). Rounds: the district's 公布 and
再次公布, finance's 设置奖补规则 and 下载奖补资格表.

`today` is the caller's (moves.today_local() in a request): tests pass the day they need.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, null, select

from .. import access
from ..domain.vocabulary import RoundTodo, UnitLevel
from ..extensions import db
from ..models import AuditEvent, OrgUnit, Publication, Round, RoundUnit, Sheet, SubsidyRule, Team, User
from .overview import _district_queue, _in_unit_order, _sheet_options, days_left, members_all_in, open_to_owner, \
    open_to_reviewer

TODO_LIMIT = 10  # items shown per kind of to-do; the panel says how many more there are
SOON = 7  # days: a final sheet still waiting for its members is listed from a week before its deadline
SUBSIDY_TODO_PHASES = ("inspection", "review")  # finance sets the rules while the scores are being made


@dataclass
class RoundItem:
    """A round that waits for the person: what to do (RoundTodo) and, for the rules, the levels without one."""
    round: Round
    action: RoundTodo
    levels: tuple[UnitLevel, ...] = ()
    version: int | None = None  # the version to download (or, for RESULTS, the one published)
    unit_id: int | None = None  # RESULTS: the unit whose page it leads to (the lead's own)


@dataclass
class Todos:
    """The first TODO_LIMIT of each kind of to-do, and how many there are in all. Each sheet is listed once, with
    the days left to its deadline (None: no deadline, or an unlocked sheet of a published round)."""
    returned: list[tuple[Sheet, int | None]]
    to_review: list[tuple[Sheet, int | None]]
    to_fill: list[tuple[Sheet, int | None]]
    ready: list[tuple[Sheet, int | None]] = field(default_factory=list)  # a leader's final sheets to reconcile
    rounds: list[RoundItem] = field(default_factory=list)
    returned_total: int = 0
    to_review_total: int = 0
    to_fill_total: int = 0
    ready_total: int = 0
    steps: list = field(default_factory=list)  # 整改, 复查, 约谈 (services.rectification.todo_steps)
    notice: list = field(default_factory=list)  # 公示, 异议, 复核 steps (services.objections.notice_todos)

    @property
    def any(self) -> bool:
        return bool(self.returned_total or self.to_review_total or self.to_fill_total or self.ready_total
                    or self.rounds or self.steps or self.notice)


def _first(query, *columns) -> tuple[list, int]:
    """The first TODO_LIMIT rows of a Sheet query (with extra columns), and the count of all its rows, in one query
    (a window count)."""
    rows = db.session.execute(_in_unit_order(query.add_columns(*columns, func.count().over()))
                              .options(*_sheet_options()).limit(TODO_LIMIT)).all()
    return rows, (rows[0][-1] if rows else 0)


def _due():
    """SQL: a sheet's deadline — a self sheet's by its unit's level, the team's sheets' the end of inspection. The
    query joins Round."""
    level = select(OrgUnit.level).where(OrgUnit.id == Sheet.unit_id).scalar_subquery()
    return case((Sheet.kind == "self", case((level == "village", Round.self_due), else_=Round.township_due)),
                else_=Round.inspection_end)


def _mine(user: User):
    """SQL: the sheets the user fills (and may change now)."""
    mine = select(Sheet).join(Round, Round.id == Sheet.round_id).where(open_to_owner())
    if user.role == "village":
        return mine.where(Sheet.kind == "self", Sheet.unit_id == user.unit_id)
    if user.role == "township":  # its own, and its account-less villages' it fills in for them (代填)
        return mine.where(Sheet.kind == "self", (Sheet.unit_id == user.unit_id) | access.proxy_sheets(user))
    if user.role == "inspector":
        leader_units = select(RoundUnit.unit_id).join(Team, Team.id == RoundUnit.team_id).where(
            Team.leader_id == user.id, RoundUnit.round_id == Sheet.round_id)
        return mine.where((Sheet.inspector_id == user.id) |
                          ((Sheet.kind == "final") & Sheet.unit_id.in_(leader_units)))
    return mine.where(False)


def todos_for(user: User, today: date) -> Todos:
    """The to-dos of `user` on `today` (see the module)."""
    mine, due = _mine(user), _due()

    def dated(rows):  # an unlocked sheet of a published round has no deadline left to show
        return [(r[0], None if r[0].unlocked else days_left(r[1], today)) for r in rows]

    returned, returned_total, ready, ready_total, fill_rows, fill_total = [], 0, [], 0, [], 0
    if user.role in ("village", "township", "inspector"):  # the roles that fill sheets
        returned, returned_total = _first(mine.where(Sheet.status == "returned"), due)
        to_fill = mine.where(Sheet.status == "draft")
        if user.role == "inspector":
            ready_now = (Sheet.kind == "final") & (Sheet.status == "draft") & members_all_in()
            ready, ready_total = _first(mine.where(ready_now), due)
            to_fill = to_fill.where(~ready_now, (Sheet.kind != "final") | (due <= today + timedelta(days=SOON)))
        # the most pressing first: overdue, then by deadline; sheets without one last
        fill_rows, fill_total = _first(to_fill.order_by(due.is_(None), due), due)
    if user.role == "township":  # the villages' self sheets, reviewed before the township's own deadline
        to_review, review_total = _first(
            select(Sheet).join(OrgUnit, OrgUnit.id == Sheet.unit_id).join(Round, Round.id == Sheet.round_id)
            .where(Sheet.kind == "self", OrgUnit.parent_id == user.unit_id, open_to_reviewer()),
            Round.township_due)
    elif user.role == "district":
        to_review, review_total = _first(_district_queue(), null())
    else:
        to_review, review_total = [], 0
    rounds = (_district_rounds() if user.role == "district" else
              _finance_rounds() if user.role == "finance" else
              _unit_results(user) if user.role in ("township", "village") else [])
    from .objections import notice_todos
    from .rectification import todo_steps

    return Todos(dated(returned), dated(to_review), dated(fill_rows), dated(ready), rounds,
                 returned_total, review_total, fill_total, ready_total,
                 steps=todo_steps(user, today), notice=notice_todos(user, today))


def _district_rounds() -> list[RoundItem]:
    """Rounds the district may publish now: in inspection or review with every final sheet approved (公布); or
    published, changed by an unlock since, and every unlocked sheet approved again (再次公布)."""
    open_finals = (select(func.count()).where(Sheet.round_id == Round.id, Sheet.kind == "final",
                                              Sheet.status != "approved").correlate(Round).scalar_subquery())
    finals = (select(func.count()).where(Sheet.round_id == Round.id, Sheet.kind == "final")
              .correlate(Round).scalar_subquery())
    open_unlocked = (select(func.count()).where(Sheet.round_id == Round.id, Sheet.unlocked.is_(True),
                                                Sheet.status != "approved").correlate(Round).scalar_subquery())
    found = db.session.scalars(select(Round).where(
        (Round.status.in_(("inspection", "review")) & (finals > 0) & (open_finals == 0))
        | ((Round.status == "published") & Round.changed_since_publication.is_(True) & (open_unlocked == 0)))
        .order_by(Round.id.desc()).limit(TODO_LIMIT)).all()
    return [RoundItem(r, RoundTodo.REPUBLISH if r.status == "published" else RoundTodo.PUBLISH) for r in found]


def _finance_rounds() -> list[RoundItem]:
    """Finance's rounds: a round being scored or reviewed without a subsidy rule for a level it has units of
    (设置奖补规则); a published round whose latest version no finance user has downloaded as 正式 since it was
    published (下载奖补资格表)."""
    items = []
    levels = db.session.execute(
        select(Round, OrgUnit.level).join(RoundUnit, RoundUnit.round_id == Round.id)
        .join(OrgUnit, OrgUnit.id == RoundUnit.unit_id)
        .where(Round.status.in_(SUBSIDY_TODO_PHASES), OrgUnit.level.in_(("township", "village")),
               ~select(SubsidyRule.id).where(SubsidyRule.round_id == Round.id, SubsidyRule.level == OrgUnit.level)
               .exists())
        .group_by(Round.id, OrgUnit.level).order_by(Round.id.desc(), OrgUnit.level)).all()
    missing: dict[int, RoundItem] = {}
    for round_, level in levels:
        item = missing.setdefault(round_.id, RoundItem(round_, RoundTodo.SUBSIDY_RULES))
        item.levels += (UnitLevel(level),)
    items += sorted(missing.values(), key=lambda i: -i.round.id)
    latest = (select(Publication.round_id, func.max(Publication.version).label("version"))
              .group_by(Publication.round_id).subquery())
    published = db.session.execute(
        select(Round, Publication.version, Publication.published_at)
        .join(latest, latest.c.round_id == Round.id)
        .join(Publication, and_(Publication.round_id == Round.id, Publication.version == latest.c.version))
        .where(Round.status == "published").order_by(Round.id.desc())).all()
    if published:
        # 正式 downloads by finance since each round's latest publication (the log says 正式 or 草稿 in `new`)
        since = {r.id: at for r, _, at in published}
        downloads = db.session.execute(
            select(AuditEvent.round_id, AuditEvent.at, AuditEvent.new).join(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.action == "export.subsidy", User.role == "finance",
                   AuditEvent.round_id.in_(list(since)), AuditEvent.at >= min(since.values()))).all()
        done = {rid for rid, at, new in downloads
                if at >= since[rid] and (new or {}).get("status") == "正式"}
        items += [RoundItem(r, RoundTodo.ELIGIBILITY, version=v) for r, v, _ in published if r.id not in done]
    return items[:TODO_LIMIT]


def _unit_results(user: User) -> list[RoundItem]:
    """A township's or village's published rounds: each one's last version, to see the unit's results and its
    问题清单 (issue 32) — one query."""
    if user.unit_id is None:
        return []
    latest = (select(Publication.round_id, func.max(Publication.version).label("version"))
              .group_by(Publication.round_id).subquery())
    found = db.session.execute(
        select(Round, latest.c.version).join(latest, latest.c.round_id == Round.id)
        .join(RoundUnit, and_(RoundUnit.round_id == Round.id, RoundUnit.unit_id == user.unit_id))
        .where(Round.status == "published").order_by(Round.id.desc()).limit(TODO_LIMIT)).all()
    return [RoundItem(r, RoundTodo.RESULTS, version=v, unit_id=user.unit_id) for r, v in found]
