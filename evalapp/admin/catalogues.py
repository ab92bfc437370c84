"""Administration of catalogue versions: list, view as a tree, import (xlsx or YAML), edit a draft, clone."""
import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..auth.forms import EmptyForm
from ..bodylimits import body_limit
from ..extensions import db
from ..models import CatalogueVersion
from ..sending import send_download
from ..services import catalogue_io
from ..services.catalogues import load_tree
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
                                                    sort_keys=False, width=120), form=EmptyForm())


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
                               yaml_text=text, problems=exc.problems, form=EmptyForm()), 422
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
