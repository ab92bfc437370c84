"""What the district sees when it reviews a final sheet: the result as it will be published and what is behind it."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain.numbers import q2
from ..domain.scoring import Standing, members_disagree, proposed_final
from ..extensions import db
from ..models import BonusItem, EvidenceFile, Score, Sheet, SheetBonus, SheetVeto, VetoItem
from .catalogues import cached_tree, indicators_of
from .finals import COUNTED_STATUSES, NOTE_MEAN
from .reconcile import submit_problems
from .figures import figures_of
from .sheet_views import ShowsStanding, catalogue_for_sheet, sheet_standing


@dataclass(frozen=True)
class DeductionLine:
    code: str
    text: str
    count: int
    points: Decimal | None  # per × count; None for a void rule (the indicator scores 0)
    void: bool


@dataclass
class Entry:
    """One sheet's entry for one indicator: its value and everything it was made of."""

    sheet: Sheet
    points: Decimal | None  # None: unscored (no row, or a row holding only a note)
    direct: Decimal | None
    deductions: list[DeductionLine]
    free_deduction: Decimal
    reason: str
    note: str
    photos: list[EvidenceFile]

    @property
    def empty(self) -> bool:
        return (self.points is None and not self.deductions and not self.reason and not self.note
                and not self.photos)


@dataclass
class IndicatorReview:
    indicator: object
    final: Entry
    members: list[Entry]        # one per member sheet (closed ones left out), in member order
    proposed: Decimal | None    # the mean of the submitted members' values
    flagged: bool               # members differ by more than the round's tolerance

    @property
    def adjusted(self) -> bool:
        """The leader set a value other than the members' mean."""
        return self.final.points is not None and self.proposed is not None and self.final.points != self.proposed


@dataclass(frozen=True)
class VetoLine:
    code: str
    text: str
    finding: str


@dataclass(frozen=True)
class BonusLine:
    code: str
    text: str
    points: Decimal
    note: str


@dataclass
class FinalReview(ShowsStanding):
    sheet: Sheet
    note_mean: str           # the note a final value taken as the members' mean carries (not worth repeating)
    members: list[Sheet]
    vetoes: list[VetoLine]
    bonuses: list[BonusLine]
    bonus_sum: Decimal       # Σ bonus items recorded
    bonus_cap: Decimal
    score_sum: Decimal
    standing: Standing       # as it will be published once approved (the sheet's stored sums, the standing rule)
    indicators: list[IndicatorReview] = field(default_factory=list)
    # Why the sheet cannot be approved as it stands (members still drafting, 成员评分已变化): reconcile's rule.
    problems: list[str] = field(default_factory=list)

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    @property
    def bonus_counted(self) -> Decimal:
        """min(Σ bonus, cap): what the total takes."""
        return self.standing.bonus_counted

    @property
    def missing(self) -> Decimal | None:
        """Points to the line as results show them: for a complete unit without a veto; else None."""
        return self.standing.missing if self.standing.counts else None

    @property
    def capped(self) -> bool:
        return self.bonus_sum > self.bonus_cap


def _deduction_points(per: Decimal | None, count: int, void: bool) -> Decimal | None:
    return None if void or per is None else q2(per * count)


def final_review(sheet: Sheet) -> FinalReview:
    """A final sheet's review: veto findings, bonus items with the cap applied, the total and result as they will
    be published, and per indicator the final value beside each member's value, deductions (rule, count, points),
    free deduction, reason, note and photos.

    A fixed number of queries whatever the number of indicators and members: member sheets, scores with their
    deductions, photos, bonus items, veto findings.
    """
    catalogue = cached_tree(catalogue_for_sheet(sheet))
    indicators = indicators_of(catalogue)
    rules = {r.id: r for ind in indicators for r in ind.rules}
    # Members whose sheets count (a closed draft, 未提交, is left out of the mean and of the review).
    members = db.session.scalars(
        select(Sheet).where(Sheet.round_id == sheet.round_id, Sheet.unit_id == sheet.unit_id,
                            Sheet.kind == "inspector", Sheet.status != "closed")
        .options(joinedload(Sheet.inspector)).order_by(Sheet.inspector_id)).all()
    ids = [sheet.id, *(m.id for m in members)]
    scores = {(s.sheet_id, s.indicator_id): s for s in db.session.scalars(
        select(Score).where(Score.sheet_id.in_(ids)).options(joinedload(Score.deductions))).unique()}
    photos: dict[tuple[int, int | None], list[EvidenceFile]] = {}
    for ev in db.session.scalars(select(EvidenceFile).where(EvidenceFile.sheet_id.in_(ids),
                                                            EvidenceFile.deleted_at.is_(None))
                                 .options(joinedload(EvidenceFile.uploaded_by)).order_by(EvidenceFile.id)):
        photos.setdefault((ev.sheet_id, ev.indicator_id), []).append(ev)

    def entry(of: Sheet, indicator_id: int) -> Entry:
        score = scores.get((of.id, indicator_id))
        shots = photos.get((of.id, indicator_id), [])
        if score is None:
            return Entry(of, None, None, [], Decimal("0.00"), "", "", shots)
        lines = sorted((DeductionLine(rules[d.rule_id].code, rules[d.rule_id].text, d.count,
                                      _deduction_points(rules[d.rule_id].per, d.count, rules[d.rule_id].void),
                                      rules[d.rule_id].void)
                        for d in score.deductions if d.rule_id in rules), key=lambda d: d.code)
        return Entry(of, score.points, score.direct_score, lines, score.free_deduction or Decimal("0.00"),
                     score.reason or "", score.note or "", shots)

    tolerance = sheet.round.tolerance
    rows = []
    for ind in indicators:
        given = [entry(m, ind.id) for m in members]
        values = [e.points for e in given if e.points is not None and e.sheet.status in COUNTED_STATUSES]
        rows.append(IndicatorReview(ind, entry(sheet, ind.id), given, proposed_final(values),
                                    members_disagree(values, tolerance)))

    bonuses = [BonusLine(code, text, Decimal(points), note or "") for code, text, points, note in db.session.execute(
        select(BonusItem.code, BonusItem.text, BonusItem.points, SheetBonus.note)
        .join(SheetBonus, SheetBonus.bonus_item_id == BonusItem.id)
        .where(SheetBonus.sheet_id == sheet.id).order_by(BonusItem.position, BonusItem.id))]
    vetoes = [VetoLine(code, text, finding or "") for code, text, finding in db.session.execute(
        select(VetoItem.code, VetoItem.text, SheetVeto.description)
        .join(SheetVeto, SheetVeto.veto_item_id == VetoItem.id)
        .where(SheetVeto.sheet_id == sheet.id).order_by(VetoItem.position, VetoItem.id))]

    # The sheet's stored sums, as the round's results read them: what the reviewer confirms is what is published.
    figures = figures_of(sheet)
    return FinalReview(sheet, NOTE_MEAN, members, vetoes, bonuses, q2(figures.bonus_sum), catalogue.bonus_cap,
                       q2(figures.score_sum), sheet_standing(sheet, figures, len(indicators), catalogue.bonus_cap),
                       rows, submit_problems(sheet))
