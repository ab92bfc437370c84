"""Administration of catalogue versions: list, view as a tree, import (xlsx or YAML), edit a draft, clone."""
import re

import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField
from wtforms import Form as PlainForm

from ..access import role_required
from ..auth.forms import EmptyForm
from ..bodylimits import body_limit
from ..extensions import db
from ..models import CatalogueVersion
from ..sending import send_download
from ..domain import lineage as lineage_rules
from ..services import catalogue_io, lineage
from ..services.catalogues import indicators_of, load_tree
from ..services.errors import Conflict, Invalid
from ..services.imports import MAX_IMPORT_BYTES, ImportProblems
from ..services.errors import _l
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _list(status=200, **extra):
    versions = db.session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.code,
                                                                    CatalogueVersion.version)).all()
    frozen = {v.id: catalogue_io.is_frozen(v) for v in versions}
    return render_template("admin/catalogues.html", versions=versions, frozen=frozen, form=EmptyForm(),
                           **extra), status


@bp.get("/catalogues")
@role_required("admin")
def catalogues():
    return _list()


def _post_ok():
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/catalogues/import")
@body_limit("import")
@role_required("admin")
def import_catalogue():
    _post_ok()
    upload = request.files.get("file")
    data = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        if data.startswith(b"PK"):
            versions = [catalogue_io.import_xlsx(data, current_user, address=request.remote_addr)]
        else:
            if not data:
                raise ImportProblems([_l("请选择文件（.xlsx 或 .yaml）")])
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ImportProblems([_l("文件既不是Excel(.xlsx)也不是UTF-8编码的YAML")]) from None
            versions = catalogue_io.import_yaml(text, current_user, address=request.remote_addr)
    except ImportProblems as exc:
        flash(gettext("导入失败，未写入任何数据，请按下列问题修改后重新导入"), "danger")
        return _list(422, problems=exc.problems)
    flash(gettext("已导入：%(versions)s", versions="、".join(gettext("%(code)s 第%(version)s版", code=v.code, version=v.version)
                                                          for v in versions)), "success")
    return redirect(url_for("admin.catalogues"))


def _version(version_id: int) -> CatalogueVersion:
    return db.get_or_404(CatalogueVersion, version_id)


@bp.get("/catalogues/<int:version_id>")
@role_required("admin")
def catalogue(version_id: int):
    version = _version(version_id)
    return render_template("admin/catalogue.html", cat=load_tree(version.id), frozen=catalogue_io.is_frozen(version),
                           yaml_text=yaml.safe_dump(catalogue_io.to_plain(version), allow_unicode=True,
                                                    sort_keys=False, width=120), form=EmptyForm(),
                           lineage=lineage.lineage_of(version.id))


@bp.post("/catalogues/<int:version_id>/edit")
@role_required("admin")
def edit_catalogue(version_id: int):
    _post_ok()
    version = _version(version_id)
    text = request.form.get("yaml", "")[:500_000]
    try:
        new = catalogue_io.replace_draft(version, text, current_user, address=request.remote_addr)
    except ImportProblems as exc:
        flash(gettext("未保存，请按下列问题修改"), "danger")
        return render_template("admin/catalogue.html", cat=load_tree(version.id), frozen=catalogue_io.is_frozen(version),
                               yaml_text=text, problems=exc.problems, form=EmptyForm(),
                               lineage=lineage.lineage_of(version.id)), 422
    flash(gettext("草稿已保存"), "success")
    return redirect(url_for("admin.catalogue", version_id=new.id))


@bp.post("/catalogues/<int:version_id>/clone")
@role_required("admin")
def clone_catalogue(version_id: int):
    _post_ok()
    new = catalogue_io.clone(_version(version_id), current_user, address=request.remote_addr)
    flash(gettext("已复制为 %(code)s 第%(version)s版（草稿，可修改）", code=new.code, version=new.version), "success")
    return redirect(url_for("admin.catalogue", version_id=new.id))


@bp.get("/catalogues/<int:version_id>/export.xlsx")
@role_required("admin")
def export_catalogue(version_id: int):
    version = _version(version_id)
    return send_download(catalogue_io.catalogue_workbook(version), f"{version.code}_第{version.version}版.xlsx", XLSX,
                         fallback=f"catalogue-{version.id}.xlsx")


@bp.get("/catalogues/template.xlsx")
@role_required("admin")
def catalogue_template():
    return send_download(catalogue_io.catalogue_workbook(None), "指标体系导入模板.xlsx", XLSX)


# ---------------------------------------------------------------- lineage (issue 33, point 1)


class LinkRow(PlainForm):
    """One indicator of the version: how it relates to the version before it."""

    code = HiddenField()
    relation = SelectField(_l("关系"), choices=[])
    olds = StringField(_l("原指标编码"))


class LineageForm(FlaskForm):
    rows = FieldList(FormField(LinkRow))


def _lineage_page(version: CatalogueVersion, form: LineageForm | None = None, errors: dict | None = None,
                  status: int = 200):
    found = lineage.lineage_of(version.id)
    if found is None:
        abort(404)
    titles = {i.code: i.title for i in indicators_of(load_tree(version.id))}
    before = db.session.get(CatalogueVersion, found.predecessor_id)
    old_titles = {i.code: i.title for i in indicators_of(load_tree(before.id))}
    links = lineage.links_of(found)
    if form is None:
        chosen = lineage_rules.choices_of(links)
        form = LineageForm(formdata=None, data={"rows": [
            {"code": code, "relation": chosen.get(code, ("new", []))[0], "olds": "、".join(chosen.get(code, ("", []))[1])}
            for code in titles]})
    for entry in form.rows:
        entry.form.relation.choices = [(r.value, r.label) for r in lineage_rules.Relation
                                       if r is not lineage_rules.Relation.RETIRED]
    retired = [old for old, new, relation in links if relation == "retired"]
    return render_template("admin/catalogue_lineage.html", version=version, before=before, lineage=found, form=form,
                           titles=titles, old_titles=old_titles, retired=retired, errors=errors or {}), status


@bp.get("/catalogues/<int:version_id>/lineage")
@role_required("admin")
def catalogue_lineage(version_id: int):
    return _lineage_page(_version(version_id))


@bp.post("/catalogues/<int:version_id>/lineage")
@role_required("admin")
def save_catalogue_lineage(version_id: int):
    version = _version(version_id)
    form = LineageForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    choices = {}
    for entry in form.rows:
        code = (entry.form.code.data or "").strip()
        olds = [o.strip() for o in re.split(r"[、,，\s]+", entry.form.olds.data or "") if o.strip()]
        choices[code] = ((entry.form.relation.raw_data or [""])[0], olds)
    try:
        lineage.save(version, choices, current_user, address=request.remote_addr)
    except Invalid as exc:
        return _lineage_page(version, form, {k: str(v) for k, v in (exc.fields or {}).items()}, 422)
    except Conflict as exc:
        flash(str(exc.message), "danger")
        return redirect(url_for("admin.catalogue_lineage", version_id=version.id))
    flash(gettext("指标对应关系已确认"), "success")
    return redirect(url_for("admin.catalogue_lineage", version_id=version.id))
