"""Administration of rounds (settings, scope, phases) and their inspection teams."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import role_required
from ..auth.forms import EmptyForm
from ..domain.vocabulary import Rollout, SheetStatus
from ..extensions import db
from ..ids import parse_id, parse_ids
from ..models import CatalogueVersion, OrgUnit, Round, RoundUnit, Team, TeamMember
from ..services import rounds as round_service, setup_unlock, teams as team_service
from ..services.errors import ServiceError
from ..services.rounds import NeedsConfirmation
from . import bp

SETTINGS = ("year", "threshold", "tolerance", "self_due", "township_due", "inspection_start", "inspection_end")


def _post_ok():
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.get("/rounds")
@role_required("admin")
def rounds(status=200, typed=None, errors=None):
    catalogues = db.session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.code,
                                                                      CatalogueVersion.version)).all()
    return render_template("admin/rounds.html", rounds=db.session.scalars(select(Round).order_by(Round.id.desc())).all(),
                           catalogues=catalogues, form=EmptyForm(), typed=typed or {},
                           rollouts=Rollout.labels(), errors=errors or {}), status


@bp.post("/rounds")
@role_required("admin")
def create_round():
    _post_ok()
    typed = {k: request.form.get(k, "")[:200] for k in ("name", "township_catalogue_id", "village_catalogue_id",
                                                         "rollout") + SETTINGS}
    try:
        round_ = round_service.create_round(typed, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return rounds(exc.status, typed, exc.fields)
    flash(gettext("已创建批次：%(name)s", name=round_.name), "success")
    return redirect(url_for("admin.round_detail", round_id=round_.id))


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)  # (ids past the columns' range are 404 at the route: evalapp.IdConverter)


def _detail(round_: Round, status=200, typed=None, confirm=None, errors=None):
    townships = db.session.scalars(select(OrgUnit).where(OrgUnit.level == "township").order_by(OrgUnit.code)
                                   .options(selectinload(OrgUnit.children))).all()
    scope = {ru.unit_id: ru for ru in db.session.scalars(select(RoundUnit).where(RoundUnit.round_id == round_.id)
                                                         .options(selectinload(RoundUnit.unit)))}
    teams = db.session.scalars(select(Team).where(Team.round_id == round_.id).order_by(Team.id).options(
        selectinload(Team.members).selectinload(TeamMember.user), selectinload(Team.leader))).all()
    return render_template(
        "admin/round.html", round=round_, townships=townships, scope=scope, teams=teams, form=EmptyForm(),
        warnings=round_service.pilot_warnings(round_), problems=round_service.inspection_problems(round_),
        unassigned=[ru.unit for ru in scope.values() if ru.team_id is None], typed=typed or {},
        frozen=round_service.setup_frozen(round_), scope_open=round_service.scope_open(round_),
        open_member_sheets=(round_service.count_open_member_sheets(round_.id) if round_.status == "inspection"
                            else 0),
        confirm=confirm, status_labels=SheetStatus.labels(), errors=errors or {},
        setup_unlock=setup_unlock.current(round_.id), setup_unlocks=setup_unlock.history(round_.id),
        eligible=team_service.eligible_members(round_),
        leader_candidates={t.id: team_service.leader_candidates(t) for t in teams}), status


@bp.get("/rounds/<int:round_id>")
@role_required("admin")
def round_detail(round_id: int):
    return _detail(_round(round_id))


def _confirmation():
    """What the user confirmed on a confirmation page: False, the ids of the sheets it listed, or True (confirm=1
    alone)."""
    if request.form.get("confirm") != "1":
        return False
    listed = request.form.getlist("sheet")
    return parse_ids(listed) if listed else True


def _act(round_: Round, action, done: str, confirm_label: str = ""):
    _post_ok()
    try:
        action()
    except NeedsConfirmation as exc:  # the same POST again, with confirm=1 and the sheets listed
        return _detail(round_, exc.status, confirm={"message": exc.prompt, "sheets": exc.sheets,
                                                    "url": request.path, "label": confirm_label})
    except ServiceError as exc:
        flash(exc.message, "danger")
        typed = {k: request.form.get(k, "")[:200] for k in SETTINGS}
        typed["reason"] = request.form.get("reason", "")[:setup_unlock.REASON_MAX + 100]
        return _detail(round_, exc.status, typed, errors=exc.fields)
    flash(done, "success")
    return redirect(url_for("admin.round_detail", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/settings")
@role_required("admin")
def round_settings(round_id: int):
    round_ = _round(round_id)
    return _act(round_, lambda: round_service.update_settings(round_, request.form, current_user,
                                                              address=request.remote_addr), gettext("设置已保存"))


@bp.post("/rounds/<int:round_id>/scope")
@role_required("admin")
def round_scope(round_id: int):
    round_ = _round(round_id)
    ids = parse_ids(request.form.getlist("unit"))
    return _act(round_, lambda: round_service.set_scope(round_, ids, current_user, address=request.remote_addr),
                gettext("参评单位已保存"))


@bp.post("/rounds/<int:round_id>/advance")
@role_required("admin")
def round_advance(round_id: int):
    round_ = _round(round_id)
    return _act(round_, lambda: round_service.advance(round_, current_user, confirm=_confirmation(),
                                                        address=request.remote_addr),
                gettext("批次已进入下一阶段"), gettext("确认关闭并进入审核阶段"))


@bp.post("/rounds/<int:round_id>/teams")
@role_required("admin")
def create_team(round_id: int):
    round_ = _round(round_id)
    return _act(round_, lambda: team_service.create_team(round_, request.form.get("name", ""),
                                                         request.form.get("leader", ""), current_user,
                                                         address=request.remote_addr), gettext("工作组已创建"))


def _team(round_: Round, team_id: int) -> Team:
    team = db.get_or_404(Team, team_id)
    if team.round_id != round_.id:
        abort(404)
    return team


@bp.post("/rounds/<int:round_id>/teams/<int:team_id>/members")
@role_required("admin")
def add_member(round_id: int, team_id: int):
    round_ = _round(round_id)
    team = _team(round_, team_id)
    return _act(round_, lambda: team_service.add_member(team, request.form.get("username", ""), current_user,
                                                        address=request.remote_addr),
                gettext("成员已加入"))


@bp.post("/rounds/<int:round_id>/teams/<int:team_id>/members/<int:user_id>/remove")
@role_required("admin")
def remove_member(round_id: int, team_id: int, user_id: int):
    round_ = _round(round_id)
    team = _team(round_, team_id)
    return _act(round_, lambda: team_service.remove_member(team, user_id, current_user, confirm=_confirmation(),
                                                           address=request.remote_addr),
                gettext("成员已移出"), gettext("确认关闭并移出"))


@bp.post("/rounds/<int:round_id>/teams/<int:team_id>/leader")
@role_required("admin")
def set_leader(round_id: int, team_id: int):
    round_ = _round(round_id)
    team = _team(round_, team_id)
    return _act(round_, lambda: team_service.set_leader(team, request.form.get("username", ""), current_user,
                                                        address=request.remote_addr),
                gettext("组长已更换"))


@bp.post("/rounds/<int:round_id>/teams/<int:team_id>/leader-scores")
@role_required("admin")
def set_leader_scores(round_id: int, team_id: int):
    round_ = _round(round_id)
    team = _team(round_, team_id)
    scores = request.form.get("leader_scores") != "0"
    return _act(round_, lambda: team_service.set_leader_scores(team, scores, current_user,
                                                               address=request.remote_addr),
                gettext("已设置组长是否评分"))


@bp.post("/rounds/<int:round_id>/setup-unlock")
@role_required("admin")
def setup_unlock_open(round_id: int):
    """解锁设置: a published round's set-up and teams opened for changes, with a reason, until the next publication."""
    round_ = _round(round_id)
    return _act(round_, lambda: setup_unlock.open_unlock(round_, request.form.get("reason", ""), current_user,
                                                         address=request.remote_addr),
                gettext("已解锁设置：更改将在下次公布时计入新版本"))


@bp.post("/rounds/<int:round_id>/assign")
@role_required("admin")
def assign(round_id: int):
    round_ = _round(round_id)
    assignments = {}
    for key, value in request.form.items():
        if key.startswith("unit_") and parse_id(key[5:]) is not None:
            assignments[parse_id(key[5:])] = parse_id(value)
    return _act(round_, lambda: team_service.assign(round_, assignments, current_user, address=request.remote_addr),
                gettext("分配已保存"))
