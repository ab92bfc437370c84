"""Passwords, log-in and server-side sessions."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update

from ..domain import second_factor as second_factor_rules
from ..extensions import db
from ..models import ApiToken, RefreshToken, User, UserSession
from ..models.base import utcnow
from . import audit
from .errors import NotAllowed, NotFound, ServiceError, _l


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
    _revoke_refresh(now, RefreshToken.user_id == user.id)
    sessions = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_session_token:
        sessions = sessions.where(UserSession.token_hash != _token_hash(keep_session_token))
    ended = db.session.execute(sessions.values(ended_at=now), execution_options={"synchronize_session": False}).rowcount
    audit.record("user.credentials_end", user=actor, address=address, obj=user, unit_id=user.unit_id, detail=reason,
                 new={"api_tokens": tokens, "sessions": ended})


API_TOKEN_HOURS = 1  # an access token; a program keeps working by refreshing it (REFRESH_TOKEN_DAYS)
REFRESH_TOKEN_DAYS = 14  # an offline tablet may be days without signal
# The last use of a token is written at most this often: a program polling the API costs no write per call.
TOKEN_TOUCH_SECONDS = 60
PASSWORD_CHANGE_FIRST = _l("您的密码由管理员设置，须先在网页上登录并修改密码，才能获取API令牌")


def issue_api_token(user: User, *, address: str | None = None) -> tuple[str, datetime]:
    """A new Bearer token for the API (API_TOKEN_HOURS); only its hash is stored.

    Refused (403) while the user still has a password set by an administrator: a temporary password never becomes a
    working credential of its own.
    """
    token, expires = _access_token_in(user, None)
    audit.record("api_token.issue", user=user, address=address, obj=user)
    db.session.commit()
    return token, expires


def _access_token_in(user: User, family: str | None) -> tuple[str, datetime]:
    if user.must_change_password:
        raise NotAllowed("token.password_change_first", PASSWORD_CHANGE_FIRST, {"password": _l("须先修改密码")})
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=API_TOKEN_HOURS)
    db.session.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, expires_at=expires, family=family))
    return token, expires


@dataclass(frozen=True)
class TokenPair:
    token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime

    def as_json(self) -> dict:
        return {"token": self.token, "expires_at": self.expires_at.isoformat(), "refresh_token": self.refresh_token,
                "refresh_expires_at": self.refresh_expires_at.isoformat()}


def _pair_in(user: User, family: str) -> TokenPair:
    token, expires = _access_token_in(user, family)
    refresh = secrets.token_urlsafe(32)
    refresh_expires = utcnow() + timedelta(days=REFRESH_TOKEN_DAYS)
    db.session.add(RefreshToken(token_hash=_token_hash(refresh), user_id=user.id, family=family,
                                expires_at=refresh_expires))
    return TokenPair(token, expires, refresh, refresh_expires)


def issue_token_pair(user: User, *, address: str | None = None) -> TokenPair:
    """An access token (API_TOKEN_HOURS) and a refresh token (REFRESH_TOKEN_DAYS) of a new family, after a log-in
    with the password (POST /auth/token)."""
    pair = _pair_in(user, secrets.token_hex(16))
    audit.record("api_token.issue", user=user, address=address, obj=user)
    db.session.commit()
    return pair


class RefreshRefused(ServiceError):
    status = 401


REFRESH_REFUSED = _l("刷新令牌不存在或已失效，请重新登录获取令牌")


def refresh_tokens(refresh_token: str, *, address: str | None = None) -> TokenPair:
    """Exchange a refresh token for a new access token and a new refresh token of its family, without the password;
    the refresh token is spent (rotated). One spent already — a replay: someone else holds a copy — revokes the
    whole family, access tokens too, and is refused (401 auth.refresh_reused), as is an unknown, expired or revoked
    one (auth.invalid_refresh_token) or one of a user deactivated since."""
    now = utcnow()
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _token_hash(refresh_token or "")))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        db.session.rollback()
        raise RefreshRefused("auth.invalid_refresh_token", REFRESH_REFUSED)
    user = db.session.get(User, row.user_id)
    # Spent here, conditionally: of two uses of one token (even at once) exactly one finds it unspent.
    spent = db.session.execute(update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                               .values(used_at=now), execution_options={"synchronize_session": False}).rowcount
    if not spent:
        revoke_family(row.family, now)
        audit.record("api_token.refresh_reused", user=user, address=address, obj=user,
                     detail=f"family={row.family}")
        db.session.commit()
        raise RefreshRefused("auth.refresh_reused", _l("刷新令牌已被使用过，可能已泄露：该登录的全部令牌已吊销，请重新登录"))
    if user is None or not user.active:
        db.session.rollback()
        raise RefreshRefused("auth.invalid_refresh_token", REFRESH_REFUSED)
    try:
        pair = _pair_in(user, row.family)
    except BaseException:
        db.session.rollback()
        raise
    audit.record("api_token.refresh", user=user, address=address, obj=user, detail=f"family={row.family}")
    db.session.commit()
    return pair


def revoke_family(family: str, now) -> None:
    """In the caller's transaction: every live access and refresh token of the family revoked."""
    _revoke_tokens(now, ApiToken.family == family)
    _revoke_refresh(now, RefreshToken.family == family)


def _revoke_refresh(now, *where) -> int:
    return db.session.execute(
        update(RefreshToken).where(*where, RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now)
        .values(revoked_at=now), execution_options={"synchronize_session": False}).rowcount


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
    family = db.session.scalar(select(ApiToken.family).where(ApiToken.id == token_id))
    if family is not None:  # its refresh token would mint another: the family ends with it
        revoke_family(family, utcnow())
    audit.record("api_token.revoke", user=user, address=address, obj=user, detail=f"token={token_id}")
    db.session.commit()


def revoke_all_tokens(target: User, actor: User, *, address: str | None = None) -> int:
    """An administrator revokes every live token of a user (their web sessions stay); returns how many."""
    count = _revoke_tokens(utcnow(), ApiToken.user_id == target.id)
    _revoke_refresh(utcnow(), RefreshToken.user_id == target.id)
    audit.record("api_token.revoke_all", user=actor, address=address, obj=target, unit_id=target.unit_id,
                 new={"api_tokens": count})
    db.session.commit()
    return count
