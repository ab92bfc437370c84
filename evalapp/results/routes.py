"""Results and progress for the district."""
from flask import current_app, render_template, request

from ..access import role_required
from ..domain.aggregation import ranking_key
from ..domain.vocabulary import N_, ResultFilter
from ..services import overview
from ..services.results import report_order
from ..services.todos import todos_for
from . import bp

# Ids in URLs as the database's integer column holds them: a larger one is a 404, not a database error.


@bp.get("/")
@role_required("district", "admin")
def index():
    from flask_login import current_user

    from ..pagination import paginate
    from ..services.moves import today_local

    from ..services.bulk_review import with_checks

    rounds = overview.rounds_overview()
    size = current_app.config["RESULTS_PAGE_SIZE"]  # a province has 1,900 townships
    progress = [(s.round, paginate(overview.district_progress(s.round), request.args.get(f"pp{s.round.id}"), size))
                for s in rounds if s.round.status != "setup"]
    queue = overview.awaiting_district_review(request.args.get("qpage"), current_app.config["WORKLIST_PAGE_SIZE"])
    with_checks(queue.items)  # each final sheet's flags: the clean ones are approved together (bulk_review)
    return render_template("results/index.html", rounds=rounds, progress=progress, queue=queue,
                           todos=todos_for(current_user, today_local()))


@bp.get("/sheets/<int:sheet_id>/compare")
@role_required("district", "admin", "finance", "inspector", "township", "village")
def compare(sheet_id: int):
    from flask import abort
    from flask_login import current_user

    from .. import access
    from ..extensions import db
    from ..models import Sheet
    from ..services import compare as compare_service

    sheet = db.session.get(Sheet, sheet_id)
    if sheet is None or sheet.kind != "self" or not access.can_compare(current_user, sheet):
        abort(404)
    if current_user.role in ("township", "village"):  # its own people: the published figures, on the unit's page
        from .units import compare_for_unit

        return compare_for_unit(sheet)
    final = compare_service.final_for(sheet)
    if final is None:
        abort(404)
    return render_template("results/compare.html", cmp=compare_service.compare(sheet, final))


RESULT_FILTERS = ResultFilter
SORT_LABELS = {"code": N_("按单位"), "total": N_("按得分"), "rank": N_("按名次"), "missing": N_("按差距")}
SORTS = {
    "code": lambda r: report_order(r.unit),
    "total": lambda r: (r.unit.final_total is None, -(r.unit.final_total or 0)),
    "rank": lambda r: ranking_key(r.unit.level, r.unit.place),  # a vetoed unit after the others of its level
    "missing": lambda r: (r.missing is None, -(r.missing or 0)),
}


TOWNSHIP_CHOICES = 50  # up to this many townships the filter is a list; beyond, a typed name or code


def township_codes(report, typed: str) -> set[str]:
    """The townships a filter names: a code, a township's exact name, or else every name containing the text."""
    if not typed:
        return set()
    named = [t.township.unit for t in report.townships if t.township]
    exact = {u.code for u in named if u.name == typed}
    return {typed} | (exact or {u.code for u in named if typed in u.name})


def _round_or_404(round_id: int):
    from ..extensions import db
    from ..models import Round

    return db.get_or_404(Round, round_id)


@bp.get("/rounds/<int:round_id>")
@role_required("district", "admin", "finance")
def round_results(round_id: int):
    from flask import current_app, request
    from flask_login import current_user

    from ..auth.forms import EmptyForm
    from ..pagination import paginate
    from ..services import publication, readmodel, subsidy

    round_ = _round_or_404(round_id)
    view = readmodel.round_model(round_, draft=request.args.get("view") == "draft")
    report = view.report
    township, level, result = (request.args.get(k, "")[:50].strip() for k in ("township", "level", "result"))
    sort = request.args.get("sort", "code")
    codes = township_codes(report, township)
    rows = report.rows
    if township or level or result:
        rows = [r for r in rows
                if (not township or r.unit.township_code in codes) and (not level or r.unit.level == level)
                and (not result or r.unit.result.value == result)]
    if sort in SORTS and sort != "code":  # the report is in unit order already
        rows = sorted(rows, key=SORTS[sort])
    townships = [t for t in report.townships if not township or (t.township and t.township.unit.code in codes)]
    size = current_app.config["RESULTS_PAGE_SIZE"]
    # The admin's rows offer an unlock only where one is possible: an unlocked final sheet shows 已解锁 instead.
    unlocked = (publication.unlocked_finals(round_.id)
                if current_user.role == "admin" and round_.status == "published" else set())
    from ..services import devices, doc_numbers, notices

    from ..services.moves import today_local

    next_number = (doc_numbers.peek(doc_numbers.NOTICE, today_local().year).text if current_user.role == "district"
                   else None)  # the publish form's 文号, taken when the version is written unless one is typed
    device_pending = devices.pending_in_round(round_.id) if round_.status in ("inspection", "review") else []
    return render_template("results/round.html", notice=notices.notice_of(round_.id), next_number=next_number, unlocked=unlocked, report=report, view=view, page=paginate(rows, request.args.get("page"), size),
                           device_pending=device_pending,
                           township_page=paginate(townships, request.args.get("tpage"), size // 2),
                           form=EmptyForm(), township_choices=TOWNSHIP_CHOICES,
                           no_rules=subsidy.missing_levels(round_) if round_.status != "published" else [],
                           filters={"township": township, "level": level, "result": result, "sort": sort},
                           result_filters=RESULT_FILTERS.labels(), sorts=SORT_LABELS)


def _refused(exc, round_id: int, sheet=None):
    """A refused publish or unlock: nothing of it kept; a client that asks for JSON gets the error and its status.
    A browser whose unlock reason was refused (422) gets the unlock form on a page of its own, the message beside
    the reason and what was typed kept in it; any other refusal redirects to the round's page (so that every link on
    it is the page's own) with the reason flashed."""
    from flask import flash, redirect, url_for

    from ..api import error
    from ..extensions import db

    db.session.rollback()  # what the refused move had pending (the flag, closed drafts) is not shown
    if request.accept_mimetypes.best == "application/json":
        return error(exc.message, exc.status, exc.fields, code=exc.code)
    if sheet is not None and exc.status == 422:
        from ..auth.forms import EmptyForm

        return render_template("results/unlock.html", sheet=sheet, form=EmptyForm(),
                               reason=request.form.get("reason", ""),
                               message=(exc.fields or {}).get("reason") or exc.message), 422
    flash(exc.message, "danger")
    return redirect(url_for("results.round_results", round_id=round_id), 303)


@bp.post("/rounds/<int:round_id>/publish")
@role_required("district")
def publish(round_id: int):
    from flask import abort, flash, redirect, request, url_for
    from flask_login import current_user

    from flask_babel import gettext

    from ..auth.forms import EmptyForm
    from ..services.errors import ServiceError
    from ..services.publication import publish as publish_round

    round_ = _round_or_404(round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        made = publish_round(round_, current_user, confirm_incomplete=request.form.get("confirm_incomplete") == "1",
                             confirm_no_subsidy=request.form.get("confirm_no_subsidy") == "1",
                             doc_number=request.form.get("doc_number", "")[:100], address=request.remote_addr)
    except ServiceError as exc:  # refused (409 when another publication came first): the round's page, saying why
        return _refused(exc, round_id)
    flash(gettext("%(name)s的评估结果已公布为第%(version)s版，所有评分表已锁定", name=round_.name,
                  version=made.version), "success")
    return redirect(url_for("results.round_results", round_id=round_id))


@bp.post("/sheets/<int:sheet_id>/unlock")
@role_required("admin")
def unlock(sheet_id: int):
    from flask import abort, flash, redirect, request, url_for
    from flask_login import current_user

    from flask_babel import gettext

    from ..auth.forms import EmptyForm
    from ..extensions import db
    from ..models import Sheet
    from ..services.errors import ServiceError
    from ..services.publication import unlock as unlock_sheet

    sheet = db.get_or_404(Sheet, sheet_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        unlock_sheet(sheet, current_user, request.form.get("reason", ""), address=request.remote_addr)
    except ServiceError as exc:  # refused (a sheet that is not a final sheet: 409): the round's page, saying why
        return _refused(exc, sheet.round_id, sheet)
    else:
        flash(gettext("%(unit)s的评分表已解锁，退回工作组修改后须重新审核与公布", unit=sheet.unit.name), "warning")
    return redirect(url_for("results.round_results", round_id=sheet.round_id))


@bp.get("/rounds/<int:round_id>/dashboard")
@role_required("district", "admin", "finance")
def dashboard(round_id: int):
    from ..services import readmodel
    from ..services.dashboard import dashboard_data
    from ..services.moves import today_local
    from ..services.rectification import progress_by_township

    round_ = _round_or_404(round_id)
    view = readmodel.round_model(round_, draft=request.args.get("view") == "draft")
    return render_template("results/dashboard.html", round=round_, view=view,
                           data=dashboard_data(round_, view.report, view.publication),
                           progress=progress_by_township(round_id, today_local()))  # 整改 (issue 32, point 9)


@bp.get("/rounds/<int:round_id>/notice")
@role_required("district", "admin")
def notice(round_id: int):
    from ..services import readmodel

    round_ = _round_or_404(round_id)
    view = readmodel.round_model(round_, draft=request.args.get("view") == "draft", failing=True)
    units = view.failing
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return render_template("results/notice.html", round=round_, view=view, units=units,
                           today=datetime.now(ZoneInfo("Asia/Shanghai")).date())  # a 草稿's date line


@bp.get("/sheets/<int:sheet_id>/print")
@role_required("district", "admin", "finance", "inspector")
def print_sheet(sheet_id: int):
    from flask import abort
    from flask_login import current_user

    from .. import access
    from ..extensions import db
    from ..models import Sheet
    from ..services.paper import paper_for
    from ..services.readmodel import standing_of

    sheet = db.session.get(Sheet, sheet_id)
    if sheet is None or sheet.kind != "final" or not access.can_view_sheet(current_user, sheet):
        abort(404)
    sees_results = current_user.role in ("district", "admin", "finance")  # the ranking is for those who see results
    paper = paper_for(sheet, draft=request.args.get("view") == "draft",
                      standing=(lambda: standing_of(sheet)) if sees_results else None)
    return render_template("results/print_sheet.html", paper=paper, show_standing=sees_results)


@bp.get("/signatures/<int:signature_id>.png")
@role_required("district", "admin", "finance", "inspector")
def signature_image(signature_id: int):
    """A signature's image (drawn by the server from its strokes), for those who may see its sheet; 404 otherwise."""
    from flask import abort, make_response
    from flask_login import current_user

    from ..services import signatures
    from ..services.errors import NotFound

    try:
        sig = signatures.image_of(signature_id, current_user)
    except NotFound:
        abort(404)
    response = make_response(sig.image)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "private, max-age=86400"  # a signature's image never changes
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/rounds/<int:round_id>/workbook.xlsx")
@role_required("district", "admin")
def workbook(round_id: int):
    from flask_login import current_user

    from ..sending import send_download
    from ..services.downloads import results_workbook

    round_ = _round_or_404(round_id)
    data, name = results_workbook(round_, current_user, draft=request.args.get("view") == "draft",
                                  address=request.remote_addr)
    return send_download(data, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         fallback="results.xlsx")


@bp.get("/rounds/<int:round_id>/changes")
@role_required("district", "admin", "finance")
def changes(round_id: int):
    """What changed since a published version: to today's data while sheets are unlocked (pending), else to the
    next version; per unit the total, result and amount before and after, the unlocks behind it, and the money to
    add (追加) or recover (收回); then the 解锁设置 opened and the set-up changes made under it."""
    from ..services import readmodel

    round_ = _round_or_404(round_id)
    versions = readmodel.versions(round_.id)
    since = request.args.get("since", type=int)
    pending = round_.status == "published" and round_.changed_since_publication and bool(versions)
    if since is None:
        since = versions[-1].version if pending else (versions[-1].version - 1 if versions else 0)
    old = next((v for v in versions if v.version == since), None)
    new = next((v for v in versions if v.version == since + 1), None)
    compared = old is not None and (new is not None or pending)
    found = readmodel.changes(old, round_, new) if compared else []
    from ..services import setup_unlock

    setup = setup_unlock.changes(round_.id, old, new) if compared else None
    return render_template("results/changes.html", round=round_, versions=versions, old=old, new=new,
                           changes=found, setup=setup, added=sum(c.delta_fen for c in found if c.delta_fen > 0),
                           recovered=-sum(c.delta_fen for c in found if c.delta_fen < 0))
