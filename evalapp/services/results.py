"""Round results: every unit in scope against the threshold, from SQL aggregates."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..domain.aggregation import Gap, gap
from ..domain.scoring import Result, evaluate
from ..extensions import db
from ..models import OrgUnit, Round, RoundUnit, Sheet
from .sheets import sheet_figures, sheet_total


@dataclass
class UnitResult:
    unit_id: int
    code: str
    name: str
    level: str
    township_code: str | None
    self_total: Decimal | None
    final_total: Decimal | None
    final_status: str | None
    result: Result
    gap: Gap

    def as_json(self) -> dict:
        fmt = lambda v: None if v is None else f"{v:.2f}"  # noqa: E731
        return {"code": self.code, "name": self.name, "level": self.level, "township_code": self.township_code,
                "self_total": fmt(self.self_total), "final_total": fmt(self.final_total),
                "self_gap": fmt(self.gap.gap), "self_inflated": self.gap.inflated,
                "result": self.result.value}


def round_results(round_: Round) -> list[UnitResult]:
    """Per unit in scope: self and final totals and the result (未完成 unless the final sheet is approved)."""
    parent = aliased(OrgUnit)
    units = db.session.execute(
        select(OrgUnit, parent.code).join(RoundUnit, RoundUnit.unit_id == OrgUnit.id)
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .where(RoundUnit.round_id == round_.id).order_by(OrgUnit.code)
    ).all()
    sheets = db.session.execute(
        select(Sheet.id, Sheet.unit_id, Sheet.kind, Sheet.status)
        .where(Sheet.round_id == round_.id, Sheet.kind.in_(("self", "final")))
    ).all()
    figures = sheet_figures(s.id for s in sheets)
    by_unit: dict[tuple[int, str], tuple] = {(s.unit_id, s.kind): s for s in sheets}
    caps = {"township": round_.township_catalogue.bonus_cap, "village": round_.village_catalogue.bonus_cap}
    rows = []
    for unit, parent_code in units:
        cap = caps.get(unit.level, Decimal(0))
        self_sheet, final_sheet = by_unit.get((unit.id, "self")), by_unit.get((unit.id, "final"))
        self_total = (sheet_total(figures[self_sheet.id], cap)
                      if self_sheet is not None and figures[self_sheet.id].scored else None)
        final_total = veto = None
        if final_sheet is not None and figures[final_sheet.id].scored:
            final_total = sheet_total(figures[final_sheet.id], cap)
            veto = figures[final_sheet.id].veto
        approved = final_sheet is not None and final_sheet.status == "approved"
        rows.append(UnitResult(
            unit.id, unit.code, unit.name, unit.level, parent_code if unit.level == "village" else unit.code,
            self_total, final_total, final_sheet.status if final_sheet is not None else None,
            evaluate(final_total, round_.threshold, veto=bool(veto), complete=approved),
            gap(self_total, final_total, round_.tolerance),
        ))
    return rows
