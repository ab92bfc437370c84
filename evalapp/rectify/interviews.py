"""约谈 pages (issue 32, point 7): thin views over services.interviews."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..bodylimits import body_limit
from ..domain import rectification as rules
from ..extensions import db
from ..ids import parse_id
from ..models import OrgUnit, Round
from ..services import interviews as service
from ..services.errors import NotFound, ServiceError
from ..services.rectification import is_unit_lead
from . import bp, routes
from .forms import CheckForm, EmptyForm, InterviewForm, InterviewReportForm, choices, parse_date
from .routes import EVERYONE, _apply, _upload, valid


def _choices(form: InterviewForm) -> InterviewForm:
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.level.in_(("township", "village")),
                                                     OrgUnit.active.is_(True)).order_by(OrgUnit.code)).all()
    form.unit.choices = choices([("", gettext("请选择"))] + [(str(u.id), f"{u.name}（{u.code}）") for u in units])
    rounds = db.session.scalars(select(Round).order_by(Round.id.desc())).all()
    form.round.choices = choices([("", gettext("不限批次"))] + [(str(r.id), r.name) for r in rounds])
    return form


@bp.get("/interviews/new")
@role_required("district", "admin")
def new_interview():
    form = _choices(InterviewForm(formdata=None))
    if request.args.get("unit", "").isdigit():
        form.unit.data = request.args["unit"]
    if request.args.get("round", "").isdigit():
        form.round.data = request.args["round"]
    return render_template("rectify/interview_new.html", form=form)


@bp.post("/interviews")
@body_limit("document")
@role_required("district", "admin")
def create_interview():
    form = _choices(InterviewForm())
    if not valid(form):
        form.unit.errors, form.round.errors = [], []
    held_on, bad = parse_date(form.held_on.data)
    bad_dates = {}
    requirements = []
    for i, entry in enumerate(form.requirements.entries):
        due, bad_due = parse_date(entry.form.due.data)
        if bad_due:
            bad_dates[i] = entry
        requirements.append(service.Requirement(entry.form.text.data or "", due))
    if bad or bad_dates:
        if bad:
            form.held_on.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        for entry in bad_dates.values():
            entry.form.due.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        return render_template("rectify/interview_new.html", form=form), 422
    data, name = _upload("minutes")
    unit_id = parse_id(form.unit.data)  # ASCII digits only: "²" is isdigit() but no int (evalapp.ids)
    round_text = (form.round.data or "").strip()
    round_id = parse_id(round_text) if round_text else None
    if round_text and round_id is None:
        round_id = 0  # no round has id 0: the service refuses it beside the field (批次不存在)
    try:
        interview = service.record(unit_id, round_id, held_on, form.participants.data, form.points_raised.data,
                                   requirements, data, name, current_user, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        for key, message in exc.fields.items():
            if key.startswith("requirements-"):
                _, index, part = key.split("-")
                entry = form.requirements.entries[int(index)].form
                getattr(entry, part).errors = [message]
        _apply(form, exc)
        return render_template("rectify/interview_new.html", form=form), exc.status
    flash(gettext("约谈已记录"), "success")
    return redirect(url_for("rectify.interview", interview_id=interview.id), 303)


def _visible(interview_id: int):
    try:
        return service.get_visible(current_user, interview_id)
    except NotFound:
        abort(404)


def _page(interview, status: int = 200, **forms):
    from ..services.rectification import is_district

    return render_template("rectify/interview.html", interview=interview, today=routes._today(),
                           reported_late=rules.reported_late(interview.reported_at, interview.report_due),
                           requirements=service.requirements_of(interview),
                           is_lead=is_unit_lead(current_user, interview.unit_id), is_district=is_district(current_user),
                           report=forms.get("report") or InterviewReportForm(formdata=None),
                           check=forms.get("check") or CheckForm(formdata=None), empty=EmptyForm()), status


@bp.get("/interviews/<int:interview_id>")
@role_required(*EVERYONE)
def interview(interview_id: int):
    return _page(_visible(interview_id))


def _act(interview, name, form, action, done):
    try:
        action()
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 422:
            _apply(form, exc)
        else:
            flash(exc.message, "danger")
        return _page(_visible(interview.id), exc.status, **{name: form})
    flash(done, "success")
    return redirect(url_for("rectify.interview", interview_id=interview.id), 303)


@bp.post("/interviews/<int:interview_id>/report")
@body_limit("document")
@role_required("township", "village")
def interview_report(interview_id: int):
    found = _visible(interview_id)
    if not is_unit_lead(current_user, found.unit_id):
        abort(403)
    form = InterviewReportForm()
    valid(form)
    data, name = _upload("report_file")
    return _act(found, "report", form, lambda: service.file_report(
        found, form.text.data, data, name, current_user, address=request.remote_addr), gettext("书面报告已报送"))


@bp.post("/interviews/<int:interview_id>/check")
@role_required("district", "admin")
def interview_check(interview_id: int):
    found = _visible(interview_id)
    form = CheckForm()
    valid(form)
    return _act(found, "check", form, lambda: service.check(found, form.note.data, current_user,
                                                            address=request.remote_addr), gettext("审核意见已保存"))


@bp.post("/interviews/<int:interview_id>/publish")
@role_required("district", "admin")
def interview_publish(interview_id: int):
    found = _visible(interview_id)
    valid(EmptyForm())
    return _act(found, "publish", None, lambda: service.publish_notice(found, current_user,
                                                                       address=request.remote_addr),
                gettext("约谈通报已发布"))


@bp.get("/interviews/<int:interview_id>/notice")
@role_required(*EVERYONE)
def interview_notice(interview_id: int):
    """The 约谈通报 (A4, Chinese): as published once published (frozen), else marked 草稿."""
    found = _visible(interview_id)
    return render_template("rectify/interview_notice.html", interview=found,
                           requirements=service.requirements_of(found))
