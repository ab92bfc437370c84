"""Asking for a long export (a POST: a job, found or made, then its page), its page with a progress bar, the JSON
status the page polls, the file when done (audited), and a retry. Every route checks the role, and the job's own
audience (services.jobs.may_fetch): another role's job is a 404."""
from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import role_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import Round
from ..sending import send_download
from ..services import jobs
from ..services.errors import NotFound
from . import bp

ROLES = ("district", "admin", "finance")  # every role that may ask for some kind of job


def _checked_form():
    if not EmptyForm().validate_on_submit():
        abort(400)


def _job_or_404(job_id: int):
    try:
        return jobs.visible_job(current_user, job_id)
    except NotFound:
        abort(404)


@bp.post("/rounds/<int:round_id>/workbook")
@role_required("district", "admin")
def request_workbook(round_id: int):
    _checked_form()
    round_ = db.get_or_404(Round, round_id)
    params = jobs.workbook_params(round_, draft=request.form.get("view") == "draft")
    job = jobs.request_job("results_workbook", params, current_user)
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.post("/rounds/<int:round_id>/evidence")
@role_required("district", "admin", "finance")
def request_evidence(round_id: int):
    _checked_form()
    round_ = db.get_or_404(Round, round_id)
    job = jobs.request_job("evidence_zip", jobs.evidence_params(round_, current_user), current_user)
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.post("/audit")
@role_required("admin")
def request_audit():
    from ..services import audit

    _checked_form()
    filters, _ = audit.parse_filters(request.form)
    job = jobs.request_job("audit_export", jobs.audit_params(filters, current_user), current_user)
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.get("/<int:job_id>")
@role_required(*ROLES)
def show(job_id: int):
    job = _job_or_404(job_id)
    round_ = db.session.get(Round, job.params["round_id"]) if job.params.get("round_id") else None
    return render_template("jobs/show.html", job=job, status=jobs.status(job), round=round_, form=EmptyForm(),
                           stale_seconds=jobs.stale_seconds())


@bp.get("/<int:job_id>/status")
@role_required(*ROLES)
def status(job_id: int):
    job = _job_or_404(job_id)
    response = jsonify(jobs.status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/file")
@role_required(*ROLES)
def file(job_id: int):
    job = _job_or_404(job_id)
    try:
        data, name, mimetype, fallback = jobs.downloaded(job, current_user, address=request.remote_addr)
    except NotFound:
        return redirect(url_for("jobs.show", job_id=job.id))  # expired or not yet made: its page says which
    try:
        return send_download(data, name, mimetype, fallback=fallback, max_age=0)
    except BaseException:  # the response owns the file only once made (as sending.send_stored)
        data.close()
        raise


@bp.post("/<int:job_id>/retry")
@role_required(*ROLES)
def retry(job_id: int):
    _checked_form()
    job = _job_or_404(job_id)
    jobs.retry(job)
    return redirect(url_for("jobs.show", job_id=job.id), 303)
