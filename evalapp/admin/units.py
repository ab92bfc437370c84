"""Administration of units: the tree, create, edit/move, deactivate, xlsx import and export."""
import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..auth.forms import EmptyForm
from ..bodylimits import body_limit
from ..extensions import db
from ..models import OrgUnit
from ..sending import send_download
from sqlalchemy import select

from ..domain.lineage import SAME_UNIT, UnitChange
from ..services import imports, lineage, units as unit_service
from ..services.errors import Invalid, ServiceError, _l
from . import bp
from .users import ACTIVE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(status=200, **extra):
    return render_template("admin/units.html", tree=unit_service.tree(), form=EmptyForm(), **extra), status


@bp.get("/units")
@role_required("admin")
def units():
    return _page()


def _checked_post():
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/units")
@role_required("admin")
def create_unit():
    _checked_post()
    typed = {k: request.form.get(k, "")[:200] for k in ("code", "name", "kind", "parent_code")}
    try:
        unit = unit_service.create_unit(typed["code"], typed["name"], typed["kind"], typed["parent_code"],
                                        current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _page(exc.status, typed=typed)
    flash(gettext("已新增单位：%(name)s", name=unit.name), "success")
    return redirect(url_for("admin.units"))


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_unit(unit_id: int):
    unit = db.get_or_404(OrgUnit, unit_id)
    form = EmptyForm()
    typed = {"name": unit.name, "kind": unit.kind, "parent_code": unit.parent.code if unit.parent else ""}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        typed = {k: request.form.get(k, "")[:200] for k in ("name", "kind", "parent_code")}
        try:
            unit_service.update_unit(unit, typed["name"], typed["kind"], typed["parent_code"], current_user,
                                     address=request.remote_addr)
        except ServiceError as exc:
            flash(exc.message, "danger")
            return _edit_page(unit, typed, form, exc.status)
        flash(gettext("已保存：%(name)s", name=unit.name), "success")
        return redirect(url_for("admin.units"))
    return _edit_page(unit, typed, form)


def _edit_page(unit: OrgUnit, typed: dict, form, status: int = 200, lineage_typed: dict | None = None,
               lineage_errors: dict | None = None):
    return render_template("admin/unit_edit.html", unit=unit, typed=typed, form=form,
                           changes=lineage.unit_lineage(unit.id), lineage_typed=lineage_typed or {},
                           lineage_errors=lineage_errors or {}, lineage_changes=list(UnitChange)), status


@bp.post("/units/<int:unit_id>/lineage")
@role_required("admin")
def unit_lineage(unit_id: int):
    """A change in the unit's identity (issue 33): its code changed (an official code imported, a code renamed), or
    it was made of (merged) or cut from (split) other units, named by their codes."""
    unit = db.get_or_404(OrgUnit, unit_id)
    _checked_post()
    typed = {k: request.form.get(k, "")[:400] for k in ("change", "new_code", "predecessors")}
    try:
        if typed["change"] in SAME_UNIT and typed["new_code"].strip():
            lineage.recode_unit(unit, typed["new_code"], typed["change"], current_user, address=request.remote_addr)
        else:
            codes = [c for c in re.split(r"[、,，\s]+", typed["predecessors"]) if c]
            found = db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes))).all() if codes else []
            if len(found) != len(set(codes)):
                missing = sorted(set(codes) - {u.code for u in found})
                raise Invalid("unit.predecessor", _l("没有编码为“%(code)s”的单位", code=missing[0]),
                              {"predecessors": _l("没有编码为“%(code)s”的单位", code=missing[0])})
            lineage.link_units(unit, found, typed["change"], current_user, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        typed_unit = {"name": unit.name, "kind": unit.kind, "parent_code": unit.parent.code if unit.parent else ""}
        return _edit_page(unit, typed_unit, EmptyForm(), exc.status, typed, exc.fields)
    flash(gettext("已记录单位谱系：%(name)s", name=unit.name), "success")
    return redirect(url_for("admin.edit_unit", unit_id=unit.id))


@bp.post("/units/<int:unit_id>/active")
@role_required("admin")
def toggle_unit(unit_id: int):
    _checked_post()
    unit = db.get_or_404(OrgUnit, unit_id)
    active = ACTIVE.get(request.form.get("active", ""))
    if active is None:  # only the page's two buttons: anything else changes nothing
        flash(gettext("%(name)s：启用状态应为 1（启用）或 0（停用），未作改动", name=unit.name), "danger")
        return _page(422)
    unit_service.set_active(unit, active, current_user, address=request.remote_addr)
    flash(gettext("%(name)s已启用", name=unit.name) if unit.active else gettext("%(name)s已停用", name=unit.name), "info")
    return redirect(url_for("admin.units"))


@bp.post("/units/import")
@body_limit("import")
@role_required("admin")
def import_units():
    _checked_post()
    upload = request.files.get("file")
    data = upload.read(imports.MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        result = imports.import_units(data, current_user, address=request.remote_addr)
    except imports.ImportProblems as exc:
        flash(gettext("导入失败，未写入任何数据，请按下列问题修改后重新导入"), "danger")
        return _page(422, problems=exc.problems)
    flash(gettext("导入成功：共%(rows)s行，新增%(created)s个，更新%(updated)s个", rows=result["rows"], created=result["created"],
                  updated=result["updated"]), "success")
    return redirect(url_for("admin.units"))


@bp.get("/units/export.xlsx")
@role_required("admin")
def export_units():
    return send_download(imports.units_workbook(), "单位.xlsx", XLSX)


@bp.get("/units/template.xlsx")
@role_required("admin")
def units_template():
    return send_download(imports.units_workbook(template=True), "单位导入模板.xlsx", XLSX)
