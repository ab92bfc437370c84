"""Home (each role to its work), language switch, health check."""
from flask import current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from ..auth.routes import safe_next
from ..domain.vocabulary import TEAM_LEADER
from . import bp

HOME_BY_ROLE = {
    "admin": "admin.index",
    "district": "results.index",
    "inspector": "inspection.worklist",
    "township": "selfassess.township_home",
    "village": "selfassess.village_home",
    "finance": "finance.index",
}


def _leads_team(user) -> bool:
    """Whether an inspector leads their team: read with the session's user (services.accounts), so the header costs
    no statement of its own; asked separately only for a user loaded another way."""
    leads = getattr(user, "leads_team", None)
    if leads is None:
        from ..services.overview import is_team_leader

        return is_team_leader(user)
    return leads


def role_title(user) -> str:
    """The role as the header shows it: a team leader is 工作组组长, not 工作组成员."""
    if user.role == "inspector" and _leads_team(user):
        return TEAM_LEADER
    return user.role_label


@bp.app_context_processor
def _role_title():
    return {"role_title": role_title}


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


def visible_evidence(user, evidence_id: int):
    """The photo if it is still shown and the user may see its sheet (access.can_view_sheet) — or it is behind the
    published result of the user's own unit (access.can_view_published_evidence) —, else None. The page's URL below
    and the API's (api.routes.evidence_file) ask the same."""
    from ..access import can_view_published_evidence, can_view_sheet
    from ..extensions import db
    from ..models import EvidenceFile

    ev = db.session.get(EvidenceFile, evidence_id)
    if ev is None or ev.deleted_at is not None or not (can_view_sheet(user, ev.sheet)
                                                       or can_view_published_evidence(user, ev)):
        return None
    return ev


def send_evidence(ev, variant: str):
    """The photo's file (the thumbnail for `thumb` when there is one), as stored: JPEG, never cached."""
    from ..sending import send_stored

    key = ev.thumb_key if variant == "thumb" and ev.thumb_key else ev.storage_key
    return send_stored(key, f"evidence-{ev.id}.jpg", "image/jpeg", as_attachment=False, max_age=0)


@bp.get("/evidence/<int:evidence_id>/original")
@login_required
def evidence_original(evidence_id: int):
    """A photo's original upload as received (EXIF and GPS included: personal information under PIPL), for the
    district and admin only, each opening audited (services.evidence.open_original); 404 once deleted after its
    retention period. An attachment, never cached."""
    from flask import abort

    from ..sending import send_download
    from ..services import evidence
    from ..services.errors import NotFound

    if current_user.role not in evidence.ORIGINAL_ROLES:
        abort(403)
    try:  # opened before the opening is audited: a withdrawn photo or a missing file is a 404 with no audit row
        ev, file = evidence.open_original(evidence_id, current_user, address=request.remote_addr)
    except NotFound:
        abort(404)
    try:
        suffix = ev.original_key.rpartition(".")[2]
        mimetype = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(suffix,
                                                                                      "application/octet-stream")
        response = send_download(file, f"original-{ev.id}.{suffix}", mimetype, fallback=f"original-{ev.id}.{suffix}",
                                 max_age=0)
    except BaseException:
        file.close()
        raise
    if file.size is not None and response.status_code == 200:
        response.content_length = file.size
    return response


@bp.get("/evidence/<int:evidence_id>/<any(full, thumb):variant>")
@login_required
def evidence_file(evidence_id: int, variant: str):
    """An evidence photo for the pages (a session's; without one, the log-in page). Programs holding a token use
    the API's twin, /api/v1/evidence/<id>/<variant>."""
    from flask import abort

    ev = visible_evidence(current_user, evidence_id)
    if ev is None:
        abort(404)
    return send_evidence(ev, variant)
