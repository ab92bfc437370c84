"""Administration of users."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..auth.forms import EmptyForm
from ..bodylimits import body_limit
from ..domain.user_rows import UNIT_LEVEL
from ..domain.vocabulary import Role
from ..extensions import db
from ..models import User
from ..sending import send_download
from ..services import accounts, imports, setup_codes, user_import, users as user_service
from ..services.errors import ServiceError
from ..services.xlsx import XLSX_MIMETYPE
from . import bp

FIELDS = ("username", "display_name", "role", "unit_code", "password")
ACTIVE = {"1": True, "0": False}  # the values of the users page's 启用 and 停用 buttons


def _page(status=200, **extra):
    from ..services.overview import team_leaders

    filters = {k: request.args.get(k, "") for k in ("role", "unit_code", "active", "q")}
    return render_template("admin/users.html", users=user_service.list_users(**filters), filters=filters,
                           roles=Role.labels(), roles_zh=[r.zh for r in Role], unit_levels=UNIT_LEVEL, units=user_service.unit_choices(),
                           leaders=team_leaders(), tokens=accounts.live_token_counts(), form=EmptyForm(),
                           **extra), status


@bp.get("/users")
@role_required("admin")
def users():
    return _page()


def _post_ok():
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/users")
@role_required("admin")
def create_user():
    _post_ok()
    typed = {k: request.form.get(k, "")[:256] for k in FIELDS}
    try:
        user = user_service.create_user(typed["username"], typed["display_name"], typed["role"], typed["unit_code"],
                                        typed["password"], current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        typed["password"] = ""
        return _page(exc.status, typed=typed, errors=exc.fields or {})
    flash(gettext("已创建用户 %(username)s（首次登录须修改密码）", username=user.username), "success")
    return redirect(url_for("admin.users"))


def _target(user_id: int) -> User:
    return db.get_or_404(User, user_id)  # (ids past the columns' range are 404 at the route: evalapp.IdConverter)


@bp.post("/users/<int:user_id>")
@role_required("admin")
def update_user(user_id: int):
    _post_ok()
    target = _target(user_id)
    try:
        user_service.update_user(target, request.form.get("display_name", ""), request.form.get("role", ""),
                                 request.form.get("unit_code", ""), current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(gettext("%(username)s：%(message)s", username=target.username, message=exc.message), "danger")
        return _page(exc.status)
    flash(gettext("已保存 %(username)s", username=target.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@role_required("admin")
def toggle_user(user_id: int):
    _post_ok()
    target = _target(user_id)
    active = ACTIVE.get(request.form.get("active", ""))
    if active is None:  # only the form's two buttons: anything else changes nothing
        flash(gettext("%(username)s：启用状态应为 1（启用）或 0（停用），未作改动", username=target.username), "danger")
        return _page(422)
    try:
        changed = user_service.set_active(target, active, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _page(exc.status)
    if changed:
        message = (gettext("%(username)s已启用，其登录会话和API令牌已全部结束", username=target.username) if target.active
                   else gettext("%(username)s已停用，其登录会话和API令牌已全部结束", username=target.username))
    else:
        message = (gettext("%(username)s本已启用，未作改动", username=target.username) if target.active
                   else gettext("%(username)s本已停用，未作改动", username=target.username))
    flash(message, "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id: int):
    _post_ok()
    target = _target(user_id)
    try:
        user_service.reset_password(target, request.form.get("password", ""), current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(gettext("%(username)s：%(message)s", username=target.username, message=exc.message), "danger")
        return _page(exc.status)
    flash(gettext("已重置 %(username)s 的密码，下次登录须修改；其登录会话和API令牌已全部结束", username=target.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/tokens/revoke")
@role_required("admin")
def revoke_tokens(user_id: int):
    _post_ok()
    target = _target(user_id)
    count = accounts.revoke_all_tokens(target, current_user, address=request.remote_addr)
    flash(gettext("已撤销 %(username)s 的全部API令牌（%(count)s个）", username=target.username, count=count) if count
          else gettext("%(username)s 没有有效的API令牌", username=target.username),
          "success" if count else "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/import")
@body_limit("import")
@role_required("admin")
def import_users():
    _post_ok()
    upload = request.files.get("file")
    data = upload.read(imports.MAX_IMPORT_BYTES + 1) if upload else b""
    try:
        issued = user_import.import_users(data, current_user, address=request.remote_addr)
    except imports.ImportProblems as exc:
        flash(gettext("导入失败，未写入任何数据，请按下列问题修改后重新导入"), "danger")
        return _page(422, problems=exc.problems)
    # The codes exist nowhere else in clear: this page is the only time they are shown (not a redirect).
    return _codes_page(issued, gettext("已导入%(n)s个用户。下列一次性设置码只显示这一次，请打印或抄下后分发给本人。", n=len(issued)))


def _codes_page(issued, message):
    response = make_response(render_template("admin/setup_codes.html", issued=issued, message=message,
                                             setup_url=url_for("auth.setup", _external=True)))
    response.headers["Cache-Control"] = "no-store"  # (codes in clear: not kept by the browser or a proxy)
    return response


@bp.get("/users/template.xlsx")
@role_required("admin")
def users_template():
    return send_download(user_import.users_template(), "用户导入模板.xlsx", XLSX_MIMETYPE)


@bp.post("/users/<int:user_id>/setup-code")
@role_required("admin")
def issue_setup_code(user_id: int):
    _post_ok()
    target = _target(user_id)
    try:
        issued = setup_codes.issue(target, current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "danger")
        return _page(exc.status)
    return _codes_page([issued], gettext("已为%(username)s生成新的一次性设置码，原有未使用的设置码已作废。该码只显示这一次。",
                                         username=target.username))
