"""An administrator resets another user's second factor (a lost phone; a demo account put to real use)."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..access import role_required
from ..auth.forms import ResetSecondFactorForm
from ..services import second_factor
from ..services.errors import ServiceError
from . import bp
from .users import _page, _target


@bp.post("/users/<int:user_id>/second-factor/reset")
@role_required("admin")
def reset_second_factor(user_id: int):
    form = ResetSecondFactorForm()
    if not form.validate_on_submit():
        abort(400)
    target = _target(user_id)
    try:
        second_factor.reset(target, (form.reason.data or "")[:1000], current_user, address=request.remote_addr)
    except ServiceError as exc:
        flash(gettext("%(username)s：%(message)s", username=target.username, message=exc.message), "danger")
        return _page(exc.status)
    flash(gettext("已重置 %(username)s 的二次验证，其登录会话和API令牌已全部结束；下次登录时须重新设置",
                  username=target.username), "success")
    return redirect(url_for("admin.users"))
