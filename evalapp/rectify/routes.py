"""整改 and 复查 pages (issue 32, point 5): thin views over services.rectification. A record the user may not see
is a 404; a step that is not theirs a 403; bad input the page again with the message beside the field (422), what
was typed kept; a step that no longer fits the record's state a 409 with why."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..bodylimits import body_limit
from ..domain import rectification as rules
from ..extensions import db
from ..models import Publication, Recheck, RectificationExtension, RectifyFile, Round, Team
from ..sending import send_stored
from ..services import interviews as interview_service, moves, rectification as service
from ..services.errors import NotFound, ServiceError
from . import bp
from .forms import AssignForm, DecideForm, ExtensionForm, IssueForm, ReasonForm, ReportForm, choices, parse_date

EVERYONE = ("admin", "district", "finance", "inspector", "township", "village")


def _today():
    """The district's day (deadlines are local dates): services.moves' clock, read through its module so that a
    test injecting that one clock reaches every rectify page (and the 约谈 pages, which call this one)."""
    return moves.today_local()


def _visible(rect_id: int):
    try:
        return service.get_visible(current_user, rect_id)
    except NotFound:
        abort(404)


def _apply(form, exc: ServiceError) -> None:
    """A service's per-field messages beside the form's fields (the others as one message at the top)."""
    placed = False
    for name, message in exc.fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            placed = True
    if not placed:
        flash(exc.message, "danger")


def valid(form) -> bool:
    """The form's own checks passed; a missing or stale CSRF token is a 400 (nothing shown again)."""
    if form.validate_on_submit():
        return True
    if "csrf_token" in form.errors or request.method != "POST":
        abort(400)
    return False


def _upload(name: str) -> tuple[bytes, str]:
    from ..services.documents import MAX_DOCUMENT_BYTES

    upload = request.files.get(name)
    if upload is None:
        return b"", ""
    return upload.read(MAX_DOCUMENT_BYTES + 1), upload.filename or ""


@bp.get("/")
@role_required(*EVERYONE)
def index():
    rounds = []
    if service.is_district(current_user) or current_user.role == "finance":
        rounds = db.session.scalars(db.select(Round).where(Round.status == "published").order_by(Round.id.desc())).all()
    return render_template("rectify/index.html", rects=service.visible(current_user), rounds=rounds,
                           interviews=interview_service.visible(current_user), today=_today(),
                           statuses=rules.RectificationStatus)


def _round_page(round_id: int, forms: dict | None = None, status: int = 200):
    round_ = db.get_or_404(Round, round_id)
    pub, candidates = service.candidates(round_id)
    today = _today()
    report_due, complete_due = rules.default_deadlines(today)
    forms = forms or {}
    issue_forms = {}
    for c in candidates:
        form = forms.get(c.unit.unit_id) or IssueForm(formdata=None, unit_id=c.unit.unit_id,
                                                      report_due=report_due.isoformat(),
                                                      complete_due=complete_due.isoformat())
        issue_forms[c.unit.unit_id] = form
    return render_template("rectify/round.html", round=round_, pub=pub, candidates=candidates,
                           issue_forms=issue_forms, progress=service.progress_by_township(round_id, today),
                           today=today, statuses=rules.RectificationStatus), status


@bp.get("/rounds/<int:round_id>")
@role_required("district", "admin", "finance")
def round_view(round_id: int):
    return _round_page(round_id)


@bp.post("/rounds/<int:round_id>/issue")
@role_required("district", "admin")
def issue(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = IssueForm()
    valid(form)
    try:
        unit_id = int(form.unit_id.data)
    except (TypeError, ValueError):
        abort(404)
    report_due, bad_report = parse_date(form.report_due.data)
    complete_due, bad_complete = parse_date(form.complete_due.data)
    if bad_report or bad_complete:
        for field, bad in ((form.report_due, bad_report), (form.complete_due, bad_complete)):
            if bad:
                field.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        return _round_page(round_id, {unit_id: form}, 422)
    try:
        rect = service.issue(round_, unit_id, current_user, today=_today(), report_due=report_due,
                             complete_due=complete_due, address=request.remote_addr)
    except ServiceError as exc:
        if exc.status == 422:
            _apply(form, exc)
            return _round_page(round_id, {unit_id: form}, 422)
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("rectify.round_view", round_id=round_id), 303)
    flash(gettext("已下发整改通知：%(unit)s", unit=rect.unit_name), "success")
    return redirect(url_for("rectify.detail", rect_id=rect.id))


def _detail(rect, status: int = 200, **forms):
    today = _today()
    pub_unit = service.published_unit(rect)
    teams = service.round_teams(rect.round_id)
    assign = forms.get("assign") or AssignForm(formdata=None)
    assign.team.choices = choices([("", gettext("请选择"))] + [(str(t.id), t.name) for t in teams])
    open_recheck = next((r for r in rect.rechecks if r.outcome is None), None)
    team_names = {t.id: t.name for t in teams}
    return render_template(
        "rectify/detail.html", rect=rect, lost=service.lost_lines(rect), pub_unit=pub_unit, today=today,
        is_lead=service.is_unit_lead(current_user, rect.unit_id), is_district=service.is_district(current_user),
        extension=forms.get("extension") or ExtensionForm(formdata=None),
        decide=forms.get("decide") or DecideForm(formdata=None), decide_for=forms.get("decide_for"),
        report=forms.get("report") or ReportForm(formdata=None), assign=assign,
        second=forms.get("second") or ReasonForm(formdata=None), open_recheck=open_recheck, team_names=team_names,
        statuses=rules.RectificationStatus, scopes=rules.RecheckScope, outcomes=rules.RecheckOutcome,
        deadlines=rules.ExtensionDeadline,
        may_record=open_recheck is not None and service.may_record(current_user, open_recheck)), status


@bp.get("/<int:rect_id>")
@role_required(*EVERYONE)
def detail(rect_id: int):
    return _detail(_visible(rect_id))


@bp.get("/<int:rect_id>/notice")
@role_required(*EVERYONE)
def notice(rect_id: int):
    """The printable 整改通知 (A4, Chinese whatever the reader's language: an official paper)."""
    rect = _visible(rect_id)
    return render_template("rectify/notice.html", rect=rect, lost=service.lost_lines(rect),
                           pub_unit=service.published_unit(rect), pub=db.session.get(Publication, rect.publication_id))


def _act(rect, form_name: str, form, action, done: str):
    """Run a step: a refusal of the input shows the page again with the messages beside the fields (422); a
    refusal of the step, its reason at the top (403/409)."""
    try:
        action()
    except ServiceError as exc:
        if exc.status == 422:
            _apply(form, exc)
        else:
            flash(exc.message, "danger")
        db.session.rollback()
        db.session.refresh(rect)
        return _detail(rect, exc.status, **{form_name: form})
    flash(done, "success")
    return redirect(url_for("rectify.detail", rect_id=rect.id), 303)


@bp.post("/<int:rect_id>/extension")
@role_required("township", "village")
def ask_extension(rect_id: int):
    rect = _visible(rect_id)
    if not service.is_unit_lead(current_user, rect.unit_id):
        abort(403)
    form = ExtensionForm()
    if not valid(form):
        form.deadline.errors = [gettext("请选择要延长的期限")]
        return _detail(rect, 422, extension=form)
    asked, bad = parse_date(form.new_date.data)
    if bad:
        form.new_date.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        return _detail(rect, 422, extension=form)
    return _act(rect, "extension", form, lambda: service.ask_extension(
        rect, form.deadline.data, asked, form.reason.data, current_user, address=request.remote_addr),
        gettext("延期申请已提交，等待区级答复"))


@bp.post("/extensions/<int:ext_id>/decide")
@role_required("district", "admin")
def decide_extension(ext_id: int):
    ext = db.get_or_404(RectificationExtension, ext_id)
    rect = _visible(ext.rectification_id)
    form = DecideForm()
    if not valid(form):
        form.decision.errors = [gettext("请选择同意或不同意")]
        return _detail(rect, 422, decide=form, decide_for=ext.id)
    granted, bad = parse_date(form.granted_date.data)
    if bad:
        form.granted_date.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        return _detail(rect, 422, decide=form, decide_for=ext.id)
    grant = form.decision.data == "grant"
    result = _act(rect, "decide", form, lambda: service.decide_extension(
        ext, grant, granted, form.answer.data, current_user, address=request.remote_addr),
        gettext("已同意延期") if grant else gettext("已答复：不同意延期"))
    return result


@bp.post("/<int:rect_id>/report")
@body_limit("document")
@role_required("township", "village")
def report(rect_id: int):
    rect = _visible(rect_id)
    if not service.is_unit_lead(current_user, rect.unit_id):
        abort(403)
    form = ReportForm()
    valid(form)
    data, name = _upload("report_file")
    return _act(rect, "report", form, lambda: service.submit_report(
        rect, form.text.data, data, name, current_user, address=request.remote_addr),
        gettext("整改报告已报送"))


@bp.post("/<int:rect_id>/recheck")
@role_required("district", "admin")
def assign_recheck(rect_id: int):
    rect = _visible(rect_id)
    form = AssignForm()
    form.team.choices = choices([("", "")] + [(str(t.id), t.name) for t in service.round_teams(rect.round_id)])
    if not valid(form):
        form.team.errors, form.scope.errors = [], []  # the service says which (beside the field)
    due, bad = parse_date(form.due.data)
    if bad:
        form.due.errors = [gettext("日期格式应为年-月-日，例如2031-03-01")]
        return _detail(rect, 422, assign=form)
    team_id = int(form.team.data) if (form.team.data or "").isdigit() else None
    return _act(rect, "assign", form, lambda: service.assign_recheck(
        rect, team_id, form.scope.data or "", current_user, due=due, address=request.remote_addr),
        gettext("已安排复查"))


@bp.post("/<int:rect_id>/second-chance")
@role_required("district", "admin")
def second_chance(rect_id: int):
    rect = _visible(rect_id)
    form = ReasonForm()
    valid(form)
    return _act(rect, "second", form, lambda: service.open_second_chance(
        rect, form.reason.data, current_user, address=request.remote_addr), gettext("已开放再次复查"))


def _recheck_page(recheck, status: int = 200, typed=None, errors=None):
    rect = recheck.rectification
    lines = service.recheck_lines(rect, recheck.scope)
    return render_template("rectify/recheck.html", recheck=recheck, rect=rect, lines=lines,
                           titles=service.titles(rect), pub_unit=service.published_unit(rect),
                           team=db.session.get(Team, recheck.team_id), typed=typed or {}, errors=errors or {},
                           may_record=service.may_record(current_user, recheck), outcomes=rules.RecheckOutcome,
                           scopes=rules.RecheckScope, form=ReasonForm(formdata=None)), status


@bp.route("/rechecks/<int:recheck_id>", methods=["GET", "POST"])
@role_required(*EVERYONE)
def recheck(recheck_id: int):
    """The 复查 sheet: the indicators in its scope with their published scores; the assigned team's leader enters
    what the re-inspection found."""
    found = db.get_or_404(Recheck, recheck_id)
    _visible(found.rectification_id)
    if request.method == "GET":
        return _recheck_page(found)
    valid(ReasonForm())
    entered = {k[7:]: v for k, v in request.form.items() if k.startswith("points_")}
    notes = {k[5:]: v for k, v in request.form.items() if k.startswith("note_")}
    try:
        service.record_recheck(found, entered, notes, request.form.get("veto_resolved") == "1",
                               request.form.get("note", ""), current_user, address=request.remote_addr)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status != 422:
            flash(exc.message, "danger")
        return _recheck_page(db.session.get(Recheck, recheck_id), exc.status, dict(request.form), exc.fields)
    flash(gettext("复查结果已记录"), "success")
    return redirect(url_for("rectify.detail", rect_id=found.rectification_id), 303)


@bp.get("/files/<int:file_id>")
@role_required(*EVERYONE)
def file(file_id: int):
    """A 整改报告 or a 约谈 file, for those who may see its record."""
    found = db.get_or_404(RectifyFile, file_id)
    if found.rectification_id is not None:
        _visible(found.rectification_id)
    else:
        try:
            interview_service.get_visible(current_user, found.interview_id)
        except NotFound:
            abort(404)
    return send_stored(found.storage_key, found.original_name, found.content_type,
                       fallback=f"file-{found.id}", max_age=0)
