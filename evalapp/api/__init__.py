"""The JSON API (/api/v1): a second face over the same services, used by the tablet pages and by other systems.

Browsers use their session and send the CSRF token in an X-CSRFToken header; programs use a Bearer token (no
cookies, so no CSRF). A request that carries a Bearer token is that token's: a bad, expired or revoked one is a 401
with `WWW-Authenticate: Bearer error="invalid_token"` whatever cookie came with it (never the CSRF refusal, never a
log-in page); a request with neither a token nor a session is a 401 too, before any CSRF question. Only a session
client (cookie, no token) is asked for the CSRF header on writes.
"""
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CSRF_FREE = {"api.issue_token", "api.refresh_token"}
PUBLIC = {"api.issue_token", "api.refresh_token", "api.openapi"}  # no credential asked for (a stale token sent along is not looked at)


# The code of an error answered without a service's own (the request itself: no log-in, a bad token, no such id).
STATUS_CODES = {400: "request.invalid", 401: "auth.required", 403: "access.denied", 404: "not_found",
                405: "method.not_allowed", 409: "conflict", 413: "request.too_large",
                415: "request.unsupported_media_type", 422: "input.invalid", 429: "rate.limited",
                500: "server.error"}
# RFC 6750: the challenge of a 401 without a token, and of one whose token was refused.
CHALLENGE = "Bearer"
INVALID_TOKEN = 'Bearer error="invalid_token"'


def error(message, status: int, fields: dict | None = None, *, code: str | None = None, **extra):
    """An error response: {"error", "code", "fields"} (and any extra keys); `error` and `fields` in the request's
    language, `code` stable for programs (a service error's own, else the status's)."""
    return jsonify(error=str(message), code=code or STATUS_CODES.get(status, "error"),
                   fields={name: str(text) for name, text in (fields or {}).items()}, **extra), status


def bearer_token() -> str | None:
    """The request's Bearer token (auth.routes.bearer_token_of: the scheme in any case), None without one."""
    from ..auth.routes import bearer_token_of

    return bearer_token_of(request)


def _token_user():
    """The user of the request's Bearer token, or None when it is bad, expired or revoked. The log-in manager's
    request loader looked at it already unless a session cookie answered first (Flask-Login asks the session
    before the request loader): then it is looked up here, and the request is the token's."""
    if g.get("bearer_auth") and current_user.is_authenticated:
        return current_user._get_current_object()
    from ..services import accounts

    user = accounts.load_token_user(bearer_token() or "")
    if user is not None:
        current_app.login_manager._update_request_context_with_user(user)
        g.bearer_auth = True
    return user


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC:
        return None
    if bearer_token() is not None:
        if _token_user() is None:
            response, status = error(gettext("令牌不存在或已失效"), 401, code="auth.invalid_token")
            response.headers["WWW-Authenticate"] = INVALID_TOKEN
            return response, status
        return None
    if not current_user.is_authenticated:
        return error(gettext("请先登录"), 401, code="auth.required")
    return None


@bp.before_request
def check_csrf_for_session_clients():
    """After `authenticate`: the caller is a token's (no CSRF: no browser sends that header across sites on its own)
    or a session's, whose writes carry the page's token in X-CSRFToken."""
    if (request.method not in UNSAFE or request.endpoint in CSRF_FREE or g.get("bearer_auth")
            or not current_app.config["WTF_CSRF_ENABLED"]):
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        return error(gettext("安全校验失败（CSRF），请刷新页面后重试"), 400, code="csrf")
    return None


@bp.after_request
def challenge(response):
    """Every 401 of the API says how to authenticate (RFC 9110 asks for the header on each)."""
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", CHALLENGE)
    return response


from . import routes  # noqa: E402,F401
from . import summary  # noqa: E402,F401
from . import documents  # noqa: E402,F401
from . import sync  # noqa: E402,F401
from . import catalogue  # noqa: E402,F401
