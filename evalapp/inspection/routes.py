"""Inspection teams: the worklist and the scoring page."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import access
from ..access import role_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import Sheet
from ..services import overview, sheets as sheet_service
from ..services.errors import ServiceError
from . import bp


@bp.get("/")
@role_required("inspector")
def worklist():
    return render_template("inspection/worklist.html", work=overview.inspector_worklist(current_user))


def _visible_sheet(sheet_id: int) -> Sheet:
    sheet = db.session.get(Sheet, sheet_id)
    if sheet is None or sheet.kind == "self" or not access.can_view_sheet(current_user, sheet):
        abort(404)
    return sheet


@bp.get("/sheets/<int:sheet_id>")
@role_required("inspector", "district", "admin")
def sheet(sheet_id: int):
    sheet = _visible_sheet(sheet_id)
    view = sheet_service.sheet_view(sheet)
    return render_template("scoring/sheet.html", view=view, editable=access.can_edit_sheet(current_user, sheet),
                           submit_url=url_for("inspection.submit", sheet_id=sheet.id),
                           back_url=url_for("inspection.worklist"), form=EmptyForm())


@bp.post("/sheets/<int:sheet_id>/submit")
@role_required("inspector")
def submit(sheet_id: int):
    sheet = _visible_sheet(sheet_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if not access.can_edit_sheet(current_user, sheet):
        flash("此评分表当前不能提交（已提交或不属于您）", "warning")
        return redirect(url_for("inspection.sheet", sheet_id=sheet.id))
    try:
        sheet_service.submit_sheet(sheet, current_user)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("inspection.sheet", sheet_id=sheet.id))
    flash(f"{sheet.unit.name}的评分表已提交", "success")
    return redirect(url_for("inspection.worklist"))
