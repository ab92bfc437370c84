"""公示, 异议, 复核 pages (issue 32, points 2–4) and the admin's working-day calendar: thin, over
services.notices and services.objections."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..bodylimits import body_limit, uploaded_files
from ..domain.objections import MAX_EVIDENCE_BYTES, MAX_FILES, MB
from ..errors import attach_field_errors
from ..extensions import db
from ..models import CalendarDay, Objection, ObjectionFile, Round
from ..services import notices, objections
from ..services.errors import ServiceError
from . import bp
from .forms import AssignForm, CalendarForm, DecideForm, NoticeForm, ObjectionForm, choices

UNITS = ("district", "admin", "finance", "township", "village")


# -- the calendar (admin) ----------------------------------------------------------------------------------------

@bp.route("/calendar", methods=["GET", "POST"])
@role_required("admin")
def calendar():
    form = CalendarForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                notices.set_day(form.day.data, form.kind.data, form.note.data or "", current_user,
                                address=request.remote_addr)
            except ServiceError as exc:
                db.session.rollback()
                if not attach_field_errors(form, exc):
                    flash(exc.message, "danger")
                status = exc.status
            else:
                flash(gettext("已保存 %(day)s", day=form.day.data.isoformat()), "success")
                return redirect(url_for("notice.calendar"))
        else:
            status = 422
    return render_template("notice/calendar.html", form=form, days=notices.calendar_days()), status


@bp.post("/calendar/<int:day_id>/remove")
@role_required("admin")
def calendar_remove(day_id: int):
    from ..auth.forms import EmptyForm

    row = db.get_or_404(CalendarDay, day_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    notices.remove_day(row, current_user, address=request.remote_addr)
    flash(gettext("已删除 %(day)s", day=row.day.isoformat()), "success")
    return redirect(url_for("notice.calendar"))


# -- the notice ----------------------------------------------------------------------------------------------

@bp.get("/")
@role_required(*UNITS, "inspector")
def index():
    """The published rounds whose 公示 the user may see, each with its state."""
    from sqlalchemy import select

    rounds = [r for r in db.session.scalars(select(Round).where(Round.status == "published").order_by(Round.id.desc()))
              if notices.may_see(current_user, r)]
    shown = [(r, notices.notice_of(r.id)) for r in rounds]
    from ..services import reminders

    return render_template("notice/index.html", rounds=[(r, n, notices.state(n)) for r, n in shown],
                           reminders=reminders.for_user(current_user))


def _round_seen(round_id: int) -> Round:
    round_ = db.get_or_404(Round, round_id)
    if not notices.may_see(current_user, round_):
        abort(404)
    return round_


def _notice_page(round_: Round, *, notice_form=None, objection_form=None, status=200):
    notice = notices.notice_of(round_.id)
    state = notices.state(notice)
    units = objections.objectable_units(current_user, notice) if notice else []
    if objection_form is None:
        objection_form = ObjectionForm()
    objection_form.unit.choices = choices([(u.id, u.name) for u in units])
    if objection_form.unit.data is None:  # the district picks the unit first (?unit=), its items follow
        objection_form.unit.data = request.args.get("unit", type=int)
    chosen = next((u for u in units if u.id == objection_form.unit.data), units[0] if units else None)
    items = objections.targets(notice, chosen) if chosen is not None else []
    objection_form.item.choices = choices([(f"{t.target}:{t.code}", f"{_target_label(t.target)} {t.code} {t.title}")
                                           for t in items])
    if current_user.role in ("district", "admin", "finance"):
        listed = objections.for_round(round_.id)
    elif current_user.role in ("township", "village"):
        from ..models import OrgUnit
        from sqlalchemy import select
        own = [current_user.unit_id] + list(db.session.scalars(select(OrgUnit.id).where(
            OrgUnit.parent_id == current_user.unit_id))) if current_user.role == "township" else [current_user.unit_id]
        listed = objections.for_round(round_.id, own)
    else:
        listed = []
    return render_template(
        "notice/round.html", round=round_, notice=notice, state=state,
        ends=notices.ends_at(notice) if notice else None,
        notice_form=notice_form or NoticeForm(start=notices.today()), objection_form=objection_form,
        evidence_limits={"n": MAX_FILES, "mb": MAX_EVIDENCE_BYTES // MB},
        units=units, chosen=chosen, listed=listed, status_labels=objections.STATUS_LABELS,
        target_labels=objections.TARGET_LABELS,
        closed_message=objections.closed_message(notice) if notice else None), status


def _target_label(target: str) -> str:
    return gettext(objections.TARGET_LABELS[target])


@bp.get("/rounds/<int:round_id>")
@role_required(*UNITS)
def round_notice(round_id: int):
    return _notice_page(_round_seen(round_id))


@bp.post("/rounds/<int:round_id>/open")
@role_required("district")
def open_notice(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = NoticeForm()
    if not form.validate_on_submit():
        return _notice_page(round_, notice_form=form, status=422)
    try:
        notices.open_notice(round_, form.start.data, form.length.data, form.text.data or "", current_user,
                            answer_days=form.answer_days.data, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if not attach_field_errors(form, exc):
            flash(exc.message, "danger")
        return _notice_page(round_, notice_form=form, status=exc.status)
    flash(gettext("公示已发布"), "success")
    return redirect(url_for("notice.round_notice", round_id=round_id))


@bp.get("/rounds/<int:round_id>/print")
@role_required(*UNITS)
def print_notice(round_id: int):
    round_ = _round_seen(round_id)
    notice = notices.notice_of(round_.id)
    if notice is None:
        abort(404)
    return render_template("notice/print.html", listed=notices.notice_list(notice), notice=notice,
                           ends=notices.ends_at(notice))


@bp.post("/rounds/<int:round_id>/objections")
@body_limit("document")
@role_required("district", "township", "village")
def file_objection(round_id: int):
    round_ = _round_seen(round_id)
    form = ObjectionForm()
    if not form.validate_on_submit():
        return _notice_page(round_, objection_form=form, status=422)
    unit = next((u for u in objections.objectable_units(current_user, notices.notice_of(round_.id))
                 if u.id == form.unit.data), None) if notices.notice_of(round_.id) else None
    if unit is None:
        flash(gettext("请选择被评估单位"), "danger")
        return _notice_page(round_, objection_form=form, status=422)
    target, _, code = (form.item.data or "").partition(":")
    files = uploaded_files("files", MAX_EVIDENCE_BYTES)
    try:
        made = objections.file(round_, unit, target, code, form.reason.data or "", files, current_user,
                               objector=form.objector.data or "", address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if "code" in exc.fields:
            form.item.errors = list(form.item.errors) + [exc.fields["code"]]
        if not attach_field_errors(form, exc) and "code" not in exc.fields:
            flash(exc.message, "danger")
        return _notice_page(round_, objection_form=form, status=exc.status)
    flash(gettext("异议已受理，受理编号：%(receipt)s", receipt=made.receipt), "success")
    return redirect(url_for("notice.objection", objection_id=made.id))


@bp.post("/rounds/<int:round_id>/settle")
@role_required("district")
def settle(round_id: int):
    from ..auth.forms import EmptyForm

    round_ = db.get_or_404(Round, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        objections.settle(round_, current_user, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("notice.round_notice", round_id=round_id), 303)
    flash(gettext("结果已确定"), "success")
    return redirect(url_for("notice.round_notice", round_id=round_id))


@bp.get("/rounds/<int:round_id>/dashboard")
@role_required("district", "admin", "finance")
def dashboard(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    shown = objections.figures(round_.id)
    data = {"statuses": list(objections.STATUS_LABELS), "items": shown.by_item}
    return render_template("notice/dashboard.html", round=round_, figures=shown, data=data,
                           status_labels=objections.STATUS_LABELS, target_labels=objections.TARGET_LABELS)


# -- one objection -------------------------------------------------------------------------------------------

def _objection_seen(objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None or not objections.may_view(current_user, objection):
        abort(404)
    return objection


def _objection_page(objection: Objection, *, assign_form=None, decide_form=None, status=200):
    people = objections.reviewer_choices()
    scoring = objections.scorers(objection.round_id, objection.unit_id)
    assign_form = assign_form or AssignForm(reviewers=[r.user_id for r in objection.reviewers],
                                            leader=objection.leader_id)
    assign_form.reviewers.choices = choices([(u.id, u.display_name) for u in people])
    assign_form.leader.choices = choices([(u.id, u.display_name) for u in people])
    decide_form = decide_form or DecideForm()
    decide_form.agree.choices = choices([(r.user_id, r.user.display_name) for r in objection.reviewers])
    return render_template("notice/objection.html", o=objection, assign_form=assign_form, decide_form=decide_form,
                           scoring=scoring, status_labels=objections.STATUS_LABELS,
                           target_labels=objections.TARGET_LABELS, round=db.session.get(Round, objection.round_id),
                           sheet=objections.final_sheet_of(objection)), status


@bp.get("/objections/<int:objection_id>")
@role_required("district", "admin", "township", "village", "inspector")
def objection(objection_id: int):
    return _objection_page(_objection_seen(objection_id))


@bp.get("/objections/<int:objection_id>/files/<int:file_id>")
@role_required("district", "admin", "township", "village", "inspector")
def objection_file(objection_id: int, file_id: int):
    from ..sending import send_stored

    objection = _objection_seen(objection_id)
    row = db.session.get(ObjectionFile, file_id)
    if row is None or row.objection_id != objection.id:
        abort(404)
    return send_stored(row.storage_key, row.original_name, row.content_type,
                       fallback=f"objection-{row.id}", max_age=0)


@bp.post("/objections/<int:objection_id>/assign")
@role_required("district")
def assign(objection_id: int):
    objection = _objection_seen(objection_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _objection_page(objection, assign_form=form, status=422)
    try:
        objections.assign(objection, form.reviewers.data or [], form.leader.data, current_user,
                          address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if not attach_field_errors(form, exc):
            flash(exc.message, "danger")
        return _objection_page(db.session.get(Objection, objection_id), assign_form=form, status=exc.status)
    flash(gettext("已分配复核组，答复期限：%(due)s", due=objection.due_on.isoformat()), "success")
    return redirect(url_for("notice.objection", objection_id=objection_id))


@bp.post("/objections/<int:objection_id>/decide")
@role_required("inspector")
def decide(objection_id: int):
    objection = _objection_seen(objection_id)
    form = DecideForm()
    form.agree.choices = choices([(r.user_id, r.user.display_name) for r in objection.reviewers])
    if not form.validate_on_submit():
        return _objection_page(objection, decide_form=form, status=422)
    agree = set(form.agree.data or [])
    votes = {r.user_id: r.user_id in agree for r in objection.reviewers}
    try:
        objections.decide(objection, form.decision.data or "", form.answer.data or "", votes, current_user,
                          new_value=form.new_value.data or "", address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if "votes" in exc.fields:
            form.agree.errors = list(form.agree.errors) + [exc.fields["votes"]]
        if not attach_field_errors(form, exc) and "votes" not in exc.fields:
            flash(exc.message, "danger")
        return _objection_page(db.session.get(Objection, objection_id), decide_form=form, status=exc.status)
    flash(gettext("复核决定已录入"), "success")
    return redirect(url_for("notice.objection", objection_id=objection_id))


@bp.get("/objections/<int:objection_id>/answer")
@role_required("district", "admin", "township", "village", "inspector")
def answer(objection_id: int):
    objection = _objection_seen(objection_id)
    if objection.status not in ("upheld", "changed"):
        abort(404)
    return render_template("notice/answer.html", o=objection, round=db.session.get(Round, objection.round_id),
                           today=notices.today())
