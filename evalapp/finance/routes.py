"""Finance: subsidy rules, the summary by township, and the eligibility sheet."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..auth.forms import EmptyForm
from ..domain.subsidy import fen_to_yuan
from ..domain.vocabulary import SubsidyMode, UnitLevel
from ..extensions import db
from ..models import Round
from ..sending import send_download
from ..services import downloads, overview, readmodel, subsidy
from ..services.errors import ServiceError
from . import bp

# Ids in URLs as the database's integer column holds them: a larger one is a 404, not a database error.


@bp.get("/")
@role_required("finance", "admin")
def index():
    from ..services.moves import today_local
    from ..services.todos import todos_for

    return render_template("finance/index.html", rounds=overview.rounds_overview(),
                           todos=todos_for(current_user, today_local()))


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _render(round_: Round, status: int = 200, errors: dict | None = None, typed: dict | None = None):
    from flask import current_app

    from ..pagination import paginate

    data = readmodel.round_model(round_, extras=True)
    size = current_app.config["RESULTS_PAGE_SIZE"]  # a province has 31,500 lines: the page shows 50 at a time
    return render_template("finance/round.html", data=data, form=EmptyForm(), modes=SubsidyMode,
                           page=paginate(data.lines, request.args.get("page"), size),
                           township_page=paginate(data.by_township, request.args.get("tpage"), size),
                           yuan=fen_to_yuan, describe=lambda rule: subsidy.describe_rule(rule, gettext),
                           describe_rectified=lambda rule: subsidy.describe_rectified(rule, gettext),
                           errors=errors or {}, typed=typed or {}, levels=subsidy.SUBSIDY_LEVELS,
                           live_rules=subsidy.load_rules(round_)), status


@bp.get("/rounds/<int:round_id>")
@role_required("finance", "admin")
def round_view(round_id: int):
    return _render(_round(round_id))


@bp.post("/rounds/<int:round_id>/rules/<level>")
@role_required("finance", "admin")
def save_rule(round_id: int, level: str):
    round_ = _round(round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    typed = {"level": level, "mode": request.form.get("mode", ""), "amount": request.form.get("amount", "")[:40],
             "bands": request.form.get("bands", "")[:4000], "reason": request.form.get("reason", "")[:2000],
             "rectified": request.form.get("rectified", "")[:10]}
    try:
        subsidy.save_rule(round_, level, typed["mode"], typed["amount"], typed["bands"], current_user,
                          reason=typed["reason"], address=request.remote_addr, rectified=typed["rectified"])
    except ServiceError as exc:
        flash(exc.message, "danger")
        errors = {level: exc.message}
        if "rectified" in (getattr(exc, "fields", None) or {}):  # beside its field
            errors[f"{level}.rectified"] = exc.fields["rectified"]
        return _render(round_, exc.status, errors, typed)
    flash(gettext("%(level)s奖补规则已保存", level=UnitLevel.label_of(level)), "success")
    return redirect(url_for("finance.round_view", round_id=round_id))


@bp.get("/rounds/<int:round_id>/eligibility.xlsx")
@role_required("finance", "admin", "district")
def download(round_id: int):
    data, name, _ = downloads.eligibility_workbook(_round(round_id), current_user,
                                                   draft=request.args.get("draft") == "1", address=request.remote_addr)
    return send_download(data, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         fallback="eligibility.xlsx")
