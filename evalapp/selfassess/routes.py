"""Self-assessment: villages and townships fill their sheets; township leads review their villages'."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from .. import access
from ..access import role_required
from ..auth.forms import EmptyForm
from ..bodylimits import body_limit
from ..domain.vocabulary import N_
from ..extensions import db
from ..ids import parse_id
from ..models import EvidenceFile, Sheet
from ..sending import send_stored
from ..services import documents, moves, overview, proxy, selfassess, sheet_views
from ..services.errors import Conflict, ServiceError
from ..services.todos import todos_for
from ..reviewing import review_submitted
from . import bp

# Ids beyond the INTEGER columns: no such row (PostgreSQL would refuse the look-up with an error, not none).


@bp.get("/")
@role_required("village")
def village_home():
    rows = overview.self_sheets_for_units([current_user.unit_id])
    today = moves.today_local()
    return render_template("selfassess/village_home.html", rows=rows, today=today, days_left=overview.days_left,
                           todos=todos_for(current_user, today))


@bp.get("/township")
@role_required("township")
def township_home():
    own = overview.self_sheets_for_units([current_user.unit_id])
    villages = overview.self_sheets_for_units(selfassess.township_village_ids(current_user.unit_id))
    today = moves.today_local()
    return render_template("selfassess/township_home.html", own=own, villages=villages, today=today,
                           proxy_rows=proxy.fillable(current_user),
                           days_left=overview.days_left, todos=todos_for(current_user, today))


def _self_sheet(sheet_id: int) -> Sheet:
    sheet = sheet_views.load_sheet(sheet_id)
    if sheet is None or sheet.kind != "self" or not access.can_view_sheet(current_user, sheet):
        abort(404)
    return sheet


def _render(sheet: Sheet, status: int = 200, **extra):
    editable = access.can_edit_sheet(current_user, sheet)
    back = {"village": "selfassess.village_home", "township": "selfassess.township_home"}.get(
        current_user.role, "results.index")
    return render_template(
        "scoring/sheet.html", view=sheet_views.sheet_view(sheet), editable=editable,
        submit_url=url_for("selfassess.submit", sheet_id=sheet.id), back_url=url_for(back), form=EmptyForm(),
        extras=selfassess.extras(sheet), can_review=access.can_review_sheet(current_user, sheet),
        review_url=url_for("selfassess.review", sheet_id=sheet.id),
        comment_url=url_for("selfassess.comment", sheet_id=sheet.id), proxy_mark=proxy.mark_of(sheet),
        proxy_filling=editable and proxy.acting_for(current_user, sheet), **extra), status


# Fields of the page's 工作总结 and documents forms: where an error is shown and what the summary at the top calls it.
FIELDS = {"summary": ("summary-text", N_("工作总结")), "document": ("document-input", N_("上传材料"))}


def _render_errors(sheet: Sheet, status: int, errors: dict[str, str], **extra):
    """The page again with each message beside its field, a summary at the top linking to them, and the first field
    in error focused (the page opens there); whatever was typed is passed back in `extra`."""
    editable = access.can_edit_sheet(current_user, sheet)
    if editable:
        items = Markup("").join(Markup('<li><a class="alert-link" href="#{}">{}：{}</a></li>').format(
            FIELDS[name][0], gettext(FIELDS[name][1]), message) for name, message in errors.items())
        flash(Markup('<div data-testid="error-summary">{}<ul class="mb-0">{}</ul></div>')
              .format(gettext("以下内容未能保存，请修改后重试："), items), "danger")
    else:  # read-only meanwhile (submitted in another tab): no field to point at
        for message in dict.fromkeys(errors.values()):
            flash(message, "danger")
    return _render(sheet, status, field_errors=errors, focus=FIELDS[next(iter(errors))][0] if editable else None,
                   **extra)


@bp.get("/sheets/<int:sheet_id>")
@role_required("village", "township", "district", "admin", "inspector", "finance")
def sheet(sheet_id: int):
    return _render(_self_sheet(sheet_id))


def _posted_for_review(sheet_id: int) -> Sheet:
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_review_sheet(current_user, sheet):
        abort(403)
    return sheet


def _form_version() -> int | None:
    """The sheet version the page's 工作总结 was based on (the form's hidden field), if it sent a sensible one."""
    raw = request.form.get("version", "")
    return parse_id(raw)


def _save_posted_summary(sheet: Sheet) -> tuple[int, dict, dict] | None:
    """Save the 工作总结 posted with a form (its own, or the upload's: they are one form on the page).

    None when saved (or none posted); otherwise (status, {"summary": message}, what the page shows again).
    """
    text = request.form.get("summary")
    if text is None:
        return None
    try:
        selfassess.save_summary(sheet, text, current_user, version=_form_version(), address=request.remote_addr)
    except Conflict as exc:  # saved meanwhile from another tab: both shown, the next save takes the typed text
        return exc.status, {"summary": exc.message}, {"typed_summary": text, "saved_summary": exc.current}
    except ServiceError as exc:
        return exc.status, {"summary": exc.fields.get("summary", exc.message)}, {"typed_summary": text}
    return None


@bp.post("/sheets/<int:sheet_id>/summary")
@role_required("village", "township")
def summary(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    problem = _save_posted_summary(sheet) if "summary" in request.form else (
        422, {"summary": "请填写工作总结"}, {"typed_summary": ""})
    if problem is not None:
        status, errors, extra = problem
        return _render_errors(sheet, status, errors, **extra)
    flash(gettext("工作总结已保存"), "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor="summary-section"))


@bp.post("/sheets/<int:sheet_id>/documents")
@body_limit("document")
@role_required("village", "township")
def upload_document(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    # The summary typed on the page comes with the upload (one form), so the upload never loses it.
    problem = _save_posted_summary(sheet)
    statuses, errors, extra = ([problem[0]], problem[1], problem[2]) if problem is not None else ([], {}, {})
    upload = request.files.get("document")
    data = upload.read(documents.MAX_DOCUMENT_BYTES + 1) if upload is not None else b""
    try:
        documents.add_document(sheet, data, upload.filename if upload is not None else "", current_user,
                               address=request.remote_addr)
    except ServiceError as exc:
        errors["document"] = exc.fields.get("document", exc.message)
        statuses.append(exc.status)
    else:
        flash(gettext("材料已上传"), "success")
    if errors:
        return _render_errors(sheet, min(statuses), errors, **extra)  # 403 before 409 before 422
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor="documents"))


@bp.post("/documents/<int:doc_id>/delete")
@role_required("village", "township")
def delete_document(doc_id: int):
    doc = db.session.get(EvidenceFile, doc_id)
    if doc is None or doc.kind != "document" or doc.deleted_at is not None:
        abort(404)
    sheet = _self_sheet(doc.sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        documents.remove_document(doc, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status)
    flash(gettext("材料“%(name)s”已删除", name=doc.original_name), "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor="documents"))


@bp.get("/documents/<int:doc_id>")
@role_required("village", "township", "district", "admin", "inspector", "finance")
def document(doc_id: int):
    doc = db.session.get(EvidenceFile, doc_id)
    if doc is None or doc.kind != "document" or doc.deleted_at is not None:
        abort(404)
    _self_sheet(doc.sheet_id)
    name, fallback = documents.download_name(doc)
    return send_stored(doc.storage_key, name, doc.content_type, fallback=fallback, max_age=0)


@bp.post("/sheets/<int:sheet_id>/submit")
@role_required("village", "township")
def submit(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not access.can_edit_sheet(current_user, sheet):
        flash(gettext("此自评表当前不能提交（可能已经提交）"), "warning")
        return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))
    try:
        moves.submit_sheet(sheet, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))
    if sheet.unit.level == "village":
        message = gettext("自评表已提交镇(街道)审核（已逾期）") if sheet.late else gettext("自评表已提交镇(街道)审核")
    else:
        message = gettext("自评表已提交区级审核（已逾期）") if sheet.late else gettext("自评表已提交区级审核")
    flash(message, "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id))


@bp.post("/sheets/<int:sheet_id>/comment")
@role_required("township", "district")
def comment(sheet_id: int):
    sheet = _posted_for_review(sheet_id)
    code = request.form.get("code") or None
    try:
        selfassess.add_comment(sheet, code, request.form.get("comment", ""), current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _render(sheet, exc.status)
    flash(gettext("意见已添加"), "success")
    return redirect(url_for("selfassess.sheet", sheet_id=sheet.id, _anchor=f"ind-{code}" if code else ""))


@bp.post("/sheets/<int:sheet_id>/review")
@role_required("township", "district")
def review(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    return review_submitted(
        sheet, refused=gettext("此自评表当前不能审核：可能已被退回、通过或撤回，请查看最新状态"),
        approved=gettext("%(unit)s的自评表已审核通过", unit=sheet.unit.name),
        returned=gettext("%(unit)s的自评表已退回", unit=sheet.unit.name),
        back_to=url_for("selfassess.sheet", sheet_id=sheet.id),
        done_to=url_for("selfassess.township_home" if current_user.role == "township" else "results.index"),
        page_again=lambda status, comment: _render(sheet, status, typed_comment=comment))
