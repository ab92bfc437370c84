"""The catalogue of a round for one unit level (issue 31, point 1): everything an indicator card and the standing
rule need, so an offline tablet scores by the same rules (static/js/standing.js reads the same numbers)."""
from flask import jsonify, request

from ..domain.numbers import HALF
from ..domain.scoring import MAX_COUNT, MAX_NOTE, MAX_REASON
from ..extensions import db
from ..models import Round
from ..services.catalogues import cached_tree
from ..services.errors import Invalid, NotFound, _l
from . import bp

KINDS = ("village", "township")


def _p(value) -> str:
    return f"{value:.2f}"


@bp.get("/rounds/<int:round_id>/catalogue")
def catalogue(round_id: int):
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise NotFound("round.not_found", _l("批次不存在"))
    kind = request.args.get("kind")
    if kind not in KINDS:
        raise Invalid("input.invalid", _l("参数 kind 应为 village 或 township"),
                      {"kind": _l("应为 village（村/社区）或 township（镇/街道）")})
    version = round_.catalogue_for(kind)
    tree = cached_tree(version)
    indicators = []
    categories = []
    for category in tree.categories:
        categories.append({"code": category.code, "name": category.name, "max": _p(category.points),
                           "indicators": [i.code for i in category.indicators]})
        for ind in category.indicators:
            indicators.append({
                "code": ind.code, "title": ind.title, "category": category.code, "max": _p(ind.points),
                "methods": [m for m in ind.methods.split("、") if m], "evidence": ind.evidence,
                "rules": [{"code": r.code, "text": r.text, "per": None if r.per is None else _p(r.per),
                           "void": r.void} for r in ind.rules],
                "free_deduction": True,
            })
    return jsonify(
        round_id=round_.id, kind=kind,
        catalogue={"id": version.id, "code": version.code, "version": version.version, "name": version.name,
                   "total": _p(version.total)},
        threshold=_p(round_.threshold), tolerance=_p(round_.tolerance), bonus_cap=_p(version.bonus_cap),
        limits={"direct_step": _p(HALF), "max_count": MAX_COUNT, "reason": MAX_REASON, "note": MAX_NOTE},
        categories=categories, indicators=indicators,
        bonus_items=[{"code": b.code, "text": b.text, "points": _p(b.points)} for b in tree.bonus_items],
        veto_items=[{"code": v.code, "text": v.text} for v in tree.veto_items])
