"""Audit rows, added to the caller's transaction so that a change and its record commit together."""
from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent, User


def client_ip() -> str | None:
    """The client address as the app sees it (ProxyFix sets it from the proxy's header in production)."""
    return request.remote_addr if has_request_context() else None


def record(action: str, *, user: User | None = None, obj=None, unit_id: int | None = None,
           round_id: int | None = None, old: dict | None = None, new: dict | None = None,
           detail: str = "") -> AuditEvent:
    """Add an audit event to the current session; the caller commits it with the change it describes."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        user_id=user.id if user is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        unit_id=unit_id,
        round_id=round_id,
        old=old,
        new=new,
        detail=detail,
        ip=client_ip(),
    )
    db.session.add(event)
    return event
