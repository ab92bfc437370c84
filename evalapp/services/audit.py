"""Audit rows, added to the caller's transaction so that a change and its record commit together.

The actor and the client's address are arguments: a service is told who acts and from where (the views pass
`request.remote_addr`, which ProxyFix sets from the proxy's header in production; the CLI and the seed pass their
user or none, and no address). Nothing here reads the request.
"""
from sqlalchemy import insert

from ..extensions import db
from ..models import AuditEvent, User

_INSERT = insert(AuditEvent)


def record(action: str, *, user: User | None = None, address: str | None = None, obj=None,
           unit_id: int | None = None, round_id: int | None = None, old: dict | None = None,
           new: dict | None = None, detail: str = "") -> None:
    """Write an audit event by `user` (None: no one signed in, the system) from `address` (None: not over HTTP) in
    the session's transaction; the caller commits it with the change it describes.

    A Core INSERT on the session's connection, not an ORM object: it runs on every autosave, and nothing reads the
    event back in the same request. Every call in the app names both `user` and `address`
    (tests/test_audit_actor.py); the defaults are for tests' own rows.
    """
    db.session.connection().execute(_INSERT, {  # the values as parameters: the statement is built once
        "user_id": user.id if user is not None else None,
        "action": action,
        "object_type": type(obj).__name__ if obj is not None else "",
        "object_id": getattr(obj, "id", None),
        "unit_id": unit_id,
        "round_id": round_id,
        "old": old,
        "new": new,
        "detail": detail,
        "ip": address[:64] if address else None,  # (the column's width; an address is at most 45)
    })


def search(username: str = "", unit_code: str = "", action: str = "", date_from: str = "", date_to: str = "",
           limit: int | None = 500):
    """Audit events, newest first, filtered by user, unit, action (prefix) and date (Asia/Shanghai days)."""
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from ..models import OrgUnit

    tz = ZoneInfo("Asia/Shanghai")
    query = select(AuditEvent).options(selectinload(AuditEvent.user)).order_by(AuditEvent.id.desc())
    if username:
        query = query.join(User, User.id == AuditEvent.user_id).where(User.username == username.strip().lower())
    if unit_code:
        query = query.join(OrgUnit, OrgUnit.id == AuditEvent.unit_id).where(OrgUnit.code == unit_code.strip())
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip()[:64]))
    for raw, op in ((date_from, "from"), (date_to, "to")):
        if raw:
            try:
                day = date.fromisoformat(raw.strip())
            except ValueError:
                continue
            start = datetime.combine(day, time.min, tz)
            if op == "from":
                query = query.where(AuditEvent.at >= start)
            else:
                query = query.where(AuditEvent.at < start + timedelta(days=1))
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()
