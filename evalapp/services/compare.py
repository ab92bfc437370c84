"""Self-assessment against the final sheet, per indicator and in total."""
from dataclasses import dataclass

from sqlalchemy import select

from ..domain.aggregation import Gap, gap
from ..extensions import db
from ..models import Sheet, SheetVeto, VetoItem
from .sheet_views import SheetView, sheet_view


@dataclass
class Comparison:
    self_view: SheetView
    final_view: SheetView
    rows: list[tuple[object, Gap]]
    total: Gap
    vetoes: list[tuple[str, str, str]]  # the final sheet's veto findings: (item code, item text, finding)


def final_for(sheet: Sheet) -> Sheet | None:
    """The final sheet of the same unit and round, if one exists."""
    return db.session.scalar(select(Sheet).where(Sheet.round_id == sheet.round_id, Sheet.unit_id == sheet.unit_id,
                                                 Sheet.kind == "final"))


def self_for(sheet: Sheet) -> Sheet | None:
    return db.session.scalar(select(Sheet).where(Sheet.round_id == sheet.round_id, Sheet.unit_id == sheet.unit_id,
                                                 Sheet.kind == "self"))


def compare(self_sheet: Sheet, final_sheet: Sheet) -> Comparison:
    """Per indicator: self, final, gap and the 自评虚高 flag; and the same for the totals."""
    tolerance = self_sheet.round.tolerance
    sv, fv = sheet_view(self_sheet), sheet_view(final_sheet)
    rows = []
    for ind in sv.indicators:
        s, f = sv.scores.get(ind.id), fv.scores.get(ind.id)
        rows.append((ind, gap(s.points if s else None, f.points if f else None, tolerance)))
    totals = gap(sv.total if sv.figures.scored else None, fv.total if fv.figures.scored else None, tolerance)
    return Comparison(sv, fv, rows, totals, vetoes_of(final_sheet))


def vetoes_of(sheet: Sheet) -> list[tuple[str, str, str]]:
    """A sheet's veto findings as (item code, item text, finding), in the catalogue's order."""
    return [tuple(r) for r in db.session.execute(
        select(VetoItem.code, VetoItem.text, SheetVeto.description)
        .join(SheetVeto, SheetVeto.veto_item_id == VetoItem.id)
        .where(SheetVeto.sheet_id == sheet.id).order_by(VetoItem.position, VetoItem.id))]
