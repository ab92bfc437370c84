"""Finance: rounds and (once published) the subsidy eligibility sheet."""
from flask import render_template

from ..access import role_required
from ..services import overview
from . import bp


@bp.get("/")
@role_required("finance", "admin")
def index():
    return render_template("finance/index.html", rounds=overview.rounds_overview())
