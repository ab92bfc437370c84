"""Log-in and log-out."""
from functools import wraps
from urllib.parse import urlsplit

from flask import (abort, current_app, flash, g, jsonify, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException

from ..domain.limits import throttle_key
from ..domain.vocabulary import N_
from ..extensions import limiter, login_manager
from ..services import accounts, second_factor, throttle
from ..services.errors import ServiceError, shown
from . import bp
from .forms import EmptyForm, LoginForm

LOGIN_FAILED = N_("用户名或密码不正确")

login_manager.login_view = "auth.login"
login_manager.login_message = N_("请先登录")
login_manager.localize_callback = gettext  # the message in the session's language
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(token: str):
    return accounts.load_session_user(token)


def bearer_token_of(req) -> str | None:
    """The token of an `Authorization: Bearer <token>` header ("" for none after it), None when the request has no
    such header. The scheme in any case (RFC 7235: `bearer` and `BEARER` are `Bearer`); another scheme, such as a
    proxy's Basic, is not the API's business."""
    scheme, _, token = req.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@login_manager.request_loader
def load_user_from_bearer(req):
    """Programs call the API with `Authorization: Bearer <token>` (asked when no session cookie named a user)."""
    token = bearer_token_of(req)
    if not token or not req.path.startswith("/api/"):
        return None
    user = accounts.load_token_user(token)
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
    """The account a log-in attempt is counted under: the username as typed (form or JSON), case-folded."""
    name = request.form.get("username")
    if name is None:
        # A body declared JSON only, as api.parsing.json_body reads it: any other is a 415 before a password is
        # looked at, so there is no attempt to count under the name it may hold.
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else ""
    return throttle_key(name)


def own_username_key() -> str:
    """The account a current-password check is counted under: the signed-in user's (the same count as log-ins)."""
    return throttle_key(current_user.username if current_user.is_authenticated else "")


def _failed(response) -> bool:
    """Whether the attempt was a wrong credential: a refused log-in (401) or a view saying so (g.credential_failed)."""
    return response.status_code == 401 or bool(g.get("credential_failed"))


def _redis_backend_off() -> bool:
    return current_app.config["LOGIN_THROTTLE_BACKEND"] != "redis"


def _login_page_refused(message: str):
    flash(message, "danger")
    return _login_page(LoginForm())


def _password_page_refused(message: str):
    return render_template("auth/password.html", form=EmptyForm(), error=message)


def _refused(exc: throttle.Throttled, page):
    """429 with Retry-After and how long to wait: JSON under /api/, else the page again with the message."""
    if request.path.startswith("/api/"):
        response = jsonify(error=str(shown(exc.message)), code="auth.throttled", fields={})
    else:
        response = make_response(page(str(shown(exc.message))))
    response.status_code = 429
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def throttled(account_of, refused_page):
    """Count failed credential checks (POST) per account and per client address; refuse with 429 past the limits
    (`refused_page(message)`: the page shown then, JSON under /api/).

    One count for every view so decorated and for every worker and instance: failures are rows in the database
    (services/throttle), or with LOGIN_THROTTLE_BACKEND = "redis" Flask-Limiter's counters in RATELIMIT_STORAGE_URI.
    """

    def decorate(view):
        # The Redis backend: shared limits (one bucket across endpoints), counted after a failure.
        limited = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], scope="login-account",
                                       key_func=lambda: "login:" + account_of(), methods=["POST"],
                                       deduct_when=_failed, exempt_when=_redis_backend_off)(
            limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="login-address",
                                 methods=["POST"], deduct_when=_failed, exempt_when=_redis_backend_off)(view))

        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method != "POST":
                return view(*args, **kwargs)
            if not _redis_backend_off():
                return limited(*args, **kwargs)
            try:
                attempt = throttle.check(account_of(), request.remote_addr or "")
            except throttle.Throttled as exc:
                return _refused(exc, refused_page)
            try:
                response = make_response(view(*args, **kwargs))
            except (HTTPException, ServiceError) as exc:  # a body that is not one, a 403 after the right password
                if (exc.code if isinstance(exc, HTTPException) else exc.status) != 401:
                    throttle.succeeded(attempt)
                raise
            if not _failed(response):
                throttle.succeeded(attempt)
            return response

        return wrapper

    return decorate


login_limits = throttled(login_username_key, _login_page_refused)  # the log-in form and POST /api/v1/auth/token


@bp.record_once
def _check_throttle_config(state) -> None:
    """A limit that is not one, or an unknown backend, stops the app at start, not at the first log-in."""
    from .. import ConfigError

    config = state.app.config
    try:
        throttle.configured_limits(config)
    except ValueError as exc:
        raise ConfigError(f"LOGIN_LIMIT_PER_ACCOUNT / LOGIN_LIMIT_PER_ADDRESS 配置有误：{exc}") from exc
    backend = config.get("LOGIN_THROTTLE_BACKEND")
    if backend not in ("database", "redis"):
        raise ConfigError(f"LOGIN_THROTTLE_BACKEND 须为 database 或 redis，而不是 {backend!r}")
    if backend == "redis" and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory:"):
        raise ConfigError("LOGIN_THROTTLE_BACKEND = redis 需要 RATELIMIT_STORAGE_URI = redis://…"
                          "（memory:// 只在一个进程内计数）")


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(formdata=request.form)  # form fields only: a JSON body is not a log-in form
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "", address=request.remote_addr)
        if user is not None:
            if second_factor.required(user):  # half logged in: the code (or the enrolment) comes next
                from .second_factor import begin

                return begin(user, safe_next(request.args.get("next")))
            lang = session.get("lang")
            session.clear()  # a fresh session at log-in (no fixation)
            if lang:
                session["lang"] = lang
            accounts.start_session(user, request.remote_addr, request.headers.get("User-Agent"))
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        flash(gettext(LOGIN_FAILED), "danger")
    elif request.method == "POST":
        flash(gettext(LOGIN_FAILED), "danger")
    return _login_page(form), 401 if request.method == "POST" else 200


def _login_page(form):
    """The log-in page; it says so when accounts that should give a second factor have it switched off (the demo)."""
    return render_template("auth/login.html", form=form, second_factor_off=second_factor.exempt_accounts_exist())


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        accounts.end_session(current_user.session_token)
        logout_user()
        session.clear()
        flash(gettext("您已安全退出"), "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def require_password_change():
    """A user whose password was set or reset by an admin changes it before doing anything else."""
    if (current_user.is_authenticated and current_user.must_change_password and request.endpoint
            and request.endpoint not in ("auth.change_password", "auth.logout", "static", "main.set_language")):
        if request.path.startswith("/api/"):  # the API too: a temporary password saves nothing anywhere
            if request.endpoint in ("api.issue_token", "api.refresh_token", "api.openapi", "api.csrf_token"):
                return None
            return jsonify(error=gettext("您的密码由管理员设置，须先在网页上修改密码后才能继续使用"),
                           code="auth.password_change_first", fields={"password": gettext("须先修改密码")}), 403
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@throttled(own_username_key, _password_page_refused)  # guessing it from a taken-over session: log-in failures
def change_password():
    from ..services import users as user_service

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
                user_service.change_own_password(current_user, request.form.get("current", ""), new,
                                                 address=request.remote_addr)
            except ServiceError as exc:
                error = exc.message
                g.credential_failed = "current" in (exc.fields or {})
            else:
                flash(gettext("密码已修改"), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form, error=error), 422 if error else 200
