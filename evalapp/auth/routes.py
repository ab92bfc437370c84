"""Log-in and log-out."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter, login_manager
from ..services import accounts
from . import bp
from .forms import EmptyForm, LoginForm

LOGIN_FAILED = "用户名或密码不正确"

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(token: str):
    return accounts.load_session_user(token)


@login_manager.request_loader
def load_user_from_bearer(req):
    """Programs call the API with `Authorization: Bearer <token>`."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    user = accounts.load_token_user(header[7:].strip())
    if user is not None:
        g.bearer_auth = True
    return user


def safe_next(target: str | None) -> str | None:
    """A same-site path to go to after log-in, or None (never another host, scheme or `//host`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login_username_key() -> str:
    """The throttling key of a log-in attempt: the username as typed (form or JSON), case-folded."""
    name = request.form.get("username")
    if name is None:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else ""
    return "login:" + str(name or "").strip().casefold()[:64]


def _failed(response) -> bool:
    return response.status_code == 401


def login_limits(view):
    """Count failed log-ins per username and per client address; refuse with 429 past the limits."""
    per_account = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_username_key,
                                methods=["POST"], deduct_when=_failed, scope="login-account")
    per_address = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
                                deduct_when=_failed, scope="login-address")
    return per_account(per_address(view))


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at log-in (no fixation)
            if lang:
                session["lang"] = lang
            accounts.start_session(user, request.remote_addr, request.headers.get("User-Agent"))
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        flash(LOGIN_FAILED, "danger")
    elif request.method == "POST":
        flash(LOGIN_FAILED, "danger")
    return render_template("auth/login.html", form=form), 401 if request.method == "POST" else 200


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        accounts.end_session(current_user.session_token)
        db.session.commit()
        logout_user()
        session.clear()
        flash("您已安全退出", "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def require_password_change():
    """A user whose password was set or reset by an admin changes it before doing anything else."""
    if (current_user.is_authenticated and current_user.must_change_password and request.endpoint
            and request.endpoint not in ("auth.change_password", "auth.logout", "static", "main.set_language")
            and not request.path.startswith("/api/")):
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    from ..services import users as user_service
    from ..services.errors import ServiceError

    form = EmptyForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        new, again = request.form.get("password", ""), request.form.get("password2", "")
        if new != again:
            error = "两次输入的新密码不一致"
        else:
            try:
                user_service.change_own_password(current_user, request.form.get("current", ""), new)
            except ServiceError as exc:
                error = exc.message
            else:
                flash("密码已修改", "success")
                return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form, error=error), 422 if error else 200
