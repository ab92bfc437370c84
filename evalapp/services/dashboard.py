"""Figures behind the round's dashboard charts (each also shown as a table)."""
from collections import Counter
from decimal import Decimal

from sqlalchemy import exists, func, select

from ..extensions import db
from ..models import Indicator, Round, Score, Sheet
from .results import Report


def dashboard_data(round_: Round, report: Report) -> dict:
    """Plain data for the five charts; Decimal values as floats only here, for drawing.

    Vetoed units are left out of the score distribution and counted in `vetoed`; in the scatter they carry a
    `veto` flag (drawn apart)."""
    threshold = float(round_.threshold)
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

    lost_rows = db.session.execute(
        select(Indicator.code, Indicator.title, Indicator.catalogue_id,
               func.sum(Indicator.points - Score.points).label("lost"), func.count(Score.points))
        .join(Score, Score.indicator_id == Indicator.id).join(Sheet, Sheet.id == Score.sheet_id)
        .where(Sheet.round_id == round_.id, Sheet.kind == "final", Score.points.is_not(None))  # scored rows only
        .group_by(Indicator.id, Indicator.code, Indicator.title, Indicator.catalogue_id)
    ).all()
    prefix = {round_.township_catalogue_id: "镇", round_.village_catalogue_id: "村"}
    lost = sorted(({"code": f"{prefix.get(r.catalogue_id, '')}{r.code}", "title": r.title,
                    "lost": float(Decimal(r.lost or 0)), "units": r[4]} for r in lost_rows if (r.lost or 0) > 0),
                  key=lambda x: -x["lost"])[:20]

    started = exists().where(Score.sheet_id == Sheet.id)
    progress = {"inspector": Counter(), "final": Counter()}
    for kind, status, has_scores, n in db.session.execute(
            select(Sheet.kind, Sheet.status, started, func.count())
            .where(Sheet.round_id == round_.id, Sheet.kind.in_(("inspector", "final")))
            .group_by(Sheet.kind, Sheet.status, started)):
        label = {"submitted": "已提交", "approved": "已通过", "returned": "已退回"}.get(
            status, "评分中" if has_scores else "未开始")
        progress[kind][label] += n
    stages = ["未开始", "评分中", "已退回", "已提交", "已通过"]
    scatter = [{"name": r.unit.name, "self": float(r.unit.self_total), "final": float(r.unit.final_total),
                "veto": r.vetoed}
               for r in report.rows if r.unit.self_total is not None and r.unit.final_total is not None]
    return {
        "threshold": threshold,
        "passRate": pass_rate,
        "distribution": distribution,
        "vetoed": vetoed,
        "lost": lost,
        "progress": {"stages": stages, "inspector": [progress["inspector"][s] for s in stages],
                     "final": [progress["final"][s] for s in stages]},
        "scatter": scatter,
    }
