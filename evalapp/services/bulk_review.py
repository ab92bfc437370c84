"""Approving many final sheets in one confirmation (issue 29, point 7): the district's queue shows each submitted
final sheet's flags (domain.review: members drafting, 成员评分已变化, signatures missing or made before a change,
自评虚高, a veto); the sheets without any are approved together, each as its own approval (moves.approve_sheet_in:
the same history and audit row, sheet.approved), in one unit of work committed once.

Every flag is read again under the sheets' row locks inside that transaction: a sheet that became flagged, left the
queue, or changed since the district saw it (its token: status version and figures version) is left out and
reported, never approved. The totals and results are those of the review page (sheet_views.sheet_standing over
the sheet's stored figures): never recomputed here.

A fixed number of statements whatever the number of sheets (the queue's page, an API call of up to MAX_SHEETS).
"""
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, tuple_

from ..domain.aggregation import gap
from ..domain.review import ReviewFacts, review_flags
from ..domain.scoring import Result
from ..domain.vocabulary import BulkSkip, ReviewFlag, SignatureState
from ..domain.workflow import reviewer_may_decide, sheet_context
from ..extensions import db
from ..models import Sheet, User
from . import moves
from .errors import Conflict, Text, _l, marked
from .figures import figures_of
from .overview import _sheet_options, indicator_counts
from .sheet_views import sheet_standing

MAX_SHEETS = 200  # sheets in one bulk approval (the queue shows 50 a page)
COMMENT = "批量审核通过"  # the history's and the audit row's note on each sheet approved together
TOKEN = re.compile(r"([0-9]{1,10}):([0-9]{1,10}):([0-9]{1,10})")


@dataclass
class Check:
    """One submitted final sheet as the district would approve it: its total and result as the review page shows
    them, and its flags with what is behind each."""

    sheet: Sheet
    total: Decimal | None
    result: Result
    flags: tuple[ReviewFlag, ...]
    details: dict[ReviewFlag, Text | str] = field(default_factory=dict)  # what is behind a flag (names, codes…)

    @property
    def clean(self) -> bool:
        return not self.flags

    @property
    def token(self) -> str:
        """What the district saw: the sheet, its status version and its figures version."""
        return f"{self.sheet.id}:{self.sheet.version}:{self.sheet.figures_version}"

    @property
    def reasons(self) -> list[Text]:
        """Each flag with what is behind it (ReviewFlag's label, then the detail)."""
        return [_l("%(flag)s：%(detail)s", flag=marked(f.zh), detail=self.details[f]) if f in self.details
                else marked(f.zh) for f in self.flags]


def checks(sheets: list[Sheet]) -> dict[int, Check]:
    """final sheet id → its Check, for the final sheets among `sheets` (the others are left out)."""
    from .reconcile import final_problems
    from .signatures import signings

    finals = [s for s in sheets if s.kind == "final"]
    if not finals:
        return {}
    problems = final_problems(finals)
    signed = signings(finals)
    counts = indicator_counts()
    selves = {(s.round_id, s.unit_id): s for s in db.session.scalars(
        select(Sheet).where(Sheet.kind == "self",
                            tuple_(Sheet.round_id, Sheet.unit_id).in_([(f.round_id, f.unit_id) for f in finals]))
        .options(*_sheet_options()))}
    out = {}
    for sheet in finals:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        count = counts.get(catalogue.id, 0)
        own = sheet_standing(sheet, figures_of(sheet), count, catalogue.bonus_cap)
        self_sheet = selves.get((sheet.round_id, sheet.unit_id))
        self_total = (sheet_standing(self_sheet, figures_of(self_sheet), count, catalogue.bonus_cap).total
                      if self_sheet is not None else None)
        inflated = gap(self_total, own.total, sheet.round.tolerance)
        pending, stale = problems[sheet.id]
        slots = signed[sheet.id].slots
        facts = ReviewFacts(
            members_pending=tuple(m.inspector.display_name for m in pending), stale_codes=tuple(stale),
            slots=len(slots), signed=sum(s.state is SignatureState.SIGNED for s in slots),
            signatures_changed=sum(s.state is SignatureState.STALE for s in slots),
            self_inflated=inflated.inflated, vetoed=own.vetoed)
        details = {
            ReviewFlag.MEMBERS_PENDING: "、".join(facts.members_pending),
            ReviewFlag.STALE_MEAN: "、".join(facts.stale_codes),
            ReviewFlag.UNSIGNED: _l("已签%(n)d/%(m)d", n=facts.signed, m=facts.slots),
            ReviewFlag.SIGNATURE_CHANGED: _l("%(n)d个签名", n=facts.signatures_changed),
            ReviewFlag.SELF_INFLATED: _l("自评%(own)s分，评估%(final)s分", own=_points(self_total),
                                         final=_points(own.total)),
        }
        flags = review_flags(facts)
        out[sheet.id] = Check(sheet, own.total, own.result, flags, {f: details[f] for f in flags if f in details})
    return out


def _points(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def with_checks(rows: list) -> list:
    """The queue's rows (overview.SheetRow) with `check` set on each final sheet's row."""
    found = checks([r.sheet for r in rows])
    for row in rows:
        row.check = found.get(row.sheet.id)
    return rows


@dataclass
class Outcome:
    """One sheet asked for: approved, ready to be (a preview), or left out — for a BulkSkip or for its flags."""

    sheet_id: int
    check: Check | None = None
    skip: BulkSkip | None = None
    approved: bool = False

    @property
    def ready(self) -> bool:
        return self.skip is None and self.check is not None and self.check.clean

    @property
    def unit(self) -> str:
        return self.check.sheet.unit.name if self.check else ""

    @property
    def reasons(self) -> list[Text]:
        if self.skip is not None:
            return [marked(self.skip.zh)]
        return self.check.reasons if self.check else []

    @property
    def codes(self) -> list[str]:
        """The reasons' stable codes (the API's)."""
        if self.skip is not None:
            return [self.skip.value]
        return [f.value for f in self.check.flags] if self.check else []


def parse_tokens(texts) -> list[tuple[int, str | None]]:
    """(sheet id, token or None) from form values "id:version:figures" or plain ids; others left out, each sheet
    once, at most MAX_SHEETS."""
    out: dict[int, str | None] = {}
    for text in texts:
        if not isinstance(text, str):
            continue
        match = TOKEN.fullmatch(text)
        raw = match.group(1) if match else text
        if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) < 2**31:
            out.setdefault(int(raw), text if match else None)
    return list(out.items())[:MAX_SHEETS]


def _judge(user: User, requested: list[tuple[int, str | None]]) -> list[Outcome]:
    ids = [i for i, _ in requested]
    sheets = {s.id: s for s in db.session.scalars(
        select(Sheet).where(Sheet.id.in_(ids)).options(*_sheet_options())
        .execution_options(populate_existing=True))}
    found = checks(list(sheets.values()))
    outcomes = []
    for sheet_id, token in requested:
        sheet = sheets.get(sheet_id)
        if sheet is None:
            outcomes.append(Outcome(sheet_id, skip=BulkSkip.NOT_FOUND))
            continue
        check = found.get(sheet_id)
        if check is None:
            outcomes.append(Outcome(sheet_id, skip=BulkSkip.NOT_FINAL))
        elif user.role != "district" or not reviewer_may_decide(
                sheet.kind, sheet.status, sheet_context(sheet.round.status, sheet.unlocked)):
            outcomes.append(Outcome(sheet_id, check, BulkSkip.NOT_WAITING))
        elif token is not None and token != check.token:
            outcomes.append(Outcome(sheet_id, check, BulkSkip.CHANGED))
        else:
            outcomes.append(Outcome(sheet_id, check))
    return outcomes


def preview(user: User, requested: list[tuple[int, str | None]]) -> list[Outcome]:
    """What approve_clean would do now (the confirmation's list); reads only."""
    return _judge(user, requested)


def _lock(ids: list[int]) -> None:
    """The sheets' row locks, in id order (PostgreSQL; SQLite serialises writers): a leader's resubmit, a return or
    a single approval of one of them waits for this approval's commit, and this one for theirs."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and ids:
        connection.execute(select(Sheet.id).where(Sheet.id.in_(sorted(ids))).order_by(Sheet.id)
                           .with_for_update(key_share=True))


def approve_clean(user: User, requested: list[tuple[int, str | None]], *,
                  address: str | None = None) -> list[Outcome]:
    """Approve each requested final sheet that is waiting for the district, unchanged since its token (when one is
    given) and without a flag, all read under the sheets' locks; the rest are left out with why. One transaction,
    one commit; each approval has its own history row and audit row (sheet.approved), as a single approval."""
    try:
        _lock([i for i, _ in requested])
        outcomes = _judge(user, requested)
        for outcome in outcomes:
            if not outcome.ready:
                continue
            sheet = outcome.check.sheet
            try:
                moves.approve_sheet_in(sheet, user, COMMENT, address=address, problems=[],
                                       figures_version=sheet.figures_version)
            except Conflict:  # (SQLite: changed between the reads and the write)
                outcome.skip = BulkSkip.CHANGED
                continue
            outcome.approved = True
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return outcomes
