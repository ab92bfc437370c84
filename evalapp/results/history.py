"""Across rounds (issue 33, points 2 and 3): a unit's history over every published version it took part in, and the
district's year-over-year comparison with its 连续失分 list (services.history; scope: access.can_view_unit_history)."""
from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from .. import access
from ..access import role_required
from ..extensions import db
from ..models import OrgUnit
from ..sending import send_download
from ..services import history, history_export, lineage
from ..services.xlsx import XLSX_MIMETYPE
from . import bp


@bp.get("/units/<int:unit_id>/history")
@login_required
def unit_history(unit_id: int):
    """Every published version of every round the unit took part in, compared version by version; a 404 for a unit
    outside the caller's scope (and for roles that see no unit's history)."""
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not access.can_view_unit_history(current_user, unit):
        abort(404)
    found = history.unit_history(unit)
    return render_template("results/history.html", history=found, changes=lineage.unit_lineage(unit.id))


class DistrictForm(FlaskForm):
    """The comparison's choices, read from the query string (a GET: no CSRF)."""

    class Meta:
        csrf = False

    before = SelectField(_l("对比"), coerce=int, validate_choice=False, validators=[Optional()])
    after = SelectField(_l("与"), coerce=int, validate_choice=False, validators=[Optional()])
    below = IntegerField(_l("连续失分：得分率低于（%）"), default=60,
                         validators=[Optional(), NumberRange(1, 100, message=_l("请填1到100之间的整数"))])


@bp.get("/history")
@role_required("district", "admin")
def district_history():
    form = DistrictForm(request.args)
    refs = history.last_versions()
    options = [(r.round_id, f"{r.label} · {r.round_name}") for r in refs]
    form.before.choices = form.after.choices = options
    if request.args and not form.validate():
        return render_template("results/district_history.html", form=form, found=None), 422
    below = form.below.data or 60
    found = history.district(form.before.data or None, form.after.data or None, below)
    if found.before is not None:
        form.before.data = found.before.round_id
    if found.after is not None:
        form.after.data = found.after.round_id
    form.below.data = below
    return render_template("results/district_history.html", form=form, found=found)


@bp.get("/units/<int:unit_id>/history.xlsx")
@login_required
def unit_history_xlsx(unit_id: int):
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not access.can_view_unit_history(current_user, unit):
        abort(404)
    return send_download(history_export.unit_workbook(history.unit_history(unit)), f"{unit.name}_历年对比.xlsx",
                         XLSX_MIMETYPE, fallback=f"unit-{unit.id}-history.xlsx")


@bp.get("/history.xlsx")
@role_required("district", "admin")
def district_history_xlsx():
    form = DistrictForm(request.args)
    form.before.choices = form.after.choices = [(r.round_id, r.round_name) for r in history.last_versions()]
    if request.args and not form.validate():
        abort(422)
    found = history.district(form.before.data or None, form.after.data or None, form.below.data or 60)
    return send_download(history_export.district_workbook(found), "全区历年对比.xlsx", XLSX_MIMETYPE,
                         fallback="district-history.xlsx")
