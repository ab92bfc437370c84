"""Self-assessment: the village's sheets, the township lead's own sheets and queue."""
from datetime import date

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..extensions import db
from ..models import OrgUnit
from ..services import overview
from . import bp


@bp.get("/")
@role_required("village")
def village_home():
    rows = overview.self_sheets_for_units([current_user.unit_id])
    return render_template("selfassess/village_home.html", rows=rows, today=date.today(),
                           days_left=overview.days_left)


@bp.get("/township")
@role_required("township")
def township_home():
    village_ids = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id == current_user.unit_id)))
    own = overview.self_sheets_for_units([current_user.unit_id])
    villages = overview.self_sheets_for_units(village_ids)
    return render_template("selfassess/township_home.html", own=own, villages=villages, today=date.today(),
                           days_left=overview.days_left)
