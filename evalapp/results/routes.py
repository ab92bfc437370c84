"""Results and progress for the district."""
from flask import render_template

from ..access import role_required
from ..services import overview
from . import bp


@bp.get("/")
@role_required("district", "admin")
def index():
    return render_template("results/index.html", rounds=overview.rounds_overview(),
                           queue=overview.awaiting_district_review())
