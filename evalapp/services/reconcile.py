"""The team leader's reconciliation: members' scores side by side, the proposed final, bonus and veto."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..domain.numbers import InvalidInput, parse_points
from ..domain.scoring import members_disagree, proposed_final, validate_final
from ..extensions import db
from ..models import BonusItem, Score, Sheet, SheetBonus, SheetVeto, User, VetoItem
from ..models.base import utcnow
from . import audit
from .errors import Invalid
from .sheets import SheetView, find_indicator, refresh_sheet, sheet_view, store_score


@dataclass
class IndicatorRow:
    indicator: object
    members: list[tuple[Sheet, Decimal | None]]
    proposed: Decimal | None
    flagged: bool
    final: Score | None


@dataclass
class Reconciliation:
    view: SheetView
    members: list[Sheet]
    rows: list[IndicatorRow]
    bonus: dict[int, SheetBonus]
    veto: dict[int, SheetVeto]

    @property
    def unsubmitted(self) -> list[Sheet]:
        return [s for s in self.members if s.status not in ("submitted", "approved")]


def member_sheets(final: Sheet) -> list[Sheet]:
    """The inspector sheets of the same unit and round, in member order."""
    return db.session.scalars(select(Sheet).where(
        Sheet.round_id == final.round_id, Sheet.unit_id == final.unit_id, Sheet.kind == "inspector")
        .order_by(Sheet.inspector_id)).all()


def _member_points(sheets: list[Sheet]) -> dict[tuple[int, int], Decimal]:
    rows = db.session.execute(select(Score.sheet_id, Score.indicator_id, Score.points)
                              .where(Score.sheet_id.in_([s.id for s in sheets])))
    return {(r.sheet_id, r.indicator_id): r.points for r in rows}


def reconciliation(final: Sheet) -> Reconciliation:
    """Everything the leader's page shows, in a fixed number of queries."""
    view = sheet_view(final)
    members = member_sheets(final)
    points = _member_points(members)
    tolerance = final.round.tolerance
    rows = []
    for ind in view.indicators:
        scores = [(m, points.get((m.id, ind.id))) for m in members]
        given = [p for _, p in scores if p is not None]
        rows.append(IndicatorRow(ind, scores, proposed_final(given), members_disagree(given, tolerance),
                                 view.scores.get(ind.id)))
    bonus = {b.bonus_item_id: b for b in db.session.scalars(select(SheetBonus).where(SheetBonus.sheet_id == final.id))}
    veto = {v.veto_item_id: v for v in db.session.scalars(select(SheetVeto).where(SheetVeto.sheet_id == final.id))}
    return Reconciliation(view, members, rows, bonus, veto)


def set_final_score(final: Sheet, code: str, raw_value, reason: str, user: User, expected_version: int) -> Score:
    """Keep the members' mean (raw_value None or empty) or override it with a reason."""
    indicator = find_indicator(final, code)
    members = member_sheets(final)
    points = _member_points(members)
    proposed = proposed_final([p for (sid, iid), p in points.items() if iid == indicator.id])
    reason = (reason or "").strip()
    if raw_value in (None, ""):
        if proposed is None:
            raise Invalid("成员尚未评分该指标，不能取平均分", {"score": "成员尚未评分该指标，请直接填写得分并说明理由"})
        value = proposed
    else:
        try:
            value = parse_points(raw_value)
        except ValueError as exc:
            raise Invalid("输入有误，请检查", {"score": str(exc)}) from None
    errors = validate_final(value, indicator.points, proposed, reason)
    if errors:
        raise Invalid("输入有误，请检查", errors)
    note = "采用成员平均分" if value == proposed else f"组长调整（成员平均分 {proposed if proposed is not None else '无'}）"
    return store_score(final, indicator, user, expected_version, points=value, direct_score=value,
                       free_deduction=Decimal("0"), reason=reason if value != proposed else "", note=note,
                       deductions={})


def accept_all_proposals(final: Sheet, user: User) -> int:
    """Take the members' mean for every indicator the leader has not scored yet; returns how many."""
    rec = reconciliation(final)
    taken = 0
    for row in rec.rows:
        if row.final is None and row.proposed is not None:
            set_final_score(final, row.indicator.code, None, "", user, 0)
            taken += 1
    return taken


def set_bonus_and_veto(final: Sheet, bonus_codes: list[str], veto: dict[str, str], user: User) -> None:
    """Record the bonus items that apply and the veto findings (code → description); replaces what was there."""
    catalogue = final.round.catalogue_for(final.unit.level)
    items = {b.code: b for b in db.session.scalars(select(BonusItem).where(BonusItem.catalogue_id == catalogue.id))}
    vetoes = {v.code: v for v in db.session.scalars(select(VetoItem).where(VetoItem.catalogue_id == catalogue.id))}
    errors = {}
    unknown = [c for c in bonus_codes if c not in items] + [c for c in veto if c not in vetoes]
    if unknown:
        errors["items"] = f"未知的加分项或否决项：{'、'.join(unknown)}"
    for code, text in veto.items():
        text = (text or "").strip()
        if not text:
            errors[f"veto_{code}"] = "认定一票否决须填写情况说明"
        elif len(text) > 2000 or "\x00" in text:
            errors[f"veto_{code}"] = "情况说明过长或含有无效字符"
    if errors:
        raise Invalid("输入有误，请检查", errors)
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
    refresh_sheet(final, utcnow())
    db.session.expire(final, ["bonuses", "vetoes"])
    audit.record("sheet.bonus_veto", user=user, obj=final, unit_id=final.unit_id, round_id=final.round_id, old=old,
                 new={"bonus": sorted(set(bonus_codes)), "veto": sorted(veto)},
                 detail="；".join(f"{c}：{t.strip()}" for c, t in sorted(veto.items())))
    db.session.commit()
