"""Passwords, log-in and server-side sessions."""
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update

from ..domain import second_factor as second_factor_rules
from ..extensions import db
from ..models import ApiToken, User, UserSession
from ..models.base import utcnow
from . import audit
from .errors import NotAllowed, NotFound, _l


def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["PASSWORD_HASH"])


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; an unknown user costs the same time as a known one (no enumeration by timing)."""
    hasher = _hasher()
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        ok = hasher.verify(stored, password.encode("utf-8", "surrogatepass"))  # any text, even a lone surrogate
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    key = repr(sorted(current_app.config["PASSWORD_HASH"].items()))
    if key not in _DUMMY:
        _DUMMY[key] = _hasher().hash(secrets.token_hex(16))
    return _DUMMY[key]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _storable(text: str) -> bool:
    """Text every database column takes: no NUL or other control character, no lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return all(c.isprintable() for c in text)


def authenticate(username: str, password: str, *, address: str | None = None) -> User | None:
    """The active user with this username and password, else None. Writes an audit row either way, from the client's
    `address`. A username no account can have (NUL, other control characters, lone surrogates) is a failure like any
    unknown one."""
    user, ok = None, False
    if len(username.strip()) > 64:  # no account has such a name; counted like any failure by the caller
        detail = "username=(过长)"
    elif not _storable(username):
        username = username.encode("utf-8", "replace").decode("utf-8")
        username = "".join(c if c.isprintable() else "?" for c in username)
        detail = f"username={username.strip()[:64]}"
    else:
        user = db.session.scalar(select(User).where(User.username == username.strip()))
        ok = verify_password(user, password) and user.active
        if ok and _hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        detail = "" if ok else f"username={username.strip()[:64]}"
    # A right password of an account that gives a second factor is not yet a log-in (second_factor.verify's is).
    audit.record(("login.password_ok" if second_factor_rules.required(user.role, user.totp_exempt)
                  else "login.success") if ok else "login.failure", user=user if ok else None, address=address,
                 obj=user if ok else None, detail=detail)
    db.session.commit()
    return user if ok else None


def start_session(user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a server-side session for the user and return its token (kept in the signed cookie)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, ip=ip,
                               user_agent=(user_agent or "")[:255]))
    db.session.commit()
    user.session_token = token
    return token


# Built once: this runs on every request, and building the statement cost as much as running it.
@cache
def _session_user_statement():
    # The same row says whether the user leads a team (the header shows 工作组组长), so no page pays a query for it.
    from .overview import leads_a_team

    return (select(UserSession, User, leads_a_team(User.id).label("leads_team"))
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == bindparam("token_hash"), UserSession.ended_at.is_(None),
                   User.active.is_(True), UserSession.created_at > bindparam("since")))


def load_session_user(token: str) -> User | None:
    """The user of a live session token, or None when it ended, expired, or the user is inactive."""
    if not token:
        return None
    lifetime = timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])
    row = db.session.execute(_session_user_statement(), {"token_hash": _token_hash(token),
                                                         "since": utcnow() - lifetime}).first()
    if row is None:
        return None
    user = row.User
    user.session_token = token
    user.leads_team = bool(row.leads_team)
    return user


def end_session(token: str) -> None:
    """End one session (log-out), committed."""
    db.session.execute(
        update(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    db.session.commit()


def _revoke_tokens(now, *where) -> int:
    """Revoke the live tokens matching `where`; how many there were."""
    return db.session.execute(
        update(ApiToken).where(*where, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now), execution_options={"synchronize_session": False}).rowcount


def end_credentials(user: User, *, reason: str, keep_session_token: str | None = None,
                    actor: User | None = None, address: str | None = None) -> None:
    """End every credential of a user: their live API tokens and server-side sessions, but the session kept.

    Every service that changes a credential calls this (password reset or change, deactivation, reactivation, a new
    role or unit), in its own transaction: a token or a cookie minted under the old credential never outlives it.
    """
    now = utcnow()
    tokens = _revoke_tokens(now, ApiToken.user_id == user.id)
    sessions = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_session_token:
        sessions = sessions.where(UserSession.token_hash != _token_hash(keep_session_token))
    ended = db.session.execute(sessions.values(ended_at=now), execution_options={"synchronize_session": False}).rowcount
    audit.record("user.credentials_end", user=actor, address=address, obj=user, unit_id=user.unit_id, detail=reason,
                 new={"api_tokens": tokens, "sessions": ended})


API_TOKEN_HOURS = 12
# The last use of a token is written at most this often: a program polling the API costs no write per call.
TOKEN_TOUCH_SECONDS = 60
PASSWORD_CHANGE_FIRST = _l("您的密码由管理员设置，须先在网页上登录并修改密码，才能获取API令牌")


def issue_api_token(user: User, *, address: str | None = None) -> tuple[str, datetime]:
    """A new Bearer token for the API (12 hours); only its hash is stored.

    Refused (403) while the user still has a password set by an administrator: a temporary password never becomes a
    working credential of its own.
    """
    if user.must_change_password:
        raise NotAllowed("token.password_change_first", PASSWORD_CHANGE_FIRST, {"password": _l("须先修改密码")})
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=API_TOKEN_HOURS)
    db.session.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, expires_at=expires))
    audit.record("api_token.issue", user=user, address=address, obj=user)
    db.session.commit()
    return token, expires


@cache
def _token_user_statement():
    return (select(User, ApiToken.id.label("token_id"), ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > bindparam("now"), User.active.is_(True)))
    # (A user with a temporary password is answered 403 with the reason: auth.routes.require_password_change.)


def load_token_user(token: str) -> User | None:
    """The active user of a live API token, or None. Notes the token's use, at most once a minute."""
    if not token:
        return None
    now = utcnow()
    row = db.session.execute(_token_user_statement(), {"token_hash": _token_hash(token), "now": now}).first()
    if row is None:
        return None
    stale = now - timedelta(seconds=TOKEN_TOUCH_SECONDS)
    if row.last_used_at is None or row.last_used_at <= stale:
        # Conditional: of several calls arriving together, one writes; committed now, as a GET commits nothing.
        db.session.execute(
            update(ApiToken).where(ApiToken.id == row.token_id,
                                   or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= stale))
            .values(last_used_at=now), execution_options={"synchronize_session": False})
        db.session.commit()
    return row.User


def live_tokens(user: User) -> list[ApiToken]:
    """The user's API tokens still valid (not revoked, not expired), newest first."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > utcnow())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def live_token_counts() -> dict[int, int]:
    """Live API tokens per user id (users without any are left out)."""
    rows = db.session.execute(
        select(ApiToken.user_id, func.count(ApiToken.id))
        .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow()).group_by(ApiToken.user_id))
    return {user_id: count for user_id, count in rows}


def revoke_own_token(user: User, token_id: int, *, address: str | None = None) -> None:
    """The user revokes one of their own live tokens (404 for anyone else's, or one already ended)."""
    if not 0 < token_id < 2**63 or not _revoke_tokens(utcnow(), ApiToken.id == token_id, ApiToken.user_id == user.id):
        raise NotFound("token.not_found", _l("令牌不存在或已失效"))
    audit.record("api_token.revoke", user=user, address=address, obj=user, detail=f"token={token_id}")
    db.session.commit()


def revoke_all_tokens(target: User, actor: User, *, address: str | None = None) -> int:
    """An administrator revokes every live token of a user (their web sessions stay); returns how many."""
    count = _revoke_tokens(utcnow(), ApiToken.user_id == target.id)
    audit.record("api_token.revoke_all", user=actor, address=address, obj=target, unit_id=target.unit_id,
                 new={"api_tokens": count})
    db.session.commit()
    return count
