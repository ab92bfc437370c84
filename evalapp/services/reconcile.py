"""The team leader's reconciliation: members' scores side by side, the proposed final, bonus and veto."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain.numbers import parse_points
from ..domain.scoring import basis_changes, members_disagree, proposed_final, validate_final
from ..domain.workflow import MEMBER_SETTLED
from ..extensions import db
from ..models import BonusItem, Indicator, Score, Sheet, SheetBonus, SheetVeto, User, VetoItem
from ..models.base import utcnow
from ..models.sheet import SHEET_STATUSES
from . import audit, versions
from .errors import Conflict, Invalid, Text, _l, shown
from .figures import lock_sheet, refresh_sheet
from .scores import ConcurrentSave, Saved, store_score, write_score
from .sheet_views import SheetView, find_indicator, sheet_view


# Member sheets whose scores count towards the mean: submitted ones only. Drafts (and returned ones) are still
# being written; closed ones (未提交) were left behind when the round moved on or the member left the team.
COUNTED_STATUSES = ("submitted", "approved")
PENDING_STATUSES = tuple(sorted(set(SHEET_STATUSES) - MEMBER_SETTLED - {"approved"}))  # draft, returned
NOTE_MEAN = "采用成员平均分"


@dataclass
class IndicatorRow:
    indicator: object
    members: list[tuple[Sheet, Decimal | None]]
    proposed: Decimal | None
    flagged: bool
    final: Score | None
    # Member scores that changed since the final value was decided (成员评分已变化): (member sheet, old, new).
    changes: list[tuple[Sheet, Decimal | None, Decimal | None]] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.final is not None and self.final.points is not None

    @property
    def stale(self) -> bool:
        return bool(self.changes)


@dataclass
class Reconciliation:
    view: SheetView
    members: list[Sheet]
    rows: list[IndicatorRow]
    bonus: dict[int, SheetBonus]
    veto: dict[int, SheetVeto]

    @property
    def unsubmitted(self) -> list[Sheet]:
        """Members still drafting (their scores are not in the mean yet)."""
        return [s for s in self.members if s.status in PENDING_STATUSES]

    @property
    def closed(self) -> list[Sheet]:
        """Members whose sheets were closed unsubmitted (未提交): left out of the mean."""
        return [s for s in self.members if s.status == "closed"]

    @property
    def stale(self) -> list[IndicatorRow]:
        return [r for r in self.rows if r.stale]


def member_sheets(final: Sheet) -> list[Sheet]:
    """The inspector sheets of the same unit and round, in member order."""
    return db.session.scalars(select(Sheet).where(
        Sheet.round_id == final.round_id, Sheet.unit_id == final.unit_id, Sheet.kind == "inspector")
        .options(joinedload(Sheet.inspector)).order_by(Sheet.inspector_id)).all()


def _member_scores(sheets: list[Sheet], indicator_id: int | None = None) -> dict[tuple[int, int], Score]:
    """(member sheet id, indicator id) → the member's score row, for scored rows of the given sheets."""
    query = select(Score).where(Score.sheet_id.in_([s.id for s in sheets]), Score.points.is_not(None))
    if indicator_id is not None:
        query = query.where(Score.indicator_id == indicator_id)
    return {(r.sheet_id, r.indicator_id): r for r in db.session.scalars(query)}


def _counted(members: list[Sheet]) -> list[Sheet]:
    return [m for m in members if m.status in COUNTED_STATUSES]


def _recorded(final: Score | None) -> dict[int, Decimal] | None:
    if final is None or final.points is None or final.basis is None:
        return None  # no decision, or one from before decisions kept their basis: nothing to compare
    return {int(b["sheet_id"]): Decimal(b["points"]) for b in final.basis}


def _basis(counted: list[Sheet], scores: dict[tuple[int, int], Score], indicator_id: int) -> list[dict]:
    return [{"sheet_id": m.id, "version": scores[(m.id, indicator_id)].version,
             "points": f"{scores[(m.id, indicator_id)].points:.2f}"}
            for m in counted if (m.id, indicator_id) in scores]


def reconciliation(final: Sheet) -> Reconciliation:
    """Everything the leader's page shows, in a fixed number of queries. The mean, the disagreement flag and the
    check of each decided value are those of the submitted member sheets only."""
    view = sheet_view(final)
    members = member_sheets(final)
    counted = _counted(members)
    scores = _member_scores(members)
    by_id = {m.id: m for m in members}
    tolerance = final.round.tolerance
    rows = []
    for ind in view.indicators:
        shown = [(m, scores[(m.id, ind.id)].points if (m.id, ind.id) in scores else None) for m in members]
        current = {m.id: scores[(m.id, ind.id)].points for m in counted if (m.id, ind.id) in scores}
        given = list(current.values())
        final_score = view.scores.get(ind.id)
        recorded = _recorded(final_score)
        changes = [] if recorded is None else [(by_id.get(c.sheet_id), c.old, c.new)
                                               for c in basis_changes(recorded, current)]
        rows.append(IndicatorRow(ind, shown, proposed_final(given), members_disagree(given, tolerance),
                                 final_score, changes))
    bonus = {b.bonus_item_id: b for b in db.session.scalars(select(SheetBonus).where(SheetBonus.sheet_id == final.id))}
    veto = {v.veto_item_id: v for v in db.session.scalars(select(SheetVeto).where(SheetVeto.sheet_id == final.id))}
    return Reconciliation(view, members, rows, bonus, veto)


def set_final_score(final: Sheet, code: str, raw_value, reason: str, user: User, expected_version: int, *,
                    address: str | None = None, sheet_locked: bool = False) -> Saved:
    """The leader decides one indicator: the submitted members' mean (raw_value None or empty) or another value
    with a reason. The one rule for the reconcile form and the API; the decision keeps the member scores it was
    taken from (scores.basis), so a later change of theirs flags the row. Committed once (scores.store_score);
    `address` and `sheet_locked` as there."""
    indicator, deductions, values = final_change(final, code, raw_value, reason)
    return store_score(final, indicator, user, expected_version, deductions=deductions, address=address,
                       sheet_locked=sheet_locked, **values)


def final_change(final: Sheet, code: str, raw_value, reason: str, *, counted: list[Sheet] | None = None,
                 scores: dict[tuple[int, int], Score] | None = None) -> tuple[Indicator, dict, dict]:
    """What deciding one indicator writes (as scores.entry_change): the indicator, no deductions, and the score's
    columns — the value, its reason, the note naming the mean, and the basis. Invalid when the value breaks the
    rule. `counted` and `scores`: the submitted member sheets and their scores (of every indicator), when the
    caller has read them already."""
    indicator = find_indicator(final, code)
    if counted is None:
        counted = _counted(member_sheets(final))
    if scores is None:
        scores = _member_scores(counted, indicator.id)
    proposed = proposed_final([s.points for (_, ind), s in scores.items() if ind == indicator.id])
    reason = (reason or "").strip()
    if raw_value in (None, ""):
        if proposed is None:
            raise Invalid("final.no_member_scores", _l("成员尚未评分该指标，不能取平均分"),
                          {"score": _l("尚无已提交的成员评分，请直接填写得分并说明理由")})
        value = proposed
    else:
        try:
            value = parse_points(raw_value)
        except ValueError as exc:
            raise Invalid("final.invalid", _l("输入有误，请检查"), {"score": shown(exc)}) from None
    errors = validate_final(value, indicator.points, proposed, reason)
    if errors:
        raise Invalid("final.invalid", _l("输入有误，请检查"), errors)
    note = NOTE_MEAN if value == proposed else f"组长调整（成员平均分 {proposed if proposed is not None else '无'}）"
    return indicator, {}, dict(points=value, direct_score=value, free_deduction=Decimal("0"),
                               reason=reason if value != proposed else "", note=note,
                               basis=_basis(counted, scores, indicator.id))


def accept_all_proposals(final: Sheet, user: User, *, address: str | None = None) -> int:
    """Take the submitted members' mean for every indicator the leader has not decided yet; returns how many.

    One unit of work: every such indicator is decided or none is. The sheet's figures are recomputed once, one
    audit row (score.save on the sheet) names the indicators taken and their values, the results version goes up
    once, and it is committed once; a failure on the way (a value the rule refuses, a concurrent save) rolls all of
    it back. Nothing to take commits nothing."""
    rec = reconciliation(final)
    rows = [row for row in rec.rows if not row.decided and row.proposed is not None]
    if not rows:
        return 0
    counted = _counted(rec.members)
    scores = _member_scores(counted)
    taken: dict[str, str] = {}
    try:
        lock_sheet(final)  # two clicks of the leader's queue here (PostgreSQL): the second finds nothing to take
        for row in rows:
            value = _take_mean(final, row, user, counted, scores)
            if value is not None:
                taken[row.indicator.code] = value
        if taken:
            refresh_sheet(final, utcnow(), locked=True)
            audit.record("score.save", user=user, address=address, obj=final, unit_id=final.unit_id,
                         round_id=final.round_id, new={"accepted": taken, "note": NOTE_MEAN},
                         detail=f"{NOTE_MEAN}：" + "、".join(f"{code} {points}" for code, points in taken.items()))
            versions.bump_sheet(final)
    except ConcurrentSave:
        db.session.rollback()
        raise Conflict("final.accept_all_conflict", _l("数据已被他人修改，请刷新后再试")) from None
    except BaseException:
        db.session.rollback()
        raise
    if taken:
        db.session.commit()
    return len(taken)


def _take_mean(final: Sheet, row: IndicatorRow, user: User, counted: list[Sheet],
               scores: dict[tuple[int, int], Score]) -> str | None:
    """One indicator of accept_all_proposals: the members' mean written as its decided value, in the caller's
    transaction (no figures, audit row or commit: the caller's, once for all). Returns the value written, as text;
    None when it was stored already (a second click that waited for the first)."""
    indicator, deductions, values = final_change(final, row.indicator.code, None, "", counted=counted, scores=scores)
    _, old = write_score(final, indicator, user, row.final.version if row.final else 0, deductions=deductions,
                         **values)
    return None if old is None else f"{values['points']:.2f}"


def submit_problems(final: Sheet) -> list[Text]:
    """Why a final sheet cannot be submitted yet, beyond unscored indicators: members still drafting, and values
    decided before a member score changed (成员评分已变化: the leader decides them again)."""
    members = member_sheets(final)
    problems = []
    pending = [m for m in members if m.status in PENDING_STATUSES]
    if pending:
        problems.append(_l("以下成员尚未提交评分表：%(names)s", names="、".join(m.inspector.display_name for m in pending)))
    stale = reconciliation(final).stale
    if stale:
        problems.append(_l("以下指标的成员评分已变化，请重新定分：%(codes)s", codes="、".join(r.indicator.code for r in stale)))
    return problems


def set_bonus_and_veto(final: Sheet, bonus_codes: list[str], veto: dict[str, str], user: User, *,
                       address: str | None = None) -> None:
    """Record the bonus items that apply and the veto findings (code → description); replaces what was there."""
    catalogue = final.round.catalogue_for(final.unit.level)
    items = {b.code: b for b in db.session.scalars(select(BonusItem).where(BonusItem.catalogue_id == catalogue.id))}
    vetoes = {v.code: v for v in db.session.scalars(select(VetoItem).where(VetoItem.catalogue_id == catalogue.id))}
    errors = {}
    unknown = [c for c in bonus_codes if c not in items] + [c for c in veto if c not in vetoes]
    if unknown:
        errors["items"] = _l("未知的加分项或否决项：%(codes)s", codes="、".join(unknown))
    for code, text in veto.items():
        text = (text or "").strip()
        if not text:
            errors[f"veto_{code}"] = _l("认定一票否决须填写情况说明")
        elif len(text) > 2000 or "\x00" in text:
            errors[f"veto_{code}"] = _l("情况说明过长或含有无效字符")
    if errors:
        raise Invalid("final.bonus_veto_invalid", _l("输入有误，请检查"), errors)
    # The sheet's lock first: a second submit of the same form waits here and then replaces what the first wrote
    # (without it, its DELETE cannot see the first one's new rows and its INSERT hits their unique key).
    lock_sheet(final)
    db.session.expire(final, ["bonuses", "vetoes"])
    old = {"bonus": sorted(b.item.code for b in final.bonuses), "veto": sorted(v.item.code for v in final.vetoes)}
    # Delete, flush, insert: replacing the collections would insert before deleting and hit the unique keys. The old
    # rows leave the session too, since a new row may reuse a deleted row's id.
    for row in [*final.bonuses, *final.vetoes]:
        db.session.expunge(row)
    db.session.execute(SheetBonus.__table__.delete().where(SheetBonus.sheet_id == final.id))
    db.session.execute(SheetVeto.__table__.delete().where(SheetVeto.sheet_id == final.id))
    db.session.add_all([SheetBonus(sheet_id=final.id, bonus_item_id=items[c].id) for c in sorted(set(bonus_codes))])
    db.session.add_all([SheetVeto(sheet_id=final.id, veto_item_id=vetoes[c].id, description=t.strip())
                        for c, t in sorted(veto.items())])
    db.session.flush()
    refresh_sheet(final, utcnow(), locked=True)  # (lock_sheet above)
    db.session.expire(final, ["bonuses", "vetoes"])
    audit.record("sheet.bonus_veto", user=user, address=address, obj=final, unit_id=final.unit_id,
                 round_id=final.round_id, old=old,
                 new={"bonus": sorted(set(bonus_codes)), "veto": sorted(veto)},
                 detail="；".join(f"{c}：{t.strip()}" for c, t in sorted(veto.items())))
    versions.bump_sheet(final)
    db.session.commit()
