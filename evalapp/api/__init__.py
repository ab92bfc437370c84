"""The JSON API (/api/v1): a second face over the same services, used by the tablet pages and by other systems.

Browsers use their session and send the CSRF token in an X-CSRFToken header; programs use a Bearer token (no
cookies, so no CSRF).
"""
from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CSRF_FREE = {"api.issue_token"}


# The code of an error answered without a service's own (the request itself: no log-in, a bad token, no such id).
STATUS_CODES = {400: "request.invalid", 401: "auth.required", 403: "access.denied", 404: "not_found",
                405: "method.not_allowed", 409: "conflict", 413: "request.too_large", 422: "input.invalid",
                429: "rate.limited", 500: "server.error"}


def error(message, status: int, fields: dict | None = None, *, code: str | None = None, **extra):
    """An error response: {"error", "code", "fields"} (and any extra keys); `error` and `fields` in the request's
    language, `code` stable for programs (a service error's own, else the status's)."""
    return jsonify(error=str(message), code=code or STATUS_CODES.get(status, "error"),
                   fields={name: str(text) for name, text in (fields or {}).items()}, **extra), status


@bp.before_request
def check_csrf_for_session_clients():
    if (request.method not in UNSAFE or request.endpoint in CSRF_FREE
            or not current_app.config["WTF_CSRF_ENABLED"]):
        return None
    if current_user.is_authenticated and g.get("bearer_auth"):  # loads the user: a Bearer token sets the flag
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except (ValidationError, CSRFError):
        return error(gettext("安全校验失败（CSRF），请刷新页面后重试"), 400, code="csrf")
    return None


@bp.before_request
def require_login():
    if request.endpoint in ("api.issue_token", "api.openapi") or current_user.is_authenticated:
        return None
    return error(gettext("请先登录"), 401, code="auth.required")


from . import routes  # noqa: E402,F401
from . import summary  # noqa: E402,F401
