"""The second step of a log-in (administrator, district and finance accounts): a code from an authenticator app, or
a recovery code; and the enrolment of an account that has no second factor yet.

Between the password and the code the browser is half logged in: its session holds `second_factor` (the user's
id and name, when the password was accepted, a fingerprint of the password hash, where to go next, and for an
enrolment a nonce), never a logged-in user; no server-side session exists until the code is accepted. The state
expires after TWO_FACTOR_PENDING_SECONDS, and a password changed meanwhile ends it.
"""
import hashlib
import secrets
import time

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from ..domain import second_factor as rules
from ..domain.limits import throttle_key
from ..extensions import db
from ..models import User
from ..services import accounts, second_factor
from ..services.errors import ServiceError
from . import bp
from .forms import CodeForm
from .routes import safe_next, throttled

PENDING = "second_factor"


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _fresh_session() -> None:
    """A new session (no fixation), the chosen language kept."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def begin(user: User, next_path: str | None):
    """The password was right and this account needs a second factor: half log in, and go to the code (or to the
    enrolment, for an account without one)."""
    _fresh_session()
    state = {"user": user.id, "name": user.username, "since": int(time.time()), "pw": _fingerprint(user),
             "next": next_path}
    if not second_factor.enrolled(user):
        state["nonce"] = secrets.token_urlsafe(16)
    session[PENDING] = state
    return redirect(url_for("auth.login_code" if second_factor.enrolled(user) else "auth.enrol"))


def pending_user() -> User | None:
    """The user half logged in by this session, or None (none, expired, password changed, deactivated)."""
    state = session.get(PENDING)
    if not isinstance(state, dict):
        return None
    if time.time() - state.get("since", 0) > current_app.config["TWO_FACTOR_PENDING_SECONDS"]:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, state.get("user"))
    if user is None or not user.active or _fingerprint(user) != state.get("pw") or not second_factor.required(user):
        session.pop(PENDING, None)
        return None
    return user


def _finish(user: User, next_path: str | None):
    """The second factor accepted: log in for real, in a fresh session."""
    _fresh_session()
    accounts.start_session(user, request.remote_addr, request.headers.get("User-Agent"))
    login_user(user)
    return redirect(safe_next(next_path) or url_for("main.home"))


def pending_username_key() -> str:
    """Wrong codes count under the account, with its wrong passwords."""
    state = session.get(PENDING)
    return throttle_key(state.get("name", "") if isinstance(state, dict) else "")


def _code_page_refused(message: str):
    flash(message, "danger")
    return render_template("auth/code.html", form=CodeForm(formdata=None))


def _enrol_page_refused(message: str):
    flash(message, "danger")
    user = pending_user()
    if user is None:
        return render_template("auth/code.html", form=CodeForm(formdata=None))
    return _enrol_page(user, CodeForm(formdata=None))


def _gone():
    """No half log-in (never started, expired): back to the password."""
    flash(gettext("登录已超时，请重新输入用户名和密码"), "warning")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@throttled(pending_username_key, _code_page_refused)
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = pending_user()
    if user is None:
        return _gone()
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.enrol"))
    form = CodeForm(formdata=request.form)
    if request.method == "POST" and form.validate_on_submit():
        try:
            used = second_factor.verify(user, (form.code.data or "")[:64], address=request.remote_addr)
        except ServiceError as exc:
            flash(exc.message, "danger")
            return render_template("auth/code.html", form=CodeForm(formdata=None)), exc.status
        next_path = session[PENDING].get("next")
        response = _finish(user, next_path)
        if used == "recovery":
            left = second_factor.recovery_codes_left(user)
            flash(gettext("已使用一个恢复码登录，还剩%(n)d个。手机丢失请尽快联系管理员重置二次验证。", n=left), "warning")
        return response
    if request.method == "POST":  # a form without its CSRF token
        flash(gettext("页面已过期，请重新输入验证码"), "warning")
        return render_template("auth/code.html", form=CodeForm(formdata=None)), 400
    return render_template("auth/code.html", form=form)


def _enrol_page(user: User, form: CodeForm):
    secret = second_factor.pending_secret(user, session[PENDING]["nonce"])
    uri, qr = second_factor.qr_code(user, secret)
    return render_template("auth/enrol.html", form=form, secret=secret, uri=uri, qr=qr, user=user,
                           grouped=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))


@bp.route("/login/enrol", methods=["GET", "POST"])
@throttled(pending_username_key, _enrol_page_refused)
def enrol():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = pending_user()
    if user is None:
        return _gone()
    if second_factor.enrolled(user):
        return redirect(url_for("auth.login_code"))
    if "nonce" not in session[PENDING]:
        session[PENDING] = {**session[PENDING], "nonce": secrets.token_urlsafe(16)}
    form = CodeForm(formdata=request.form)
    if request.method == "POST" and form.validate_on_submit():
        secret = second_factor.pending_secret(user, session[PENDING]["nonce"])
        try:
            codes = second_factor.enrol(user, secret, (form.code.data or "")[:64], address=request.remote_addr)
        except ServiceError as exc:
            flash(exc.message, "danger")
            return _enrol_page(user, CodeForm(formdata=None)), exc.status
        next_path = session[PENDING].get("next")
        _finish(user, next_path)
        # Shown once, in this response: never stored in a readable form, never in a URL or a later page.
        return render_template("auth/recovery_codes.html", codes=[rules.display_recovery(c) for c in codes],
                               next=safe_next(next_path) or url_for("main.home"))
    if request.method == "POST":
        flash(gettext("页面已过期，请重新输入验证码"), "warning")
        return _enrol_page(user, CodeForm(formdata=None)), 400
    return _enrol_page(user, form)


@bp.before_app_request
def require_second_factor():
    """An account that needs a second factor and has none (a session or a token from before it was asked, or after
    an administrator's reset cut short) does nothing until it enrols: a page leads to the enrolment, the API says
    why (403)."""
    if (not current_user.is_authenticated or not second_factor.required(current_user)
            or second_factor.enrolled(current_user)
            or request.endpoint in (None, "static", "main.set_language", "auth.logout", "main.healthz")):
        return None
    if request.path.startswith("/api/") or g.get("bearer_auth"):
        if request.endpoint in ("api.issue_token", "api.refresh_token", "api.openapi"):
            return None
        return jsonify(error=gettext("该账号须先在网页上登录并设置二次验证"), code="auth.second_factor_first",
                       fields={}), 403
    user = current_user._get_current_object()
    accounts.end_session(user.session_token)
    logout_user()
    return begin(user, None)
