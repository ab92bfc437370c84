"""The team leader's reconciliation: members' scores side by side, the proposed final, bonus and veto."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from ..domain.scoring import basis_changes, members_disagree, proposed_final
from ..domain.workflow import MEMBER_SETTLED
from ..extensions import db
from ..models import BonusItem, Category, Indicator, Score, Sheet, SheetBonus, SheetVeto, User, VetoItem
from ..models.base import utcnow
from ..models.sheet import SHEET_STATUSES
from . import audit, versions
from .errors import Conflict, Invalid, Text, _l, text_message
from .figures import lock_sheet, refresh_sheet
from .scores import ConcurrentSave, Saved, store_score, write_score
from .finals import COUNTED_STATUSES, NOTE_MEAN, counted as _counted, final_change, member_scores as _member_scores, member_sheets
from .sheet_views import SheetView, sheet_view


PENDING_STATUSES = tuple(sorted(set(SHEET_STATUSES) - MEMBER_SETTLED - {"approved"}))  # draft, returned


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


def _recorded(final: Score | None) -> dict[int, Decimal] | None:
    if final is None or final.points is None or final.basis is None:
        return None  # no decision, or one from before decisions kept their basis: nothing to compare
    return {int(b["sheet_id"]): Decimal(b["points"]) for b in final.basis}


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
    pending, stale = final_problems([final])[final.id]
    problems = []
    if pending:
        problems.append(_l("以下成员尚未提交评分表：%(names)s", names="、".join(m.inspector.display_name for m in pending)))
    if stale:
        problems.append(_l("以下指标的成员评分已变化，请重新定分：%(codes)s", codes="、".join(stale)))
    return problems


def final_problems(finals: list[Sheet]) -> dict[int, tuple[list[Sheet], list[str]]]:
    """final sheet id → (its members still drafting, the codes of its indicators decided before a member score
    changed, in catalogue order): the rule of submit_problems (and of the reconcile page's rows: the decision's
    basis against the counted members' scores now, domain.scoring.basis_changes) for many sheets in four queries,
    whatever their number (the district's queue, a bulk approval)."""
    out: dict[int, tuple[list[Sheet], list[str]]] = {f.id: ([], []) for f in finals}
    if not finals:
        return out
    pairs = {(f.round_id, f.unit_id): f.id for f in finals}
    members = db.session.scalars(
        select(Sheet).where(Sheet.kind == "inspector", tuple_(Sheet.round_id, Sheet.unit_id).in_(list(pairs)))
        .options(joinedload(Sheet.inspector)).order_by(Sheet.inspector_id, Sheet.id)).all()
    counted_of: dict[int, list[int]] = {f.id: [] for f in finals}
    for m in members:
        final_id = pairs[(m.round_id, m.unit_id)]
        if m.status in PENDING_STATUSES:
            out[final_id][0].append(m)
        elif m.status in COUNTED_STATUSES:
            counted_of[final_id].append(m.id)
    current: dict[tuple[int, int], Decimal] = {
        (sheet_id, indicator_id): points for sheet_id, indicator_id, points in db.session.execute(
            select(Score.sheet_id, Score.indicator_id, Score.points)
            .where(Score.sheet_id.in_([m.id for m in members]), Score.points.is_not(None)))}
    decided = db.session.execute(
        select(Score.sheet_id, Score.indicator_id, Indicator.code, Score.points, Score.basis)
        .join(Indicator, Indicator.id == Score.indicator_id).join(Category, Category.id == Indicator.category_id)
        .where(Score.sheet_id.in_(list(out)), Score.points.is_not(None))
        .order_by(Score.sheet_id, Category.position, Indicator.position, Indicator.id))
    for final_id, indicator_id, code, _points, basis in decided:
        if basis is None:  # a decision from before decisions kept their basis: nothing to compare
            continue
        recorded = {int(b["sheet_id"]): Decimal(b["points"]) for b in basis}
        now = {m: current[(m, indicator_id)] for m in counted_of[final_id] if (m, indicator_id) in current}
        if basis_changes(recorded, now):
            out[final_id][1].append(code)
    return out


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
        elif (problem := text_message(_l("情况说明"), text, box=True)) is not None:
            errors[f"veto_{code}"] = problem
        elif len(text) > 2000:
            errors[f"veto_{code}"] = _l("情况说明过长或含有无效字符")
    if errors:
        raise Invalid("final.bonus_veto_invalid", _l("输入有误，请检查"), errors)
    try:
        _replace_bonus_and_veto(final, items, vetoes, bonus_codes, veto, user, address)
    except BaseException:
        db.session.rollback()  # (a sheet submitted meanwhile: figures.refresh_sheet refused the write)
        raise
    db.session.commit()


def _replace_bonus_and_veto(final: Sheet, items: dict, vetoes: dict, bonus_codes: list[str], veto: dict[str, str],
                            user: User, address: str | None) -> None:
    """set_bonus_and_veto's write, in the caller's transaction (not committed)."""
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
