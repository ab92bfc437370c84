"""The 评估总结 to 市民政局 (issue 33, point 4): the district writes the narrative sections, chooses a published
version and the 签发人, downloads the .docx; it may replace the Word template and restore the default. Thin, over
services.summary; the district and the admin only (role_required: everyone else 403), a round that does not
exist 404."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..access import role_required
from ..bodylimits import body_limit
from ..errors import attach_field_errors
from ..extensions import db
from ..models import Round
from ..services import jobs, summary as service
from ..services.errors import ServiceError
from . import bp

ROLES = service.DISTRICT_ROLES


class NarrativeForm(FlaskForm):
    practice = TextAreaField(_l("做法和成效"), validators=[
        Length(max=service.SECTION_MAX, message=_l("不能超过%(max)s字", max=service.SECTION_MAX))])
    analysis = TextAreaField(_l("问题分析"), validators=[
        Length(max=service.SECTION_MAX, message=_l("不能超过%(max)s字", max=service.SECTION_MAX))])
    advice = TextAreaField(_l("建议"), validators=[
        Length(max=service.SECTION_MAX, message=_l("不能超过%(max)s字", max=service.SECTION_MAX))])


class GenerateForm(FlaskForm):
    version = SelectField(_l("公布版本"), coerce=int)  # the choices are set before validate: a version not offered is refused
    signer = StringField(_l("签发人"), validators=[
        InputRequired(_l("请填写签发人")), Length(max=service.SIGNER_MAX, message=_l("签发人不能超过%(n)s字",
                                                                                n=service.SIGNER_MAX))])


class TemplateForm(FlaskForm):
    template = FileField(_l("Word模板（.docx）"))


def _page(round_: Round, *, narrative=None, generate=None, template=None, status=200):
    row = service.summary_of(round_.id)
    versions = service.versions_of(round_)
    if narrative is None:
        narrative = NarrativeForm(data={name: getattr(row, name) if row else "" for name in service.SECTION_LABELS})
    if generate is None:
        generate = GenerateForm(data={"signer": row.signer if row else "",
                                      "version": versions[-1].version if versions else None})
    generate.version.choices = [(v.version, gettext("第%(v)s版（%(day)s公布）", v=v.version,
                                                    day=format_datetime(v.published_at, "yyyy-MM-dd")))
                                for v in reversed(versions)]
    return render_template("results/summary.html", round=round_, row=row, versions=versions, narrative=narrative,
                           generate=generate, template_form=template or TemplateForm(),
                           in_force=service.template_in_force()), status


@bp.route("/rounds/<int:round_id>/summary", methods=["GET", "POST"])
@role_required(*ROLES)
def summary_page(round_id: int):
    """The page; a POST saves the narrative sections (what was typed is kept when refused)."""
    round_ = db.get_or_404(Round, round_id)
    if request.method == "GET":
        return _page(round_)
    form = NarrativeForm()
    if not form.validate_on_submit():
        return _page(round_, narrative=form, status=422)
    try:
        service.save_narratives(round_, {name: getattr(form, name).data for name in service.SECTION_LABELS},
                                current_user, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if not attach_field_errors(form, exc):
            flash(exc.message, "danger")
        return _page(round_, narrative=form, status=exc.status)
    flash(gettext("已保存评估总结的文字"), "success")
    return redirect(url_for("results.summary_page", round_id=round_id))


@bp.post("/rounds/<int:round_id>/summary.docx")
@role_required(*ROLES)
def summary_docx(round_id: int):
    """Issue the 评估总结 of the version chosen (the round's 文号 taken the first time) and hand its making to a job:
    the job's page shows the progress and offers the .docx (its download audited)."""
    round_ = db.get_or_404(Round, round_id)
    form = GenerateForm()
    form.version.choices = [(v.version, str(v.version)) for v in service.versions_of(round_)]
    if not form.validate_on_submit():
        return _page(round_, generate=form, status=422)
    try:
        params = service.prepare_summary(round_, form.version.data, form.signer.data, current_user)
    except ServiceError as exc:
        db.session.rollback()
        if not attach_field_errors(form, exc):
            flash(exc.message, "danger")
        return _page(round_, generate=form, status=exc.status)
    job = jobs.request_job("summary_docx", params, current_user)
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.get("/summary/download/template.docx")
@role_required(*ROLES)
def summary_template():
    """The template in force (the district's, else the default), to edit in Word and upload again."""
    from ..sending import send_download
    import io

    data, name = service.template_bytes()
    return send_download(io.BytesIO(data), name, service.DOCX, fallback="summary-template.docx")


@bp.post("/rounds/<int:round_id>/summary/template")
@body_limit("document")
@role_required(*ROLES)
def summary_template_upload(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = TemplateForm()
    if not form.validate_on_submit():
        return _page(round_, template=form, status=400)
    upload = form.template.data
    try:
        service.upload_template(upload.read() if upload else b"", upload.filename if upload else "", current_user,
                                address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if not attach_field_errors(form, exc):
            flash(exc.message, "danger")
        return _page(round_, template=form, status=exc.status)
    flash(gettext("已启用新的评估总结模板"), "success")
    return redirect(url_for("results.summary_page", round_id=round_id))


@bp.post("/rounds/<int:round_id>/summary/template/default")
@role_required(*ROLES)
def summary_template_restore(round_id: int):
    from flask import abort

    from ..auth.forms import EmptyForm

    db.get_or_404(Round, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.restore_default(current_user, address=request.remote_addr)
    flash(gettext("已恢复默认模板"), "success")
    return redirect(url_for("results.summary_page", round_id=round_id))
