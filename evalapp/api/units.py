"""GET /api/v1/rounds/<id>/units/<unit_id>/results: a unit's results as its page shows them (issue 32), with the
page's scope — the district, admin and finance any unit's; a township lead its own and its villages'; a village
lead its own; a 404 for another unit, a 403 for the roles without such a page."""
from flask import jsonify, url_for
from flask_login import current_user

from .. import access
from ..extensions import db
from ..models import OrgUnit, Round
from ..services import unit_results
from ..services.errors import NotAllowed, NotFound, _l
from . import bp


def _p(value):
    return None if value is None else f"{value:.2f}"


def _standing(u) -> dict:
    return {"total": _p(u.final_total), "result": u.result.value, "rank": u.rank, "points_missing": _p(u.missing),
            "vetoed": u.vetoed}


def unit_json(page: unit_results.UnitPage) -> dict:
    """The page's content: before publication only the unit and `published: false`."""
    unit = page.unit
    out = {"round_id": page.round.id, "unit": {"id": unit.id, "code": unit.code, "name": unit.name,
                                               "level": unit.level},
           "published": page.published}
    if not page.published:
        return out
    u, pub = page.unit_row, page.publication
    out.update(
        version=pub.version, published_at=pub.published_at.isoformat(), sha256=pub.sha256,
        threshold=_p(page.threshold), **_standing(u), reached_line=page.reached_line,
        level_count=page.level_count, township_name=page.township_name, self_total=_p(page.self_total),
        score_sum=_p(page.score_sum), bonus_sum=_p(page.bonus_sum), bonus_counted=_p(page.bonus_counted),
        lost_total=_p(page.lost_total),
        bonus_items=[{"code": c, "text": t, "points": p, "note": n} for c, t, p, n in page.bonus],
        veto_findings=[{"code": c, "text": t, "finding": f or ""} for c, t, f in page.vetoes],
        indicators=[{
            "code": i.code, "title": i.title, "category": i.category, "max": _p(i.max_points), "score": _p(i.points),
            "lost": _p(i.lost), "reason": i.reason, "self_score": _p(i.self_points), "gap": _p(i.gap.gap),
            "self_inflated": i.gap.inflated,
            "deductions": [{"member": m["member"], "points": _p(m["points"]),
                            "rules": [{"code": c, "text": t, "count": n, "points": _p(taken), "void": taken is None}
                                      for c, t, n, taken in m["rules"]],
                            "free": _p(m["free"]), "reason": m["reason"]} for m in i.explained],
            "photos": [{"id": ev, "name": name, "thumb": url_for("api.evidence_file", evidence_id=ev, variant="thumb"),
                        "url": url_for("api.evidence_file", evidence_id=ev, variant="full")} for ev, name in i.photos]}
            for i in page.indicators],
        problems=[i.code for i in page.problems],
        villages=[{"id": v.unit_id, "code": v.code, "name": v.name, **_standing(v)} for v in page.villages])
    return out


@bp.get("/rounds/<int:round_id>/units/<int:unit_id>/results")
def unit_results_json(round_id: int, unit_id: int):
    if current_user.role not in access.UNIT_RESULT_ROLES:
        raise NotAllowed("access.denied", _l("您没有权限查看评估结果"))
    round_ = db.session.get(Round, round_id)
    unit = db.session.get(OrgUnit, unit_id)
    page = (unit_results.unit_page(round_, unit) if round_ is not None and unit is not None
            and access.can_view_unit_results(current_user, unit) else None)
    if page is None:
        raise NotFound("unit.not_found", _l("单位或批次不存在"))
    return jsonify(unit_json(page))
