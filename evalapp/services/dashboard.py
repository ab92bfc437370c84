"""Figures behind the round's dashboard charts (each also shown as a table)."""
import math
from collections import Counter
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import exists, func, select

from ..domain.vocabulary import (
    INSPECTION_PROGRESS, TOWNSHIP_INDICATOR_CODE, VILLAGE_INDICATOR_CODE, SheetProgress,
)
from ..extensions import db
from ..models import Indicator, Publication, PublishedScore, PublishedUnit, Round, Score, Sheet
from .results import Report


def scatter_range(values: list[float], threshold: float) -> tuple[int, int]:
    """The scatter's axes, the same on both: up to 100 (further only when a total with bonus points is above it),
    down from the lowest value or the pass line, whichever is lower, to the multiple of 5 below it, never below 0.
    (Left to ECharts, "dataMin" and a line drawn to 103 gave an axis running 49–160 for points of 0–100.)"""
    low = min([*values, threshold])
    high = max([*values, 100.0])
    return max(0, 5 * math.floor((low - 1) / 5)), math.ceil(high)


def dashboard_data(round_: Round, report: Report, publication: Publication | None = None) -> dict:
    """Plain data for the five charts; Decimal values as floats only here, for drawing.

    With a `publication`, the results charts (pass rates, distribution, points lost, scatter) are the version's
    (`report` is its report: services.readmodel.round_model); inspection progress is always today's. Vetoed units
    are left out of the score distribution and counted in `vetoed`; in the scatter they carry a `veto` flag (drawn
    apart)."""
    threshold = float(publication.threshold if publication is not None else round_.threshold)
    pass_rate = [{"name": t.township.unit.name if t.township else "", "rate": float(t.villages.pass_rate or 0),
                  "passed": t.villages.passed, "in_scope": t.villages.in_scope} for t in report.townships]
    # A vetoed unit's total says nothing of its standing (一票否决 whatever the total): it is counted on its own.
    finals = [r.unit.final_total for r in report.rows if r.unit.final_total is not None
              and r.unit.result.value not in ("incomplete", "veto")]
    vetoed = sum(1 for r in report.rows if r.vetoed)
    bins = Counter(int(t) for t in finals)
    lo = min(bins) if bins else int(threshold) - 5
    hi = max(bins) if bins else 100
    distribution = [{"bin": b, "count": bins.get(b, 0)} for b in range(min(lo, int(threshold) - 1), max(hi, 100) + 1)]

    # Indicator codes repeat across the two catalogues: the chart names the catalogue's level with each (镇A1, 村A1).
    if publication is not None:
        code_in = {"township": TOWNSHIP_INDICATOR_CODE, "village": VILLAGE_INDICATOR_CODE}
        lost_rows = db.session.execute(
            select(PublishedScore.indicator_code, PublishedScore.title, PublishedUnit.level,
                   func.sum(PublishedScore.max_points - PublishedScore.points).label("lost"),
                   func.count(PublishedScore.points))
            .join(PublishedUnit, (PublishedUnit.publication_id == PublishedScore.publication_id)
                  & (PublishedUnit.code == PublishedScore.unit_code))
            .where(PublishedScore.publication_id == publication.id, PublishedScore.points.is_not(None))
            .group_by(PublishedScore.indicator_code, PublishedScore.title, PublishedUnit.level)).all()
    else:
        code_in = {round_.township_catalogue_id: TOWNSHIP_INDICATOR_CODE,
                   round_.village_catalogue_id: VILLAGE_INDICATOR_CODE}
        lost_rows = db.session.execute(
            select(Indicator.code, Indicator.title, Indicator.catalogue_id,
                   func.sum(Indicator.points - Score.points).label("lost"), func.count(Score.points))
            .join(Score, Score.indicator_id == Indicator.id).join(Sheet, Sheet.id == Score.sheet_id)
            .where(Sheet.round_id == round_.id, Sheet.kind == "final", Score.points.is_not(None))  # scored only
            .group_by(Indicator.id, Indicator.code, Indicator.title, Indicator.catalogue_id)
        ).all()
    lost = sorted(({"code": gettext(code_in[r[2]], code=r[0]) if r[2] in code_in else r[0], "title": r[1],
                    "lost": float(Decimal(r[3] or 0)), "units": r[4]} for r in lost_rows if (r[3] or 0) > 0),
                  key=lambda x: -x["lost"])[:20]

    started = exists().where(Score.sheet_id == Sheet.id)
    progress = {"inspector": Counter(), "final": Counter()}
    for kind, status, has_scores, n in db.session.execute(
            select(Sheet.kind, Sheet.status, started, func.count())
            .where(Sheet.round_id == round_.id, Sheet.kind.in_(("inspector", "final")))
            .group_by(Sheet.kind, Sheet.status, started)):
        stage = {"submitted": SheetProgress.SUBMITTED, "approved": SheetProgress.APPROVED,
                 "returned": SheetProgress.RETURNED}.get(
            status, SheetProgress.SCORING if has_scores else SheetProgress.NOT_STARTED)
        progress[kind][stage] += n
    stages = INSPECTION_PROGRESS
    scatter = [{"name": r.unit.name, "self": float(r.unit.self_total), "final": float(r.unit.final_total),
                "veto": r.vetoed}
               for r in report.rows if r.unit.self_total is not None and r.unit.final_total is not None]
    return {
        "threshold": threshold,
        "passRate": pass_rate,
        "distribution": distribution,
        "vetoed": vetoed,
        "lost": lost,
        "progress": {"stages": [s.label for s in stages], "inspector": [progress["inspector"][s] for s in stages],
                     "final": [progress["final"][s] for s in stages]},
        "scatter": scatter,
        "scatterRange": scatter_range([v for p in scatter for v in (p["self"], p["final"])], threshold),
    }
