"""What each user's offline devices hold unsent (issue 31, point 7): a device reports, per sheet, how many changes it
still holds (POST /devices/report, or the sync call's `pending`); the leader and the district see which inspectors'
devices still hold changes for a round, and a member sheet is not submitted while its inspector's device reported
changes for it."""
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, delete, exists, func, or_, select

from ..extensions import db
from ..models import DevicePending, OrgUnit, RoundUnit, Sheet, Team, User
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


@dataclass(frozen=True)
class Pending:
    """Changes a user's devices reported unsent for one sheet: who, which unit, how many, when last reported."""

    user_id: int
    name: str
    sheet_id: int
    kind: str
    unit: str
    count: int
    devices: int
    reported_at: datetime


def pending_in_round(round_id: int, unit_id: int | None = None) -> list[Pending]:
    """Every sheet of the round (of one unit: `unit_id`) whose filler's devices reported changes unsent, one
    statement: by unit, then person."""
    query = (select(DevicePending.user_id, User.display_name, Sheet.id, Sheet.kind, OrgUnit.name,
                    func.sum(DevicePending.count), func.count(DevicePending.device_id),
                    func.max(DevicePending.reported_at))
             .join(Sheet, Sheet.id == DevicePending.sheet_id).join(User, User.id == DevicePending.user_id)
             .join(OrgUnit, OrgUnit.id == Sheet.unit_id)
             .where(Sheet.round_id == round_id, DevicePending.count > 0)
             .group_by(DevicePending.user_id, User.display_name, Sheet.id, Sheet.kind, OrgUnit.name, OrgUnit.code)
             .order_by(OrgUnit.code, User.display_name, Sheet.id))
    if unit_id is not None:
        query = query.where(Sheet.unit_id == unit_id)
    return [Pending(*row[:5], int(row[5]), row[6], _aware(row[7])) for row in db.session.execute(query)]


def _aware(value) -> datetime:
    """MAX() of a UTC column, as the driver gives it (SQLite: text, naive; PostgreSQL: naive): aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def pending_of(sheet: Sheet) -> tuple[int, datetime | None]:
    """(changes, when last reported) that the devices of the sheet's own filler reported unsent for it."""
    owner = sheet.inspector_id
    if owner is None:
        return 0, None
    count, at = db.session.execute(select(func.sum(DevicePending.count), func.max(DevicePending.reported_at)).where(
        DevicePending.sheet_id == sheet.id, DevicePending.user_id == owner, DevicePending.count > 0)).one()
    if not count:
        return 0, None
    return int(count), _aware(at)
