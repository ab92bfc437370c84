"""公示, 异议 and 复核 over the API (issue 32): the page's operations (notice.routes), the same services and
refusals, answered as JSON with field errors."""
from flask import jsonify, request, url_for
from flask_login import current_user

from ..bodylimits import body_limit, uploaded_files
from ..domain.objections import MAX_EVIDENCE_BYTES
from ..extensions import db
from ..models import Objection, Round
from ..services import notices, objections
from ..services.errors import Invalid, NotAllowed, NotFound, _l
from . import bp
from .parsing import json_body



def _round(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or not notices.may_see(current_user, round_):
        raise NotFound("round.not_found", _l("批次不存在"))
    return round_


def _objection(objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None or not objections.may_view(current_user, objection):
        raise NotFound("objection.not_found", _l("异议不存在"))
    return objection


def objection_json(o: Objection) -> dict:
    return {"id": o.id, "receipt": o.receipt, "number": o.number, "unit": o.unit.name, "unit_id": o.unit_id,
            "target": o.target, "code": o.code, "title": o.title, "reason": o.reason, "status": o.status,
            "on_paper": o.on_paper, "objector": o.objector,
            "filed_at": o.filed_at.isoformat(), "due_on": o.due_on.isoformat() if o.due_on else None,
            "reviewers": [r.user_id for r in o.reviewers], "leader": o.leader_id, "answer": o.answer,
            "new_value": f"{o.new_value:.2f}" if o.new_value is not None else None,
            "files": [{"id": f.id, "name": f.original_name, "sha256": f.sha256,
                       "url": url_for("notice.objection_file", objection_id=o.id, file_id=f.id)} for f in o.files]}


@bp.get("/rounds/<int:round_id>/objections")
def round_objections(round_id: int):
    """The round's objections the caller may see, and the notice period."""
    round_ = _round(round_id)
    notice = notices.notice_of(round_.id)
    listed = [o for o in objections.for_round(round_.id) if objections.may_view(current_user, o)]
    return jsonify({
        "notice": None if notice is None else {
            "version": notice.version, "start": notice.start.isoformat(), "length": notice.length,
            "last_day": notice.last_day.isoformat(), "ends_at": notices.ends_at(notice).isoformat(),
            "state": notices.state(notice), "settled_version": notice.settled_version},
        "objections": [objection_json(o) for o in listed]})


@bp.post("/rounds/<int:round_id>/objections")
@body_limit("document")
def file_objection(round_id: int):
    """File an objection (multipart: unit_id, target, code, reason, objector for the district's paper entry,
    files): the page's rules (services.objections.file)."""
    if current_user.role not in ("district", "township", "village"):
        raise NotAllowed("objection.not_allowed", _l("只有被评估单位的负责人可以对本单位的结果提出异议"))
    round_ = _round(round_id)
    form = request.form
    try:
        unit_id = int(form.get("unit_id", ""))
    except ValueError:
        raise Invalid("objection.invalid", _l("输入有误，请检查"), {"unit_id": _l("请选择被评估单位")}) from None
    notice = notices.notice_of(round_.id)
    units = objections.objectable_units(current_user, notice) if notice else []
    unit = next((u for u in units if u.id == unit_id), None)
    if unit is None:
        if notice is not None and current_user.role in ("village", "township"):
            raise NotAllowed("objection.not_allowed", _l("只有被评估单位的负责人可以对本单位的结果提出异议"))
        raise Invalid("objection.invalid", _l("输入有误，请检查"), {"unit_id": _l("请选择被评估单位")})
    files = uploaded_files("files", MAX_EVIDENCE_BYTES)
    made = objections.file(round_, unit, form.get("target", "")[:16], form.get("code", "")[:32],
                           form.get("reason", ""), files, current_user, objector=form.get("objector", ""),
                           address=request.remote_addr)
    return jsonify(objection_json(made)), 201


@bp.get("/objections/<int:objection_id>")
def get_objection(objection_id: int):
    return jsonify(objection_json(_objection(objection_id)))


def _ids(value, field: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Invalid("objection.invalid", _l("输入有误，请检查"), {field: _l("请选择复核组成员")})
    return value


@bp.post("/objections/<int:objection_id>/assign")
def assign_objection(objection_id: int):
    """Assign a re-check group: {"reviewers": [user ids], "leader": user id} — at least two inspectors, none of
    the scoring team (refused with why, field `reviewers`)."""
    objection = _objection(objection_id)
    body = json_body()
    leader = body.get("leader")
    if not isinstance(leader, int) or isinstance(leader, bool):
        leader = None
    made = objections.assign(objection, _ids(body.get("reviewers"), "reviewers"), leader, current_user,
                             address=request.remote_addr)
    return jsonify(objection_json(made))


@bp.post("/objections/<int:objection_id>/decide")
def decide_objection(objection_id: int):
    """The group leader records the decision: {"decision": "uphold"|"change", "answer", "new_value",
    "agree": [user ids of the members agreeing]}."""
    objection = _objection(objection_id)
    body = json_body()
    agree = set(_ids(body.get("agree", []), "agree"))
    votes = {r.user_id: r.user_id in agree for r in objection.reviewers}
    made = objections.decide(objection, str(body.get("decision", ""))[:16], str(body.get("answer", "")), votes,
                             current_user, new_value=str(body.get("new_value", ""))[:32],
                             address=request.remote_addr)
    return jsonify(objection_json(made))
