"""One-time set-up codes: issued by an administrator (with an import, or for one user), spent by the user on the
set-up page to choose their own password (domain.setup_codes: the code's shape and its keyed hash).

A code is spent once: by a conditional UPDATE (only while unspent and unexpired), so two requests with the same
code, on any number of workers, set one password. A wrong code is a 401 counted by the log-in throttle
(auth.setup is under auth.routes.throttled, per username typed and per address), like a wrong password; a password
the policy refuses spends nothing. The clock is `_now()`, replaced in tests.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ..domain import setup_codes as rules
from ..extensions import db
from ..models import SetupCode, User
from ..models.base import utcnow
from . import audit
from .accounts import _storable, end_credentials
from .errors import Invalid, ServiceError, _l
from .users import _password

WRONG_CODE = _l("用户名或设置码不正确")


class WrongCode(ServiceError):
    """A wrong, spent or expired code (or no such user): counted by the throttle like a wrong password."""

    status = 401


@dataclass(frozen=True)
class Issued:
    """A code as handed out: shown once, on the page the administrator prints."""

    user: User
    code: str
    expires_at: datetime


def _now() -> datetime:
    return utcnow()


def _key() -> bytes:
    return str(current_app.secret_key).encode("utf-8")


def add_code(user: User, actor: User | None, now: datetime | None = None, *, fresh: bool = False) -> Issued:
    """A new code for `user` in the caller's transaction (their unspent codes are deleted: one live code a user;
    `fresh`: the user was created in this transaction and has none)."""
    now = now or _now()
    if not fresh:
        db.session.execute(delete(SetupCode).where(SetupCode.user_id == user.id, SetupCode.used_at.is_(None)),
                           execution_options={"synchronize_session": False})
    code = rules.new_code()
    expires = now + timedelta(days=current_app.config["SETUP_CODE_DAYS"])
    db.session.add(SetupCode(user_id=user.id, code_hash=rules.code_hash(_key(), code), created_at=now,
                             created_by_id=actor.id if actor is not None else None, expires_at=expires))
    return Issued(user, code, expires)


def issue(target: User, actor: User, *, address: str | None = None) -> Issued:
    """An administrator gives a user a new code (lost, expired, or a forgotten password); their old unspent code
    stops working. The password they have keeps working until they use the code."""
    if not target.active:
        raise Invalid("setup.inactive", _l("%(username)s已停用，请先启用再生成设置码", username=target.username),
                      {"active": _l("用户已停用")})
    issued = add_code(target, actor)
    audit.record("user.setup_code", user=actor, address=address, obj=target, unit_id=target.unit_id,
                 new={"expires_at": issued.expires_at.isoformat(timespec="minutes")})
    db.session.commit()
    return issued


def redeem(username: str, code: str, password: str, password2: str, *, address: str | None = None) -> User:
    """Set the user's password with their code: checks the code, then the password (a refused password spends
    nothing), then spends the code. Ends any session or token the account had. Raises WrongCode (401) or Invalid."""
    now = _now()
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).where(User.username == username)) if _storable(username) else None
    row = None
    if user is not None and user.active:
        row = db.session.scalar(select(SetupCode).where(SetupCode.user_id == user.id,
                                                        SetupCode.code_hash == rules.code_hash(_key(), code or "")))
    if row is None or row.used_at is not None or row.expires_at <= now:
        why = "wrong" if row is None else ("used" if row.used_at is not None else "expired")
        shown = username if _storable(username) else "".join(c if c.isprintable() else "?" for c in username)
        audit.record("user.setup_failure", user=None, address=address, obj=user if row is not None else None,
                     detail=f"username={shown.encode('utf-8', 'replace').decode('utf-8')}; {why}")
        db.session.commit()
        if why == "used":
            raise WrongCode("setup.code_used", _l("该设置码已使用过；如需重新设置密码，请联系管理员生成新的设置码"),
                            {"code": _l("设置码已使用")})
        if why == "expired":
            raise WrongCode("setup.code_expired", _l("该设置码已过期；请联系管理员生成新的设置码"),
                            {"code": _l("设置码已过期")})
        raise WrongCode("setup.wrong_code", WRONG_CODE, {"code": _l("用户名或设置码不正确")})
    if (password or "") != (password2 or ""):
        raise Invalid("setup.password_mismatch", _l("两次输入的新密码不一致"), {"password2": _l("两次输入不一致")})
    password_hash = _password(password, user.username, user.display_name, user.unit)
    spent = db.session.execute(
        update(SetupCode).where(SetupCode.id == row.id, SetupCode.used_at.is_(None), SetupCode.expires_at > now)
        .values(used_at=now), execution_options={"synchronize_session": False}).rowcount
    if not spent:  # another request spent it meanwhile
        db.session.rollback()
        raise WrongCode("setup.code_used", _l("该设置码已使用过；如需重新设置密码，请联系管理员生成新的设置码"),
                        {"code": _l("设置码已使用")})
    user.password_hash = password_hash
    user.must_change_password = False
    end_credentials(user, reason="user.setup", actor=user, address=address)
    audit.record("user.setup", user=user, address=address, obj=user, unit_id=user.unit_id)
    db.session.commit()
    return user
