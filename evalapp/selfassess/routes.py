"""Self-assessment: villages and townships fill their sheets; township leads review their villages'."""
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import access
from ..access import role_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import EvidenceFile, Sheet
from ..services import documents, overview, selfassess, sheets as sheet_service
from ..services.errors import ServiceError
from ..services.storage import storage
from . import bp


@bp.get("/")
@role_required("village")
def village_home():
    rows = overview.self_sheets_for_units([current_user.unit_id])
    today = sheet_service.today_local()
    return render_template("selfassess/village_home.html", rows=rows, today=today, days_left=overview.days_left,
                           todos=overview.todos(current_user, today))


@bp.get("/township")
@role_required("township")
def township_home():
    own = overview.self_sheets_for_units([current_user.unit_id])
    villages = overview.self_sheets_for_units(selfassess.township_village_ids(current_user.unit_id))
    today = sheet_service.today_local()
    return render_template("selfassess/township_home.html", own=own, villages=villages, today=today,
                           days_left=overview.days_left, todos=overview.todos(current_user, today))


def _self_sheet(sheet_id: int) -> Sheet:
    sheet = sheet_service.load_sheet(sheet_id)
    if sheet is None or sheet.kind != "self" or not access.can_view_sheet(current_user, sheet):
        abort(404)
    return sheet


def _render(sheet: Sheet, status: int = 200, **extra):
    editable = access.can_edit_sheet(current_user, sheet)
    back = {"village": "selfassess.village_home", "township": "selfassess.township_home"}.get(
        current_user.role, "results.index")
    return render_template(
        "scoring/sheet.html", view=sheet_service.sheet_view(sheet), editable=editable,
        submit_url=url_for("selfassess.submit", sheet_id=sheet.id), back_url=url_for(back), form=EmptyForm(),
        extras=selfassess.extras(sheet), can_review=access.can_review_sheet(current_user, sheet),
        review_url=url_for("selfassess.review", sheet_id=sheet.id),
        comment_url=url_for("selfassess.comment", sheet_id=sheet.id), **extra), status


@bp.get("/sheets/<int:sheet_id>")
@role_required("village", "township", "district", "admin", "inspector", "finance")
def sheet(sheet_id: int):
    return _render(_self_sheet(sheet_id))


def _posted(sheet_id: int, *, owner: bool) -> Sheet:
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    allowed = access.can_edit_sheet(current_user, sheet) if owner else access.can_review_sheet(current_user, sheet)
    if not allowed:
        abort(403)
    return sheet


@bp.post("/sheets/<int:sheet_id>/summary")
@role_required("village", "township")
def summary(sheet_id: int):
    sheet = _posted(sheet_id, owner=True)
    text = request.form.get("summary", "")
    try:
        selfassess.save_summary(sheet, text, current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status, typed_summary=text, summary_error=exc.message)
    flash("工作总结已保存", "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor="summary-section"))


@bp.post("/sheets/<int:sheet_id>/documents")
@role_required("village", "township")
def upload_document(sheet_id: int):
    sheet = _posted(sheet_id, owner=True)
    upload = request.files.get("document")
    data = upload.read(documents.MAX_DOCUMENT_BYTES + 1) if upload is not None else b""
    if not data and not (upload and upload.filename):
        flash("请选择要上传的文件", "danger")
        return _render(sheet, 422)
    try:
        documents.add_document(sheet, data, upload.filename or "材料", current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status)
    flash("材料已上传", "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor="documents"))


@bp.get("/documents/<int:doc_id>")
@role_required("village", "township", "district", "admin", "inspector", "finance")
def document(doc_id: int):
    doc = db.session.get(EvidenceFile, doc_id)
    if doc is None or doc.kind != "document" or doc.deleted_at is not None:
        abort(404)
    _self_sheet(doc.sheet_id)
    return send_file(storage().path(doc.storage_key), mimetype=doc.content_type, as_attachment=True,
                     download_name=doc.original_name, max_age=0)


@bp.post("/sheets/<int:sheet_id>/submit")
@role_required("village", "township")
def submit(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_edit_sheet(current_user, sheet):
        flash("此自评表当前不能提交（可能已经提交）", "warning")
        return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))
    try:
        sheet_service.submit_sheet(sheet, current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))
    to = "镇(街道)" if sheet.unit.level == "village" else "区级"
    flash(f"自评表已提交{to}审核" + ("（已逾期）" if sheet.late else ""), "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))


@bp.post("/sheets/<int:sheet_id>/comment")
@role_required("township", "district")
def comment(sheet_id: int):
    sheet = _posted(sheet_id, owner=False)
    code = request.form.get("code") or None
    try:
        selfassess.add_comment(sheet, code, request.form.get("comment", ""), current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status)
    flash("意见已添加", "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor=f"ind-{code}" if code else ""))


@bp.post("/sheets/<int:sheet_id>/review")
@role_required("township", "district")
def review(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_review_sheet(current_user, sheet):
        flash("此自评表当前不能审核：可能已被退回、通过或撤回，请查看最新状态", "warning")
        return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))
    try:
        outcome = sheet_service.review_sheet(sheet, current_user, request.form.get("action", ""),
                                             request.form.get("comment", ""))
        flash(f"{sheet.unit.name}的自评表{outcome}", "success")
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status, typed_comment=request.form.get("comment", ""))
    return redirect(url_for("selfassess.township_home" if current_user.role == "township" else "results.index"))
