"""The evaluated units' own results (issue 32, point 1): a township or village lead sees, after publication, its own
unit's result as the last version holds it — and a township its villages' — with the 问题清单 to print; the district,
admin and finance see any unit's. Another unit's page is a 404 (services.unit_results; access.can_view_unit_results).
"""
from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from .. import access
from ..extensions import db
from ..models import OrgUnit, Round
from ..services import unit_results
from . import bp


def page_or_404(round_id: int, unit_id: int) -> unit_results.UnitPage:
    """The unit's page in the round for the caller: 404 for a round or unit that does not exist, a unit outside the
    caller's scope, or one the round does not hold."""
    round_ = db.session.get(Round, round_id)
    unit = db.session.get(OrgUnit, unit_id)
    if round_ is None or unit is None or not access.can_view_unit_results(current_user, unit):
        abort(404)
    page = unit_results.unit_page(round_, unit)
    if page is None:
        abort(404)
    return page


@bp.get("/units")
@access.role_required("township", "village")
def my_units():
    """The rounds of the lead's unit(s), each with its published version (or 尚未公布) and the units' pages."""
    return render_template("results/unit_rounds.html", lines=unit_results.rounds_of(current_user))


@bp.get("/rounds/<int:round_id>/units/<int:unit_id>")
@access.role_required(*access.UNIT_RESULT_ROLES)
def unit_results_page(round_id: int, unit_id: int):
    page = page_or_404(round_id, unit_id)
    return render_template("results/unit.html", page=page)


@bp.get("/rounds/<int:round_id>/units/<int:unit_id>/print")
@access.role_required(*access.UNIT_RESULT_ROLES)
def unit_problems_print(round_id: int, unit_id: int):
    """The 问题清单 on A4: an official paper, Chinese whatever the reader's language."""
    page = page_or_404(round_id, unit_id)
    return render_template("results/unit_print.html", page=page)


def compare_for_unit(self_sheet):
    """results.compare for a unit's own lead: its page, where the self-assessment stands beside the published final
    scores (the live compare page is the district's and the teams')."""
    return redirect(url_for("results.unit_results_page", round_id=self_sheet.round_id, unit_id=self_sheet.unit_id,
                            _anchor="compare"))
