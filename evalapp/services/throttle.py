"""Log-in throttling kept in the database: one count of failed attempts per account and per client address,
shared by the log-in form, the API token endpoint and the password-change page, by every worker and instance.

An attempt is counted before its password is checked: `check` refuses when the failures in a window have reached
a limit, and otherwise writes the attempt's row at once, committed (so a request that then fails, or a worker that
dies, still counts it); `succeeded` removes that row when the password was right. Counting and writing happen in one
transaction under a lock per key (PostgreSQL: advisory locks on the account and the address; SQLite: the database's
single writer lock, taken by the INSERT before the count), so concurrent wrong attempts never pass a limit: of
attempts in flight at once, those beyond the limit are refused even before any of them has finished. The price:
attempts in flight count until they are known to be right (five people logging in at the same instant from one
address hold five of its hundred for the argon2 check's fraction of a second).

A success resets nothing: neither the account's count nor the address's (an attacker who knows one password cannot
clear the count of the address for guessing others; a user who mistyped keeps the attempts left).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import case, delete, func, select, text

from ..domain.limits import Limit, longest_window, parse_limits, refusal_message, retry_after, throttle_key
from ..extensions import db
from ..models import LoginFailure

PRUNE_BATCH = 100  # rows past every window removed per attempt, at most: the table stays at a window's failures
# PostgreSQL advisory lock classes (pg_advisory_xact_lock(int, int)): one per kind of key.
_LOCK_ACCOUNT, _LOCK_ADDRESS = 18_021, 18_022
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:kind, hashtext(:key))")  # released at commit or rollback


class Throttled(Exception):
    """Too many failed attempts: wait `retry_after` seconds."""

    def __init__(self, retry_after: int, by_account: bool):
        self.retry_after = retry_after
        self.message = refusal_message(retry_after, by_account)
        super().__init__(self.message)


@dataclass(frozen=True)
class Limits:
    account: tuple[Limit, ...]
    address: tuple[Limit, ...]


def configured_limits(config=None) -> Limits:
    """The limits of LOGIN_LIMIT_PER_ACCOUNT and LOGIN_LIMIT_PER_ADDRESS (ValueError when one is not a limit)."""
    config = config if config is not None else current_app.config
    return Limits(parse_limits(config["LOGIN_LIMIT_PER_ACCOUNT"]), parse_limits(config["LOGIN_LIMIT_PER_ADDRESS"]))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def check(account, address) -> int:
    """Refuse (Throttled) an attempt on `account` from `address` when either has reached a limit; otherwise count
    it as a failure, committed, and return its id for `succeeded`. Commits the session: call it before the request
    writes anything."""
    account, address = throttle_key(account), throttle_key(address)
    limits = configured_limits()
    now = _now()
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            # In this order everywhere: two attempts never wait for each other's second lock.
            for kind, key in ((_LOCK_ACCOUNT, account), (_LOCK_ADDRESS, address)):
                db.session.execute(_ADVISORY_LOCK, {"kind": kind, "key": key})
        # SQLite: the INSERT comes first, so the count below runs holding the write lock, on the newest data.
        attempt = LoginFailure(at=now, account=account, address=address)
        db.session.add(attempt)
        db.session.flush()
        refusals = [r for r in (
            _refusal(LoginFailure.account == account, limits.account, attempt.id, now, by_account=True),
            _refusal(LoginFailure.address == address, limits.address, attempt.id, now, by_account=False)) if r]
        if refusals:
            db.session.rollback()  # a refused attempt is not counted: waiting ends the refusal
            raise max(refusals, key=lambda r: r.retry_after)  # the wait after which an attempt gets through
        _prune(now - timedelta(seconds=longest_window(limits.account, limits.address)))
        db.session.commit()
    except Throttled:
        raise
    except BaseException:
        db.session.rollback()
        raise
    return attempt.id


def succeeded(attempt_id: int) -> None:
    """The attempt `check` counted was not a wrong credential (the right password, or no password checked at all):
    its row goes, in a transaction of its own. What the request left uncommitted is discarded first, as the end of
    the request would discard it."""
    db.session.rollback()
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    db.session.commit()


def _refusal(where, limits: tuple[Limit, ...], own_id: int, now: datetime, *, by_account: bool) -> Throttled | None:
    """Throttled if the failures before this attempt reach one of the limits (the longest wait), else None."""
    longest = max(limit.seconds for limit in limits)
    counts = db.session.execute(
        select(*[func.coalesce(func.sum(case((LoginFailure.at > now - timedelta(seconds=limit.seconds), 1),
                                             else_=0)), 0) for limit in limits])
        .where(where, LoginFailure.id != own_id, LoginFailure.at > now - timedelta(seconds=longest))
    ).one()
    waits = []
    for limit, count in zip(limits, counts):
        if count >= limit.count:
            recent = db.session.scalars(
                select(LoginFailure.at).where(where, LoginFailure.id != own_id,
                                              LoginFailure.at > now - timedelta(seconds=limit.seconds))
                .order_by(LoginFailure.at.desc()).limit(limit.count)).all()
            waits.append(retry_after(now.timestamp(), limit, [at.timestamp() for at in recent]))
    waits = [w for w in waits if w > 0]
    return Throttled(max(waits), by_account) if waits else None


def _prune(cutoff: datetime) -> None:
    """Delete up to PRUNE_BATCH of the oldest rows when they are past every window (bounded: the first rows by id,
    not a scan for old ones); rows another attempt is pruning are skipped, not waited for."""
    oldest = select(LoginFailure.id).order_by(LoginFailure.id).limit(PRUNE_BATCH).subquery()
    stale = db.session.scalars(
        select(LoginFailure.id).where(LoginFailure.id.in_(select(oldest.c.id)), LoginFailure.at < cutoff)
        .with_for_update(skip_locked=True)).all()
    if stale:
        db.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(stale)),
                           execution_options={"synchronize_session": False})
