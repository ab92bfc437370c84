"""Home (each role to its work), language switch, health check."""
from flask import current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from ..auth.routes import safe_next
from . import bp

HOME_BY_ROLE = {
    "admin": "admin.index",
    "district": "results.index",
    "inspector": "inspection.worklist",
    "township": "selfassess.township_home",
    "village": "selfassess.village_home",
    "finance": "finance.index",
}


@bp.get("/")
@login_required
def home():
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
