"""The account page: who the user is, and the API tokens they hold (each can be revoked)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ..services import accounts
from ..services.errors import ServiceError
from . import bp
from .forms import EmptyForm


@bp.get("/account")
@login_required
def account():
    return render_template("auth/account.html", tokens=accounts.live_tokens(current_user), form=EmptyForm())


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        accounts.revoke_own_token(current_user, token_id, address=request.remote_addr)
    except ServiceError as exc:
        flash(exc.message, "warning")
        return render_template("auth/account.html", tokens=accounts.live_tokens(current_user),
                               form=EmptyForm()), exc.status
    flash(gettext("令牌已撤销，使用它的程序须重新获取令牌"), "success")
    return redirect(url_for("auth.account"))
