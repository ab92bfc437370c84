"""Inspection teams: the worklist and the scoring page."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import access
from ..access import role_required
from ..auth.forms import EmptyForm
from ..domain.vocabulary import SheetStatus
from ..models import Sheet
from ..services import devices, moves, overview, sheet_views
from ..services.errors import ServiceError
from ..ids import parse_id
from ..services.review import final_review
from ..services.signatures import signing
from ..services.todos import todos_for
from ..reviewing import review_submitted
from . import bp


@bp.get("/")
@role_required("inspector")
def worklist():
    args = request.args
    round_id = args.get("round", "")
    round_id = parse_id(round_id)
    work = overview.inspector_worklist(current_user, round_id,
                                       args.get("status", ""), args.get("page"), args.get("fpage"),
                                       current_app.config["WORKLIST_PAGE_SIZE"])
    return render_template("inspection/worklist.html", work=work, statuses=overview.WORK_STATUSES,
                           status_labels=SheetStatus.labels(),
                           todos=todos_for(current_user, moves.today_local()))


def _visible_sheet(sheet_id: int) -> Sheet:
    sheet = sheet_views.load_sheet(sheet_id)
    if sheet is None or sheet.kind == "self" or not access.can_view_sheet(current_user, sheet):
        abort(404)
    return sheet


@bp.get("/sheets/<int:sheet_id>")
@role_required("inspector", "district", "admin")
def sheet(sheet_id: int):
    sheet = _visible_sheet(sheet_id)
    view = sheet_views.sheet_view(sheet)
    if sheet.kind == "final" and current_user.role == "inspector":
        return redirect(url_for("inspection.reconcile", sheet_id=sheet.id))
    back = url_for("inspection.worklist") if current_user.role == "inspector" else url_for("results.index")
    return render_template("scoring/sheet.html", view=view, editable=access.can_edit_sheet(current_user, sheet),
                           submit_url=url_for("inspection.submit", sheet_id=sheet.id), back_url=back,
                           form=EmptyForm(), can_review=access.can_review_sheet(current_user, sheet),
                           returned=moves.last_return(sheet),
                           review=final_review(sheet) if sheet.kind == "final" else None,
                           signing=signing(sheet) if sheet.kind == "final" else None)


@bp.post("/sheets/<int:sheet_id>/submit")
@role_required("inspector")
def submit(sheet_id: int):
    sheet = _visible_sheet(sheet_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if not access.can_edit_sheet(current_user, sheet):
        flash(gettext("此评分表当前不能提交（已提交或不属于您）"), "warning")
        return redirect(url_for("inspection.sheet", sheet_id=sheet.id))
    try:
        moves.submit_sheet(sheet, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("inspection.sheet", sheet_id=sheet.id))
    flash(gettext("%(unit)s的评分表已提交", unit=sheet.unit.name), "success")
    return redirect(url_for("inspection.worklist"))


def _final_sheet(sheet_id: int) -> Sheet:
    sheet = _visible_sheet(sheet_id)
    if sheet.kind != "final":
        abort(404)
    return sheet


def _render_reconcile(sheet: Sheet, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    from ..services.reconcile import reconciliation

    return render_template("inspection/reconcile.html", rec=reconciliation(sheet),
                           editable=access.can_edit_sheet(current_user, sheet), form=EmptyForm(),
                           errors=errors or {}, typed=typed or {}, returned=moves.last_return(sheet),
                           signing=signing(sheet), may_sign=access.can_sign_sheet(current_user, sheet),
                           device_pending=devices.pending_in_round(sheet.round_id, sheet.unit_id)), status


@bp.get("/sheets/<int:sheet_id>/reconcile")
@role_required("inspector", "district", "admin")
def reconcile(sheet_id: int):
    return _render_reconcile(_final_sheet(sheet_id))


def _leader_post(sheet_id: int) -> Sheet:
    sheet = _final_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_edit_sheet(current_user, sheet):
        abort(403)
    return sheet


@bp.post("/sheets/<int:sheet_id>/reconcile/score")
@role_required("inspector")
def reconcile_score(sheet_id: int):
    from flask import request

    from ..services.reconcile import set_final_score

    sheet = _leader_post(sheet_id)
    code = request.form.get("code", "")[:32]
    typed = {"code": code, "score": request.form.get("score", "")[:32], "reason": request.form.get("reason", "")}
    try:
        version = int(request.form.get("version", "0"))
        if not 0 <= version < 2**31:
            raise ValueError(version)
        set_final_score(sheet, code, typed["score"].strip(), typed["reason"], current_user, version,
                        address=request.remote_addr)
    except ValueError:
        return _render_reconcile(sheet, {code: {"score": gettext("版本号无效，请刷新页面")}}, typed, 422)
    except ServiceError as exc:
        return _render_reconcile(sheet, {code: exc.fields or {"score": exc.message}}, typed, exc.status)
    flash(gettext("指标 %(code)s 的最终得分已保存", code=code), "success")
    return redirect(url_for("inspection.reconcile", sheet_id=sheet.id, _anchor=f"row-{code}"))


@bp.post("/sheets/<int:sheet_id>/reconcile/accept-all")
@role_required("inspector")
def reconcile_accept_all(sheet_id: int):
    from ..services.reconcile import accept_all_proposals

    sheet = _leader_post(sheet_id)
    try:
        n = accept_all_proposals(sheet, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
    else:
        flash(gettext("已对%(count)s项指标采用成员平均分", count=n), "success")
    return redirect(url_for("inspection.reconcile", sheet_id=sheet.id))


@bp.post("/sheets/<int:sheet_id>/reconcile/bonus-veto")
@role_required("inspector")
def reconcile_bonus_veto(sheet_id: int):
    from flask import request

    from ..services.reconcile import set_bonus_and_veto

    sheet = _leader_post(sheet_id)
    bonus = request.form.getlist("bonus")
    veto = {code: request.form.get(f"veto_text_{code}", "") for code in request.form.getlist("veto")}
    try:
        set_bonus_and_veto(sheet, bonus, veto, current_user, address=request.remote_addr)
    except ServiceError as exc:
        typed = {"bonus": bonus, "veto": veto,
                 "veto_text": {k[10:]: v for k, v in request.form.items() if k.startswith("veto_text_")}}
        return _render_reconcile(sheet, {"bonus_veto": exc.fields or {"items": exc.message}}, typed, exc.status)
    flash(gettext("加分项与一票否决情况已保存"), "success")
    return redirect(url_for("inspection.reconcile", sheet_id=sheet.id, _anchor="bonus-veto"))


@bp.post("/sheets/<int:sheet_id>/reconcile/submit")
@role_required("inspector")
def reconcile_submit(sheet_id: int):
    sheet = _leader_post(sheet_id)
    try:
        moves.submit_sheet(sheet, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("inspection.reconcile", sheet_id=sheet.id))
    flash(gettext("%(unit)s的工作组评分表已提交区级审核", unit=sheet.unit.name), "success")
    return redirect(url_for("inspection.worklist"))


@bp.post("/sheets/<int:sheet_id>/signatures")
@role_required("inspector")
def sign(sheet_id: int):
    """One signer's signature on the 评分表, drawn on this tablet (services.signatures.sign: the API's rule too)."""
    import json

    from ..services.signatures import sign as record_signature

    sheet = _final_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    form = request.form
    raw = form.get("strokes", "")
    typed = {"slot": form.get("slot", "")[:40], "name": form.get("name", "")[:200],
             "strokes": raw if len(raw) <= 200_000 else "",  # drawn again after a refusal (not a flood)
             "width": form.get("width", "")[:20]}
    try:
        strokes = json.loads(raw)
    except (ValueError, RecursionError):  # (a nesting a thousand deep is a RecursionError, not a ValueError)
        strokes = None
    try:
        sig = record_signature(sheet, typed["slot"], typed["name"], strokes, _number(form.get("width")),
                     _number(form.get("height")), current_user, address=request.remote_addr)
    except ServiceError as exc:
        return _render_reconcile(sheet, {"signature": exc.fields or {"strokes": exc.message}},
                                 {"signature": typed}, exc.status)
    flash(gettext("%(name)s的签名已保存", name=sig.signer_name), "success")
    # (the flash is at the top; the row just signed says so where the page lands)
    return redirect(url_for("inspection.reconcile", sheet_id=sheet.id, signed=typed["slot"], _anchor="signatures"))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text and len(text) < 20 else None
    except ValueError:
        return None


@bp.post("/sheets/<int:sheet_id>/review")
@role_required("district")
def review(sheet_id: int):
    sheet = _visible_sheet(sheet_id)

    def page_again(status: int, comment: str):
        return render_template("scoring/sheet.html", view=sheet_views.sheet_view(sheet), editable=False,
                               submit_url="", back_url=url_for("results.index"), form=EmptyForm(),
                               can_review=True, typed_comment=comment,
                               review=final_review(sheet) if sheet.kind == "final" else None,
                               signing=signing(sheet) if sheet.kind == "final" else None), status

    return review_submitted(
        sheet, refused=gettext("此评分表当前不能审核（可能已被他人处理）"),
        approved=gettext("%(unit)s的评分表已审核通过", unit=sheet.unit.name),
        returned=gettext("%(unit)s的评分表已退回", unit=sheet.unit.name),
        back_to=url_for("inspection.sheet", sheet_id=sheet.id), done_to=url_for("results.index"),
        page_again=page_again)
