"""Round results: every unit in scope against the threshold, from SQL aggregates."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ..domain.aggregation import (
    LEVELS, ROLLUP_RULE, Gap, RollUp, gap, ranking_key, roll_up, standings, township_order_key,
)
from ..domain.scoring import Line, Result, Sums, standing
from ..extensions import db
from ..models import CatalogueVersion, Indicator, OrgUnit, Round, RoundUnit, Sheet


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
    # The round's tolerance: `gap` is computed from it when read (one object less per unit to allocate and for the
    # collector to walk: a province's report is 31,500 units).
    tolerance: Decimal
    final_sheet_id: int | None = None
    self_sheet_id: int | None = None
    # Its standing among the units of its level (domain.aggregation.standings): no rank and no points missing
    # when vetoed or incomplete; `place` is its position in the level's ranking order.
    rank: int | None = None
    missing: Decimal | None = None
    vetoed: bool = False
    place: int = 0

    @property
    def gap(self) -> Gap:
        """The self-assessment's gap to the final total (rule 5)."""
        return gap(self.self_total, self.final_total, self.tolerance)

    def as_json(self) -> dict:
        fmt = lambda v: None if v is None else f"{v:.2f}"  # noqa: E731
        gap = self.gap
        return {"code": self.code, "name": self.name, "level": self.level, "township_code": self.township_code,
                "self_total": fmt(self.self_total), "final_total": fmt(self.final_total),
                "self_gap": fmt(gap.gap), "self_inflated": gap.inflated,
                "result": self.result.value, "rank": self.rank, "points_missing": fmt(self.missing),
                "veto": self.vetoed}


def round_results(round_: Round) -> list[UnitResult]:
    """Per unit in scope: self and final totals, the result (未完成 unless the final sheet is approved), rank and
    points missing; in ranking order (townships, then villages; a vetoed unit after the others of its level).

    One query whatever the size: each unit with its self and final sheets' stored figures, read as plain rows. The
    round's settings are read from the database too, not from the object passed in (it may have been loaded before
    the results version the caller read: services.versions).
    """
    parent, self_sheet, final_sheet = aliased(OrgUnit), aliased(Sheet), aliased(Sheet)
    query = (
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level, parent.code,
               self_sheet.id, self_sheet.scored, self_sheet.score_sum, self_sheet.bonus_sum,
               final_sheet.id, final_sheet.status, final_sheet.scored, final_sheet.score_sum, final_sheet.bonus_sum,
               final_sheet.vetoed)
        .join(RoundUnit, RoundUnit.unit_id == OrgUnit.id)
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .outerjoin(self_sheet, and_(self_sheet.round_id == round_.id, self_sheet.unit_id == OrgUnit.id,
                                    self_sheet.kind == "self"))
        .outerjoin(final_sheet, and_(final_sheet.round_id == round_.id, final_sheet.unit_id == OrgUnit.id,
                                     final_sheet.kind == "final"))
        .where(RoundUnit.round_id == round_.id).order_by(OrgUnit.code)
    )
    tolerance, lines = settings(round_.id)
    rows = []
    # A Core execution: plain tuples, without the ORM's per-row bookkeeping (31,500 units in a province).
    rows_in = db.session.connection().execute(query)
    for (uid, code, name, level, parent_code, self_id, self_scored, self_sum, self_bonus,
         final_id, final_status, final_scored, final_sum, final_bonus, vetoed) in rows_in:
        line = lines[level]
        own = standing(Sums(self_sum, self_scored, self_bonus, False), line, decided=False) if self_id else None
        final = (standing(Sums(final_sum, final_scored, final_bonus, bool(vetoed)), line,
                          decided=final_status == "approved") if final_id else standing(None, line, decided=False))
        rows.append(UnitResult(
            uid, code, name, level, parent_code if level == "village" else code,
            own.total if own else None, final.total, final_status, final.result, tolerance, final_id, self_id,
            missing=final.missing,
        ))
    place(rows)
    rows.sort(key=lambda u: ranking_key(u.level, u.place))
    return rows


def settings(round_id: int) -> tuple[Decimal, dict[str, Line]]:
    """The round's tolerance and, by level, the line its units are measured by (threshold, bonus cap, indicator
    count), as committed now."""
    township, village = aliased(CatalogueVersion), aliased(CatalogueVersion)

    def count(catalogue):
        return select(func.count(Indicator.id)).where(Indicator.catalogue_id == catalogue.id).scalar_subquery()

    threshold, tolerance, township_cap, village_cap, township_n, village_n = db.session.execute(
        select(Round.threshold, Round.tolerance, township.bonus_cap, village.bonus_cap, count(township),
               count(village))
        .join(township, township.id == Round.township_catalogue_id)
        .join(village, village.id == Round.village_catalogue_id).where(Round.id == round_id)).one()
    return tolerance, {"township": Line(threshold, township_cap, township_n),
                       "village": Line(threshold, village_cap, village_n)}


def place(units: list[UnitResult]) -> None:
    """Set each unit's rank, points missing (kept for ranked units only), veto flag and place among the units of its
    level; `missing` comes in as the standing rule gave it."""
    for level in LEVELS:
        of_level = [u for u in units if u.level == level]
        for u, s in zip(of_level, standings([(u.code, u.final_total, u.result, u.missing) for u in of_level])):
            u.rank, u.missing, u.vetoed, u.place = s.rank, s.missing, s.vetoed, s.place


@dataclass
class ReportRow:
    unit: UnitResult
    township_name: str

    @property
    def rank(self) -> int | None:
        return self.unit.rank

    @property
    def missing(self) -> Decimal | None:
        return self.unit.missing

    @property
    def vetoed(self) -> bool:
        return self.unit.vetoed


@dataclass
class TownshipRow:
    township: ReportRow | None
    villages: RollUp


@dataclass
class Report:
    round: Round | None  # None only inside the per-process cache
    rows: list[ReportRow]
    townships: list[TownshipRow]
    summary: dict[str, RollUp]
    # The results version the report was computed under (read before its data: services.versions); None when it
    # was computed without one (then nothing rendered from it is kept either).
    version: int | None = None
    # Unique to this computation in this process (copies share it): what is rendered from a report is kept under
    # it, so kept rows always come from the very report the rest of the page shows (a version number alone could
    # repeat after a database is restored under the same URL).
    serial: int = 0


def _roll(rows: list[UnitResult], rule: int) -> RollUp:
    return roll_up([(r.final_total, r.result is not Result.INCOMPLETE, r.result is Result.PASS,
                     r.result is Result.VETO) for r in rows], rule)


def report_order(unit: UnitResult) -> tuple:
    """The order of reports and sheets: each township, then its villages by code, vetoed villages last."""
    return township_order_key(unit.township_code, unit.level, unit.vetoed, unit.code)


def township_names() -> dict[str, str]:
    return dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.level == "township")).all())


def round_report(round_: Round) -> Report:
    """Results with ranks within each level, points missing, township roll-ups and the district summary."""
    return assemble_report(round_, round_results(round_), township_names())


def assemble_report(round_: Round | None, units: list[UnitResult], names: dict[str, str],
                    rule: int = ROLLUP_RULE) -> Report:
    """The report of units already ranked (round_results, or a published version: services.snapshots), with
    township names by code; its roll-ups by `rule` (a published version's own: Publication.figures_rule)."""
    rows = sorted((ReportRow(u, names.get(u.township_code, "")) for u in units), key=lambda r: report_order(r.unit))
    own: dict[str, ReportRow] = {}
    villages: dict[str, list[UnitResult]] = {}
    for r in rows:
        if r.unit.level == "township":
            own[r.unit.code] = r
        elif r.unit.township_code:
            villages.setdefault(r.unit.township_code, []).append(r.unit)
    townships = [TownshipRow(own.get(code), _roll(villages.get(code, []), rule))
                 for code in sorted(set(own) | set(villages))]
    summary = {level: _roll([u for u in units if u.level == level], rule) for level in LEVELS}
    return Report(round_, rows, townships, summary)


@dataclass
class FailingUnit:
    unit: UnitResult
    lowest: list[tuple[str, str, Decimal]]  # (code, title, points lost)
    vetoes: list[tuple[str, str]]           # (item text, finding)


def failing_list(units: list[UnitResult], losses, vetoes: dict, key) -> list[FailingUnit]:
    """Of `units` (in the order wanted), those that did not pass, each with its three weakest indicators (most points
    lost first, then by code) and its veto findings. `key(unit)` names a unit in `losses` — rows of (key, indicator
    code, title, points lost) — and in `vetoes` (key → [(item, finding)]): its final sheet's id for the live data,
    its code (services.readmodel.failing_of)."""
    rows = [u for u in units if u.result is not Result.PASS]
    failing = {key(u) for u in rows} - {None}
    lost: dict = {}
    for unit_key, code, title, points_lost in losses:
        if unit_key in failing:
            lost.setdefault(unit_key, []).append((code, title, Decimal(points_lost)))
    return [FailingUnit(u, sorted(lost.get(key(u), []), key=lambda x: (-x[2], x[0]))[:3], vetoes.get(key(u), []))
            for u in rows]
