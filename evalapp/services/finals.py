"""A final sheet's decided values: which member sheets count, and what deciding one indicator writes (the reconcile
rule). Read by the save of a final sheet (services.scores) and by the leader's reconciliation (services.reconcile),
which both build on it."""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain.numbers import parse_points
from ..domain.scoring import proposed_final, validate_final
from ..extensions import db
from ..models import Indicator, Score, Sheet
from .errors import Invalid, _l, shown
from .sheet_views import find_indicator

# Member sheets whose scores count towards the mean: submitted ones only. Drafts (and returned ones) are still
# being written; closed ones (未提交) were left behind when the round moved on or the member left the team.
COUNTED_STATUSES = ("submitted", "approved")
NOTE_MEAN = "采用成员平均分"


def member_sheets(final: Sheet) -> list[Sheet]:
    """The inspector sheets of the same unit and round, in member order."""
    return db.session.scalars(select(Sheet).where(
        Sheet.round_id == final.round_id, Sheet.unit_id == final.unit_id, Sheet.kind == "inspector")
        .options(joinedload(Sheet.inspector)).order_by(Sheet.inspector_id)).all()


def member_scores(sheets: list[Sheet], indicator_id: int | None = None) -> dict[tuple[int, int], Score]:
    """(member sheet id, indicator id) → the member's score row, for scored rows of the given sheets."""
    query = select(Score).where(Score.sheet_id.in_([s.id for s in sheets]), Score.points.is_not(None))
    if indicator_id is not None:
        query = query.where(Score.indicator_id == indicator_id)
    return {(r.sheet_id, r.indicator_id): r for r in db.session.scalars(query)}


def counted(members: list[Sheet]) -> list[Sheet]:
    return [m for m in members if m.status in COUNTED_STATUSES]


def basis(counted: list[Sheet], scores: dict[tuple[int, int], Score], indicator_id: int) -> list[dict]:
    return [{"sheet_id": m.id, "version": scores[(m.id, indicator_id)].version,
             "points": f"{scores[(m.id, indicator_id)].points:.2f}"}
            for m in counted if (m.id, indicator_id) in scores]


def final_change(final: Sheet, code: str, raw_value, reason: str, *, counted: list[Sheet] | None = None,
                 scores: dict[tuple[int, int], Score] | None = None) -> tuple[Indicator, dict, dict]:
    """What deciding one indicator writes (as scores.entry_change): the indicator, no deductions, and the score's
    columns — the value, its reason, the note naming the mean, and the basis. Invalid when the value breaks the
    rule. `counted` and `scores`: the submitted member sheets and their scores (of every indicator), when the
    caller has read them already."""
    indicator = find_indicator(final, code)
    if counted is None:
        counted = [m for m in member_sheets(final) if m.status in COUNTED_STATUSES]
    if scores is None:
        scores = member_scores(counted, indicator.id)
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
                               reason=reason, note=note,  # (a reason given with the mean is kept, not dropped)
                               basis=basis(counted, scores, indicator.id))
