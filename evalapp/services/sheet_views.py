"""Reading a sheet: loaded with what every access check reads, and viewed with its catalogue, scores, photos and
figures in a fixed number of queries."""
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..domain.scoring import Line, Result, Standing, standing
from ..extensions import db
from ..models import CatalogueVersion, EvidenceFile, Indicator, Round, Score, Sheet
from .catalogues import cached_tree, indicators_of
from .errors import NotFound, _l
from .figures import SheetFigures, figures_of


def catalogue_for_sheet(sheet: Sheet) -> CatalogueVersion:
    """The catalogue a sheet is scored against (by the level of its unit)."""
    return sheet.round.catalogue_for(sheet.unit.level)


@cache
def _sheet_load_options():
    return (joinedload(Sheet.round).joinedload(Round.township_catalogue),
            joinedload(Sheet.round).joinedload(Round.village_catalogue), joinedload(Sheet.unit))


def load_sheet(sheet_id: int, *, lock: bool = False) -> Sheet | None:
    """A sheet with its round (and the round's catalogues) and unit, in one query: every access check and page
    reads them. `lock` takes the sheet's row lock (PostgreSQL, FOR NO KEY UPDATE) for a change of its scores, so
    concurrent changes of one sheet queue here, before any work.
    """
    if not lock:
        return db.session.get(Sheet, sheet_id, options=_sheet_load_options())
    return db.session.get(Sheet, sheet_id, options=_sheet_load_options(), populate_existing=True,
                          with_for_update={"of": Sheet, "key_share": True})


# The two statements every view of a sheet runs are built once, the sheet's id a parameter: building and keying a
# select with its loader options cost about as much as running it on SQLite (0.2 and 0.13 ms of a scoring page).
@cache
def _scores_statement():
    return (select(Score).where(Score.sheet_id == bindparam("sheet_id"))
            .options(joinedload(Score.deductions)))  # one query, not two


@cache
def _evidence_statement():
    return (select(EvidenceFile).where(EvidenceFile.sheet_id == bindparam("sheet_id"),
                                       EvidenceFile.deleted_at.is_(None)).order_by(EvidenceFile.id)
            .options(joinedload(EvidenceFile.uploaded_by)))  # named under each photo (templates/_provenance.html)


def scores_by_indicator(sheet: Sheet) -> dict[int, Score]:
    """The sheet's scores keyed by indicator id, deductions loaded (a deduction names its rule by id: the rules are
    in the catalogue tree the caller holds)."""
    rows = db.session.scalars(_scores_statement(), {"sheet_id": sheet.id}).unique()
    return {score.indicator_id: score for score in rows}


def find_indicator(sheet: Sheet, code: str) -> Indicator:
    """The indicator with this code in the sheet's catalogue (from the shared, read-only tree), or NotFound."""
    for indicator in indicators_of(cached_tree(catalogue_for_sheet(sheet))):
        if indicator.code == code:
            return indicator
    raise NotFound("indicator.not_on_sheet", _l("指标 %(code)s 不在本评分表中", code=code))


class ShowsStanding:
    """A face that shows a sheet's standing (its `standing` attribute): its total and result as the rule gives them."""

    standing: Standing

    @property
    def total(self) -> Decimal | None:
        return self.standing.total

    @property
    def result(self) -> Result:
        return self.standing.result


@dataclass
class SheetView(ShowsStanding):
    """Everything the scoring page and the API show of one sheet, read in a fixed number of queries."""

    sheet: Sheet
    catalogue: CatalogueVersion
    indicators: list[Indicator]
    scores: dict[int, Score]
    evidence: dict[int, list]
    figures: SheetFigures
    standing: Standing  # the result the sheet would give once approved (domain.scoring.standing)

    def is_scored(self, indicator: Indicator) -> bool:
        """Whether the indicator has a score (a row holding only a note does not count)."""
        score = self.scores.get(indicator.id)
        return score is not None and score.points is not None

    @property
    def scored_ids(self) -> set[int]:
        """The ids of the indicators that have a score (the page's jump list reads it once, not once a card)."""
        return {i for i, score in self.scores.items() if score.points is not None}

    @property
    def unscored(self) -> list[Indicator]:
        return [i for i in self.indicators if not self.is_scored(i)]

    @property
    def missing_to_threshold(self) -> Decimal | None:
        return self.standing.missing


def sheet_view(sheet: Sheet) -> SheetView:
    """Load a sheet with its catalogue (shared, read-only), scores, evidence and figures."""
    catalogue = cached_tree(catalogue_for_sheet(sheet))
    indicators = indicators_of(catalogue)
    scores = scores_by_indicator(sheet)
    evidence: dict[int, list] = {}
    for ev in db.session.scalars(_evidence_statement(), {"sheet_id": sheet.id}):
        evidence.setdefault(ev.indicator_id, []).append(ev)
    figures = figures_of(sheet)  # the sheet's own stored columns
    return SheetView(sheet, catalogue, indicators, scores, evidence, figures,
                     sheet_standing(sheet, figures, len(indicators), catalogue.bonus_cap))


def sheet_line(sheet: Sheet, indicators: int, bonus_cap: Decimal) -> Line:
    """What the sheet's unit is measured by: the round's line, its catalogue's bonus cap and indicator count."""
    return Line(sheet.round.threshold, bonus_cap, indicators)


def sheet_standing(sheet: Sheet, figures: SheetFigures, indicators: int | None = None,
                   bonus_cap: Decimal | None = None) -> Standing:
    """The standing a sheet gives from its stored figures, as it would count once approved (the scoring, reconcile
    and review pages, their dialogs and the API)."""
    if indicators is None or bonus_cap is None:
        catalogue = cached_tree(catalogue_for_sheet(sheet))
        indicators, bonus_cap = len(indicators_of(catalogue)), catalogue.bonus_cap
    return standing(figures.sums, sheet_line(sheet, indicators, bonus_cap), decided=True)
