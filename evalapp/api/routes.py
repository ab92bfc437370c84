"""API endpoints: thin, over the services."""
from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import access
from ..auth.routes import login_limits
from ..bodylimits import body_limit
from ..extensions import db
from ..main.routes import send_evidence, visible_evidence
from ..models import EvidenceFile, Round, RoundUnit, Sheet, Team
from ..services import (
    accounts, compare as compare_service, evidence as evidence_service, figures, moves, proxy, scores,
    second_factor, sheet_views, sync as sync_service,
)
from ..services.errors import Conflict, Invalid, NotAllowed, NotFound, ServiceError, _l, marked
from ..domain.aggregation import ranking_key
from . import bp, error, serialize
from ..services.figures import lock_sheet
from .openapi import spec
from .parsing import json_body, score_entry


@bp.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    response, status = error(exc.message, exc.status, **error_fields(exc))
    return response, status


def error_fields(exc: ServiceError) -> dict:
    """The arguments of `error` for a service's error (but its message and status): fields, code, and a conflict's
    `current`."""
    extra = {"current": exc.current} if isinstance(exc, Conflict) and exc.current is not None else {}
    return {"fields": exc.fields, "code": exc.code, **extra}


def _sheet_for(sheet_id: int, *, edit: bool = False, lock: bool = False) -> Sheet:
    """The sheet if the caller may see it (404 otherwise, so ids reveal nothing); 403 if they may not edit.
    `lock`: its scores are about to change (see load_sheet)."""
    sheet = sheet_views.load_sheet(sheet_id, lock=lock)
    if sheet is None or not access.can_view_sheet(current_user, sheet):
        raise NotFound("sheet.not_found", _l("评分表不存在"))
    if edit and not access.can_edit_sheet(current_user, sheet):
        raise NotAllowed("sheet.read_only", _why_read_only(sheet))
    return sheet


def _why_read_only(sheet: Sheet):
    if sheet.round.status == "published":
        return _l("评估结果已公布，评分表已锁定")
    if sheet.status in ("submitted", "approved"):
        return _l("评分表%(status)s，不能再修改", status=marked(sheet.status_label))
    return _l("您不能修改此评分表")


@bp.post("/auth/token")
@login_limits
def issue_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return error(_l("用户名或密码不正确"), 401)
    # (the whole name: the one the throttle counts)
    user = accounts.authenticate(username, password[:256], address=request.remote_addr)
    if user is None:
        return error(_l("用户名或密码不正确"), 401)
    if second_factor.required(user):  # the token of an account with a second factor: only with its code
        if not second_factor.enrolled(user):
            raise NotAllowed("token.second_factor_enrol_first",
                             _l("该账号须先在网页上登录并设置二次验证，才能获取API令牌"),
                             {"code": _l("须先设置二次验证")})
        code = data.get("code")
        if not isinstance(code, str) or not code.strip():
            return error(_l("该账号登录须提供动态验证码（code）"), 401, {"code": _l("请填写动态验证码")},
                         code="token.second_factor_required")
        second_factor.verify(user, code[:64], address=request.remote_addr)  # a wrong one: 401, counted
    return jsonify(accounts.issue_token_pair(user, address=request.remote_addr).as_json())


@bp.post("/auth/refresh")
def refresh_token():
    """A new access token and refresh token for a refresh token, without the password (services.accounts)."""
    value = json_body().get("refresh_token")
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        raise Invalid("input.invalid", _l("请提供刷新令牌（refresh_token）"), {"refresh_token": _l("请提供刷新令牌")})
    return jsonify(accounts.refresh_tokens(value, address=request.remote_addr).as_json())


@bp.get("/csrf")
def csrf_token():
    """A fresh CSRF token for a page whose token expired (the page keeps what was typed)."""
    return jsonify(csrf_token=generate_csrf())


@bp.get("/rounds")
def rounds():
    rows = db.session.scalars(select(Round).order_by(Round.id.desc()))
    return jsonify(rounds=[{"id": r.id, "name": r.name, "status": r.status,
                            "threshold": f"{r.threshold:.2f}", "tolerance": f"{r.tolerance:.2f}"} for r in rows])


MINE = {"1": True, "true": True, "0": False, "false": False}  # ?mine=: the spellings of a yes and a no


def _own_sheets(query, user):
    """The sheets among `query` the user fills in: an inspector's own inspector sheets and, for a team leader, the
    final sheets of the team's units; a township's or village's own self-assessment (not its villages': those it
    reviews). The all-seeing roles own none. The ownership half of access.can_edit_sheet, as one SQL condition."""
    if user.role == "village":
        return query.where(Sheet.kind == "self", Sheet.unit_id == user.unit_id)
    if user.role == "township":  # and its account-less villages' self sheets, which it fills in for them (代填)
        return query.where(Sheet.kind == "self", (Sheet.unit_id == user.unit_id) | access.proxy_sheets(user))
    if user.role == "inspector":
        leads = exists().where(RoundUnit.round_id == Sheet.round_id, RoundUnit.unit_id == Sheet.unit_id,
                               RoundUnit.team_id == Team.id, Team.leader_id == user.id)
        return query.where(or_(and_(Sheet.kind == "inspector", Sheet.inspector_id == user.id),
                               and_(Sheet.kind == "final", leads)))
    return query.where(false())


@bp.get("/rounds/<int:round_id>/sheets")
def round_sheets(round_id: int):
    mine = MINE.get(request.args.get("mine", "0"))
    if mine is None:
        return error(_l("参数 mine 应为 1 或 0"), 422, {"mine": _l("应为 1（只列出本人填写的评分表）或 0")},
                     code="input.invalid")
    if db.session.get(Round, round_id) is None:
        return error(_l("批次不存在"), 404)
    query = access.visible_sheets(current_user, round_id)
    if mine:
        query = _own_sheets(query, current_user)
    rows = db.session.scalars(query.options(joinedload(Sheet.unit)).order_by(Sheet.id)).all()  # one statement
    return jsonify(sheets=[{
        "id": s.id, "unit": {"code": s.unit.code, "name": s.unit.name, "level": s.unit.level},
        "kind": s.kind, "status": s.status, "inspector_id": s.inspector_id, "scored": s.scored,
    } for s in rows])


@bp.get("/sheets/<int:sheet_id>")
def get_sheet(sheet_id: int):
    sheet = _sheet_for(sheet_id)
    view = sheet_views.sheet_view(sheet)
    payload = serialize.sheet_payload(view)
    payload["editable"] = access.can_edit_sheet(current_user, sheet)
    if sheet.kind == "self":  # 代填: who filled it in for the village (None: the unit itself)
        mark = proxy.mark_of(sheet)
        payload["proxy"] = None if mark is None else {"by": sheet.proxy_by_id, "name": mark.name,
                                                      "township": mark.township}
    for item in payload["indicators"]:
        for photo in item["photos"]:
            photo.update(url=_evidence_url(photo["id"], "full"), thumb=_evidence_url(photo["id"], "thumb"))
    final = compare_service.final_for(sheet) if sheet.kind == "self" else None
    if final is not None and access.can_compare(current_user, sheet):
        cmp = compare_service.compare(sheet, final)
        fmt = lambda v: None if v is None else f"{v:.2f}"  # noqa: E731
        by_code = {ind.code: g for ind, g in cmp.rows}
        for item in payload["indicators"]:
            g = by_code[item["code"]]
            item.update(final=fmt(g.final_score), gap=fmt(g.gap), self_inflated=g.inflated)
        payload["comparison"] = {"self_total": fmt(cmp.total.self_score), "final_total": fmt(cmp.total.final_score),
                                 "gap": fmt(cmp.total.gap), "self_inflated": cmp.total.inflated}
    return jsonify(payload)


@bp.put("/sheets/<int:sheet_id>/scores/<code>")
def put_score(sheet_id: int, code: str):
    return jsonify(save_and_answer(sheet_id, code, json_body()))


def save_and_answer(sheet_id: int, code: str, body: dict, *, sync: dict | None = None, then=None,
                    sheets: dict | None = None, no_wait: bool = False) -> dict:
    """The single save of one indicator (PUT /sheets/<id>/scores/<code>) and its answer: the sync call applies each
    operation through here, so both follow one rule. `sync`, `then`: see services.scores.store_score; `then` is
    called as then(saved, answer) before the commit. Raises the save's ServiceError.

    `sheets` (the sync call's, one per request): the sheets this caller was found to edit earlier in the request,
    by id. Such a sheet is not loaded and checked again: only its row lock is taken, and the save's own write checks
    under it that the sheet is still open to its owner (figures.open_to_owner: a sheet submitted or closed since is
    refused, sheet.not_open).

    `no_wait` (the sync call's): the save's transaction commits without waiting for the disk; the batch ends with
    one commit that does (services.sync.apply_batch)."""
    if sheets is not None and sheet_id in sheets:
        sheet = sheets[sheet_id]
        lock_sheet(sheet, commit_without_waiting=no_wait)
    else:
        if no_wait:
            sync_service.commit_without_waiting()
        sheet = _sheet_for(sheet_id, edit=True, lock=True)
        if sheets is not None:
            sheets[sheet_id] = sheet
    entry, version = score_entry(body)
    answer: dict = {}

    def finish(saved) -> bool:
        answer.update(_score_answer(sheet, code, saved))
        return then(saved, answer) if then is not None else False

    # The sheet was loaded with its row lock (above): the save need not take it again.
    scores.save_score(sheet, code[:32], entry, current_user, version, address=request.remote_addr,
                      sheet_locked=True, sync=sync, then=finish)
    return answer


def _score_answer(sheet: Sheet, code: str, saved) -> dict:
    rules = {r.id: r for r in sheet_views.find_indicator(sheet, code[:32]).rules}
    state = scores.score_state(saved.score, rules)
    # The figures the save recomputed; when nothing was written (a retry), the sheet's stored ones (one row).
    stored = saved.figures if saved.figures is not None else figures.figures_of(sheet)
    now = sheet_views.sheet_standing(sheet, stored)
    return dict(indicator=code, **state, scored_indicator=state["score"] is not None,
                sheet_total=_points(now.total), scored=stored.scored, figures_version=stored.version,
                missing_to_threshold=_points(now.missing), score_sum=_points(stored.score_sum),
                bonus_sum=_points(stored.bonus_sum), veto=stored.veto)


def _points(value) -> str | None:
    return None if value is None else f"{value:.2f}"


@bp.post("/sheets/<int:sheet_id>/submit")
def submit(sheet_id: int):
    sheet = _sheet_for(sheet_id, edit=True)
    moves.submit_sheet(sheet, current_user, address=request.remote_addr)
    return jsonify(id=sheet.id, status=sheet.status)


def _reviewable(sheet_id: int) -> Sheet:
    sheet = _sheet_for(sheet_id)
    if not access.can_review_sheet(current_user, sheet):
        raise NotAllowed("sheet.review_not_allowed", _l("此评分表当前不能由您审核"))
    return sheet


@bp.post("/sheets/<int:sheet_id>/approve")
def approve(sheet_id: int):
    sheet = _reviewable(sheet_id)
    moves.approve_sheet(sheet, current_user, address=request.remote_addr)
    return jsonify(id=sheet.id, status=sheet.status)


@bp.post("/sheets/approve")
def approve_many():
    """Approve the clean final sheets among `sheet_ids` in one unit of work (services.bulk_review): the district's
    bulk approval. Each id gets its result: approved, or skipped with the reasons (a flag, not waiting, not found)."""
    from ..domain.vocabulary import Result
    from ..services import bulk_review

    if current_user.role != "district":
        raise NotAllowed("sheet.review_not_allowed", _l("只有区级审核人员可以批量审核通过"))
    raw = json_body().get("sheet_ids")
    if not isinstance(raw, list) or not raw:
        raise Invalid("sheets.ids_invalid", _l("输入有误，请检查"), {"sheet_ids": _l("请提供评分表编号列表")})
    fields, ids = {}, []
    for n, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            fields[f"sheet_ids[{n}]"] = _l("不是有效的评分表编号")
        elif value in ids:
            fields[f"sheet_ids[{n}]"] = _l("评分表编号重复")
        else:
            ids.append(value)
    if len(raw) > bulk_review.MAX_SHEETS:
        fields["sheet_ids"] = _l("一次最多审核%(n)d份评分表", n=bulk_review.MAX_SHEETS)
    if fields:
        raise Invalid("sheets.ids_invalid", _l("输入有误，请检查"), fields)
    outcomes = bulk_review.approve_clean(current_user, [(i, None) for i in ids], address=request.remote_addr)
    labels = Result.labels()

    def result(o):
        c = o.check
        return {"id": o.sheet_id, "status": "approved" if o.approved else "skipped",
                "unit": c.sheet.unit.name if c else None, "total": _points(c.total) if c else None,
                "result": c.result.value if c else None, "result_label": labels[c.result.value] if c else None,
                "reasons": [{"code": code, "message": str(text)} for code, text in zip(o.codes, o.reasons)]}

    return jsonify(results=[result(o) for o in outcomes], approved=sum(o.approved for o in outcomes),
                   skipped=sum(not o.approved for o in outcomes))


@bp.post("/sheets/<int:sheet_id>/return")
def return_(sheet_id: int):
    sheet = _reviewable(sheet_id)
    moves.return_sheet(sheet, current_user, str(json_body().get("comment") or ""), address=request.remote_addr)
    return jsonify(id=sheet.id, status=sheet.status)


@bp.post("/sheets/<int:sheet_id>/scores/<code>/photos")
@body_limit("photo")
def add_photo(sheet_id: int, code: str):
    sheet = _sheet_for(sheet_id, edit=True)
    indicator = sheet_views.find_indicator(sheet, code[:32])
    upload = request.files.get("photo")
    if upload is None:
        return error(_l("请选择照片"), 422, {"photo": _l("请选择照片")})
    ev, created = evidence_service.store_photo(sheet, indicator,
                                               upload.read(evidence_service.MAX_PHOTO_BYTES + 1),
                                               upload.filename or "", current_user, address=request.remote_addr)
    # the same bytes sent again for this indicator (a retry): the photo stored first, 200
    return jsonify(id=ev.id, name=ev.original_name, url=_evidence_url(ev.id, "full"),
                   thumb=_evidence_url(ev.id, "thumb")), 201 if created else 200


def _evidence_url(evidence_id: int, variant: str) -> str:
    """The API's URL of a photo: it serves whoever may call the API (a token's caller or a session's), where the
    pages' /evidence/... asks a token holder to log in."""
    return url_for("api.evidence_file", evidence_id=evidence_id, variant=variant)


@bp.get("/evidence/<int:evidence_id>/<any(full, thumb):variant>")
def evidence_file(evidence_id: int, variant: str):
    """An evidence photo (JPEG), for a caller who may see its sheet; 404 otherwise, so ids reveal nothing."""
    ev = visible_evidence(current_user, evidence_id)
    if ev is None:
        raise NotFound("evidence.not_found", _l("照片不存在"))
    return send_evidence(ev, variant)


@bp.delete("/evidence/<int:evidence_id>")
def delete_evidence(evidence_id: int):
    ev = db.session.get(EvidenceFile, evidence_id)
    if ev is None or ev.deleted_at is not None:
        return error(_l("照片不存在"), 404)
    _sheet_for(ev.sheet_id, edit=True)
    evidence_service.remove(ev, current_user, address=request.remote_addr)
    return jsonify(id=evidence_id, removed=True)


def _signing_json(found) -> dict:
    return {"sheet_id": found.sheet.id, "content_sha256": found.digest, "signed": found.signed,
            "stale": found.stale, "slots": [{
                "slot": slot.key, "role": slot.role.value, "role_label": slot.title.label, "scores": slot.scores, "name": slot.name,
                "state": slot.state.value, "state_label": slot.state.label,
                "signature": None if slot.signature is None else {
                    "id": slot.signature.id, "signed_at": slot.signature.signed_at.isoformat(),
                    "content_sha256": slot.signature.content_sha256,
                    "image": url_for("api.signature_image", signature_id=slot.signature.id)}}
                for slot in found.slots]}


@bp.get("/sheets/<int:sheet_id>/signatures")
def get_signatures(sheet_id: int):
    """A final sheet's signers and the state of each signature against the sheet as it stands."""
    from ..services import signatures

    sheet = _sheet_for(sheet_id)
    if sheet.kind != "final":
        raise NotFound("signature.not_final", _l("只有工作组评分表需要签名"))
    return jsonify(_signing_json(signatures.signing(sheet)))


@bp.get("/signatures/<int:signature_id>/image")
def signature_image(signature_id: int):
    """A signature's PNG (drawn by the server from its strokes), for a caller who may see its sheet; 404 otherwise.
    The pages' twin is /results/signatures/<id>.png."""
    from ..services import signatures

    sig = signatures.image_of(signature_id, current_user)
    response = current_app.response_class(sig.image, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"  # a signature's image never changes
    return response


@bp.post("/sheets/<int:sheet_id>/signatures")
def post_signature(sheet_id: int):
    """Record one signer's signature (the same rule as the reconcile page's form: services.signatures.sign)."""
    from ..services import signatures

    from ..services import sync as sync_service

    sheet = _sheet_for(sheet_id)
    data = json_body()
    # Drawn offline (issue 31): the operation's id (a replay is answered as the first time), the device's clock
    # and the versions of the content the signer saw.
    fields = {}
    op_id = None
    if data.get("op_id") is not None:
        op_id = sync_service.op_id_of(data["op_id"])
        if op_id is None:
            fields["op_id"] = _l("操作编号应为UUID")
    device_time = None
    if data.get("device_time") is not None:
        try:
            device_time = sync_service.parse_time(data["device_time"])
        except (TypeError, ValueError):
            fields["device_time"] = _l("设备时间应为带时区的ISO 8601时间，如 2026-12-07T10:00:00+08:00")
    if fields:
        raise Invalid("signature.invalid", _l("签名未保存，请修改标红的内容"), fields)
    user = current_user._get_current_object()
    if op_id is not None:
        prior = sync_service.answered(user, [op_id]).get(op_id)
        if prior is not None:
            return jsonify(prior.data), prior.http
    answer: dict = {}

    def record(sig) -> None:
        answer.update(id=sig.id, **_signing_json(signatures.signing(sheet)))
        if op_id is not None:
            sync_service.record_signature(user, op_id, sheet.id, device_time, answer)

    try:
        signatures.sign(sheet, data.get("slot"), data.get("name", ""), data.get("strokes"), data.get("width"),
                        data.get("height"), user, address=request.remote_addr, device_time=device_time,
                        seen_versions=data.get("seen_versions"), op_id=op_id, then=record)
    except IntegrityError:  # the same operation recorded meanwhile by a concurrent request
        prior = sync_service.answered(user, [op_id]).get(op_id) if op_id else None
        if prior is None:
            raise
        return jsonify(prior.data), prior.http
    return jsonify(answer), 201


@bp.get("/rounds/<int:round_id>/results")
def results(round_id: int):
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        return error(_l("批次不存在"), 404)
    if current_user.role not in access.ALL_SEEING:
        return error(_l("您没有权限查看评估结果"), 403)
    from ..services import readmodel

    if request.args.get("view") not in (None, "draft"):  # never read silently as another view
        raise Invalid("input.invalid", _l("参数 view 应为 draft（当前数据）或省略（已公布的版本）"),
                      {"view": _l("应为 draft，或省略")})
    view = readmodel.round_model(round_, draft=request.args.get("view") == "draft")
    pub = view.publication
    return jsonify(round_id=round_id, official=view.official, version=pub.version if pub else None,
                   sha256=pub.sha256 if pub else None,
                   published_at=pub.published_at.isoformat() if pub else None, pending_units=view.pending,
                   units=[row.unit.as_json() for row in sorted(
                       view.report.rows, key=lambda r: ranking_key(r.unit.level, r.unit.place))])


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
