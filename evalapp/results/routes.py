"""Results and progress for the district."""
from flask import render_template

from ..access import role_required
from ..services import overview
from . import bp


@bp.get("/")
@role_required("district", "admin")
def index():
    from flask_login import current_user

    from ..services.sheets import today_local

    rounds = overview.rounds_overview()
    progress = [(s.round, overview.district_progress(s.round)) for s in rounds if s.round.status != "setup"]
    return render_template("results/index.html", rounds=rounds, queue=overview.awaiting_district_review(),
                           progress=progress, todos=overview.todos(current_user, today_local()))


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
    final = compare_service.final_for(sheet)
    if final is None:
        abort(404)
    return render_template("results/compare.html", cmp=compare_service.compare(sheet, final))
