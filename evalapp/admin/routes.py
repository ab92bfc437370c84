"""Administration home."""
from flask import render_template
from sqlalchemy import func, select

from ..access import role_required
from ..extensions import db
from ..models import CatalogueVersion, OrgUnit, User
from ..services import overview
from . import bp


@bp.get("/")
@role_required("admin")
def index():
    counts = {
        "units": db.session.scalar(select(func.count(OrgUnit.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "catalogues": db.session.scalar(select(func.count(CatalogueVersion.id))),
    }
    return render_template("admin/index.html", rounds=overview.rounds_overview(), counts=counts)
