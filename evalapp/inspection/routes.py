"""Inspection teams: the worklist."""
from flask import render_template
from flask_login import current_user

from ..access import role_required
from ..services import overview
from . import bp


@bp.get("/")
@role_required("inspector")
def worklist():
    return render_template("inspection/worklist.html", work=overview.inspector_worklist(current_user))
