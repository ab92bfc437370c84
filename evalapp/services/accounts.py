"""Passwords, log-in and server-side sessions."""
import hashlib
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select, update

from ..extensions import db
from ..models import ApiToken, User, UserSession
from ..models.base import utcnow
from . import audit


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
        ok = hasher.verify(stored, password)
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


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, else None. Writes an audit row either way."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(user, password) and user.active
    if ok and _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("login.success" if ok else "login.failure", user=user if ok else None,
                 obj=user if ok else None, detail="" if ok else f"username={username.strip()[:64]}")
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
    """End one session (log-out)."""
    db.session.execute(
        update(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all_sessions(user_id: int) -> None:
    """End every open session of a user (deactivation, password reset)."""
    db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


API_TOKEN_HOURS = 12


def issue_api_token(user: User) -> tuple[str, "datetime"]:
    """A new Bearer token for the API (12 hours); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=API_TOKEN_HOURS)
    db.session.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, expires_at=expires))
    audit.record("api_token.issue", user=user, obj=user)
    db.session.commit()
    return token, expires


def load_token_user(token: str) -> User | None:
    """The active user of a live API token, or None."""
    row = db.session.execute(
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > utcnow(), User.active.is_(True))
    ).scalar()
    return row
