"""The set-up page: a user the administrator created (an import) sets their own password with a one-time code."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..domain.limits import throttle_key
from ..services import setup_codes
from ..services.errors import ServiceError
from . import bp
from .forms import SetupForm
from .routes import throttled


def _refused_page(message: str):
    return render_template("auth/setup.html", form=SetupForm(), error=message, errors={})


def _setup_username_key() -> str:
    """The account a code attempt is counted under: the username typed (the same count as its log-ins)."""
    return throttle_key(request.form.get("username") or "")


@bp.route("/setup", methods=["GET", "POST"])
@throttled(_setup_username_key, _refused_page)
def setup():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SetupForm(formdata=request.form)
    if request.method == "POST":
        if not form.validate_on_submit():  # (a missing CSRF token, a field past its length)
            abort(400)
        try:
            setup_codes.redeem(form.username.data or "", form.code.data or "", form.password.data or "",
                               form.password2.data or "", address=request.remote_addr)
        except ServiceError as exc:
            return render_template("auth/setup.html", form=form, error=exc.message, errors=exc.fields or {}), \
                exc.status
        flash(gettext("密码已设置，请用用户名和新密码登录"), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/setup.html", form=form, error=None, errors={})
