"""What each user's offline devices hold unsent (issue 31, point 7): a device reports, per sheet, how many changes it
still holds (POST /devices/report, or the sync call's `pending`); the leader and the district see which inspectors'
devices still hold changes for a round, and a member sheet is not submitted while its inspector's device reported
changes for it."""
from sqlalchemy import and_, delete, exists, or_, select

from ..extensions import db
from ..models import DevicePending, RoundUnit, Sheet, Team, User
from ..models.base import utcnow
from . import audit


def _filled_by(query, user: User):
    """The sheets among `query` the user fills in on a tablet: their own inspector sheets and, for a team leader,
    the final sheets of the team's units."""
    leads = exists().where(RoundUnit.round_id == Sheet.round_id, RoundUnit.unit_id == Sheet.unit_id,
                           RoundUnit.team_id == Team.id, Team.leader_id == user.id)
    return query.where(or_(and_(Sheet.kind == "inspector", Sheet.inspector_id == user.id),
                           and_(Sheet.kind == "final", leads)))


def _current(user: User, device_id: str) -> dict[int, int]:
    return dict(db.session.execute(select(DevicePending.sheet_id, DevicePending.count).where(
        DevicePending.user_id == user.id, DevicePending.device_id == device_id)).all())


def store_in(user: User, device_id: str, pending: dict[int, int] | int, *, address: str | None = None) -> bool:
    """In the caller's transaction: the device's report replaces what it reported before — `pending` per sheet id
    (counts of 0 and sheets the user may not fill in are dropped), or a total, of which 0 clears the device's counts
    and any other number leaves them as they are. Returns whether anything changed (then audited)."""
    before = _current(user, device_id)
    if isinstance(pending, int):
        if pending:
            return False
        after: dict[int, int] = {}
    else:
        wanted = {sheet_id: count for sheet_id, count in pending.items() if count > 0}
        own = set(db.session.scalars(_filled_by(select(Sheet.id).where(Sheet.id.in_(list(wanted))), user))
                  ) if wanted else set()
        after = {sheet_id: count for sheet_id, count in wanted.items() if sheet_id in own}
    if after == before:
        return False
    now = utcnow()
    db.session.execute(delete(DevicePending).where(DevicePending.user_id == user.id,
                                                   DevicePending.device_id == device_id))
    db.session.add_all(DevicePending(user_id=user.id, device_id=device_id, sheet_id=sheet_id, count=count,
                                     reported_at=now) for sheet_id, count in sorted(after.items()))
    audit.record("device.pending", user=user, address=address, obj=user, old={"device": device_id,
                 "pending": {str(k): v for k, v in before.items()}},
                 new={"device": device_id, "pending": {str(k): v for k, v in after.items()}})
    return True


def report(user: User, device_id: str, pending: dict[int, int] | int, *, address: str | None = None) -> None:
    """store_in as a unit of work of its own: committed when something changed."""
    try:
        if store_in(user, device_id, pending, address=address):
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
