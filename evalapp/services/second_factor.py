"""The second factor at log-in: enrolment, checking a code or a recovery code, an administrator's reset.

Every step is audited (`totp.enrol`, `totp.success`, `totp.failure` with why, `totp.recovery_used`, `totp.reset`).
A code is accepted once: the step it belongs to is written by a conditional UPDATE (only if later than the last
one accepted), so two requests with the same code, in any order and on any number of workers, accept it once; a
recovery code is spent the same way (only if not spent yet). Wrong codes count with wrong passwords in the log-in
throttle (the views are under `auth.routes.throttled`: a WrongCode is a 401).
"""
import time

import segno
from flask import current_app
from sqlalchemy import delete, exists, func, or_, select, update

from ..domain import second_factor as rules
from ..domain.text import text_problem
from ..extensions import db
from ..models import RecoveryCode, User
from ..models.base import utcnow
from . import audit
from .accounts import end_credentials
from .errors import Conflict, Invalid, NotAllowed, ServiceError, _l

WRONG_CODE = _l("验证码不正确或已使用，请输入动态验证码或一个未用过的恢复码")
REASON_MAX = 500


class WrongCode(ServiceError):
    """A wrong, reused or missing code: counted by the log-in throttle like a wrong password."""

    status = 401


def required(user: User) -> bool:
    """Whether this account logs in with a second factor."""
    return rules.required(user.role, user.totp_exempt)


def enrolled(user: User) -> bool:
    return user.totp_secret is not None


def _key() -> bytes:
    return str(current_app.secret_key).encode("utf-8")


def pending_secret(user: User, nonce: str) -> str:
    """The secret offered to a user enrolling: derived from the server's key, the user and the enrolment's nonce
    (the session keeps the nonce only)."""
    return rules.derived_secret(_key(), f"totp-enrol:{user.id}:{user.password_hash}:{nonce}")


def qr_code(user: User, secret: str) -> tuple[str, str]:
    """The otpauth:// URI for an authenticator app and its QR code as an SVG data: URI (drawn here, no service)."""
    uri = rules.provisioning_uri(secret, user.username)
    return uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=4, light="#fff")


def _now() -> float:
    return time.time()


def enrol(user: User, secret: str, code: str, *, address: str | None = None) -> list[str]:
    """Store the second factor the user's app holds, once a code from it matches; returns ten recovery codes (shown
    once, kept as hashes). A wrong code is audited and raises WrongCode."""
    if enrolled(user):
        raise Conflict("second_factor.enrolled", _l("该账号已设置二次验证"))
    step = rules.matching_step(secret, rules.normalise_code(code), _now())
    if step is None:
        audit.record("totp.failure", user=user, address=address, obj=user, unit_id=user.unit_id, detail="enrol")
        db.session.commit()
        raise WrongCode("second_factor.wrong_code", _l("验证码不正确，请输入手机验证器中当前显示的6位数字"),
                        {"code": _l("验证码不正确")})
    now = utcnow()
    # Conditional: of two enrolments racing (two tabs), one stores its secret.
    stored = db.session.execute(
        update(User).where(User.id == user.id, User.totp_secret.is_(None))
        .values(totp_secret=secret, totp_enrolled_at=now, totp_last_step=step),
        execution_options={"synchronize_session": False}).rowcount
    if not stored:
        db.session.rollback()
        raise Conflict("second_factor.enrolled", _l("该账号已设置二次验证"))
    codes = _new_recovery_codes(user)
    audit.record("totp.enrol", user=user, address=address, obj=user, unit_id=user.unit_id,
                 new={"recovery_codes": len(codes)})
    db.session.commit()
    db.session.expire(user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id),
                       execution_options={"synchronize_session": False})
    codes = rules.new_recovery_codes()
    key = _key()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=rules.recovery_hash(key, user.id, c)) for c in codes)
    return codes


def verify(user: User, code: str, *, address: str | None = None) -> str:
    """Check the second step of a log-in: a TOTP code not used before, or an unspent recovery code (spent now).
    Returns "totp" or "recovery"; audits either way; raises WrongCode (401) for anything else."""
    if not enrolled(user):
        raise NotAllowed("second_factor.not_enrolled", _l("该账号尚未设置二次验证，请先在网页上登录并设置"))
    typed = rules.normalise_code(code)
    why = "wrong"
    if rules.is_totp_shape(typed):
        step = rules.matching_step(user.totp_secret, typed, _now())
        if step is not None:
            accepted = db.session.execute(
                update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step), execution_options={"synchronize_session": False}).rowcount
            if accepted:
                audit.record("totp.success", user=user, address=address, obj=user, unit_id=user.unit_id)
                db.session.commit()
                db.session.expire(user)
                return "totp"
            why = "reused"
    elif rules.is_recovery_shape(typed):
        spent = db.session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                       RecoveryCode.code_hash == rules.recovery_hash(_key(), user.id, typed),
                                       RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow()), execution_options={"synchronize_session": False}).rowcount
        if spent:
            left = recovery_codes_left(user)
            audit.record("totp.recovery_used", user=user, address=address, obj=user, unit_id=user.unit_id,
                         new={"recovery_codes_left": left})
            db.session.commit()
            return "recovery"
        why = "recovery_wrong"
    audit.record("totp.failure", user=user, address=address, obj=user, unit_id=user.unit_id, detail=why)
    db.session.commit()
    raise WrongCode("second_factor.wrong_code", WRONG_CODE, {"code": _l("验证码不正确或已使用")})


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id))
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def reset(target: User, reason: str, actor: User | None, *, address: str | None = None) -> None:
    """An administrator clears another user's second factor (a lost phone, or a demo account to be used for real):
    the secret and recovery codes go, an exemption ends, and so do the user's sessions and API tokens; the user
    enrols again at the next log-in. The reason is required and audited. `actor` None: the server's command line
    (`flask reset-second-factor`), for an administrator locked out with no other to ask."""
    reason = (reason or "").strip()
    problem = text_problem(reason)
    if not reason or problem:
        message = _l("请填写重置原因") if not reason else _l("重置原因%(problem)s", problem=problem)
        raise Invalid("second_factor.reason_required", message, {"reason": message})
    if len(reason) > REASON_MAX:
        message = _l("重置原因不能超过%(n)d个字", n=REASON_MAX)
        raise Invalid("second_factor.reason_too_long", message, {"reason": message})
    if actor is not None and target.id == actor.id:
        message = _l("不能重置自己的二次验证，请由另一位管理员操作")
        raise NotAllowed("second_factor.reset_self", message, {"reason": message})
    old = {"enrolled": enrolled(target), "exempt": target.totp_exempt,
           "recovery_codes_left": recovery_codes_left(target)}
    target.totp_secret = target.totp_enrolled_at = target.totp_last_step = None
    target.totp_exempt = False
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == target.id),
                       execution_options={"synchronize_session": False})
    end_credentials(target, reason="totp.reset", actor=actor, address=address)
    audit.record("totp.reset", user=actor, address=address, obj=target, unit_id=target.unit_id, old=old,
                 detail=reason)
    db.session.commit()


def exempt_accounts_exist() -> bool:
    """Whether an active account whose role asks for a second factor has it switched off (the demo's): the log-in
    page says so."""
    return bool(db.session.scalar(select(exists().where(User.active.is_(True), User.totp_exempt.is_(True),
                                                        User.role.in_(sorted(rules.ROLES))))))
