"""代填: a township lead's changes of an account-less village's self sheet (the rule: access.fills_for_village),
recorded on the sheet (proxy_by) and on each audit row, and the mark the pages and the paper show."""
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import OrgUnit, Round, Sheet, User


def acting_for(user: User, sheet: Sheet) -> bool:
    """Whether this user's change of the sheet is made for another unit (代填): a self sheet changed by a township
    lead not of its unit. The permission was checked before (access.can_edit_sheet): only a township lead for an
    account-less village of its own gets here."""
    return (sheet.kind == "self" and user is not None and user.role == "township"
            and user.unit_id != sheet.unit_id)


def note_in(sheet: Sheet, user: User, new: dict | None) -> dict | None:
    """In the caller's transaction: when the change is a 代填, record its filler on the sheet and return the audit
    row's `new` with `proxy_by` (the filler's user id) and `proxy_for` (the village's unit id); else `new` as given."""
    if not acting_for(user, sheet):
        return new
    db.session.execute(update(Sheet).where(Sheet.id == sheet.id, or_(Sheet.proxy_by_id.is_(None),
                                                                     Sheet.proxy_by_id != user.id))
                       .values(proxy_by_id=user.id).execution_options(synchronize_session=False))
    db.session.expire(sheet, ["proxy_by_id", "proxy_by"])
    return {**(new or {}), "proxy_by": user.id, "proxy_for": sheet.unit_id}


@dataclass(frozen=True)
class ProxyMark:
    """Who filled in a sheet for its unit: the township and the person."""

    township: str
    name: str


def mark_of(sheet: Sheet | None) -> ProxyMark | None:
    """The sheet's 代填 mark (None: its unit filled it itself)."""
    if sheet is None or sheet.proxy_by_id is None:
        return None
    row = db.session.execute(select(User.display_name, OrgUnit.name).outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
                             .where(User.id == sheet.proxy_by_id)).first()
    return ProxyMark(row[1] or "", row[0]) if row else None


def fillable(user: User) -> list:
    """The self sheets this township lead may fill in now for its account-less villages (代填): open to their owner
    (self-assessment, draft or returned), as progress rows in unit order (one statement, whatever the number)."""
    from .. import access
    from .overview import _in_unit_order, _sheets, open_to_owner, sheet_rows

    if user.role != "township":
        return []
    return sheet_rows(_sheets(_in_unit_order(
        select(Sheet).join(Round, Round.id == Sheet.round_id)
        .where(access.proxy_sheets(user), open_to_owner()).order_by(Sheet.round_id.desc()))))
