"""The working-day calendar an admin keeps, and the 公示 of a published version (issue 32, point 2).

The server's clock decides whether a notice is open: `_now()` here is the one clock every service of this area
reads (tests monkeypatch it)."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from ..domain.workdays import BEIJING, MAX_LENGTH, Calendar, end_of_day, last_working_day
from ..extensions import db
from ..models import CalendarDay, NoticePeriod, Round, User
from . import audit, locks, readmodel
from .errors import Conflict, Invalid, _l, check_text

DEFAULT_LENGTH = 7
DEFAULT_ANSWER_DAYS = 15
MAX_TEXT = 5000
CALENDAR_KINDS = ("holiday", "workday")


def _now() -> datetime:
    """The server's time, aware (UTC)."""
    return datetime.now(timezone.utc)


def today() -> date:
    """Today in Beijing, by the server's clock."""
    return _now().astimezone(BEIJING).date()


# -- the calendar ------------------------------------------------------------------------------------------------

def calendar() -> Calendar:
    """The district's calendar as the domain reads it (one query)."""
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return Calendar(holidays=frozenset(d for d, k in rows if k == "holiday"),
                    workdays=frozenset(d for d, k in rows if k == "workday"))


def calendar_days(year: int | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(query))


def set_day(day: date, kind: str, note: str, user: User, *, address: str | None = None) -> CalendarDay:
    """Record a holiday or a 调休 working day (replacing what the day held), audited."""
    note = (note or "").strip()
    if kind not in CALENDAR_KINDS:
        raise Invalid("calendar.kind", _l("请选择节假日或调休上班日"), {"kind": _l("请选择节假日或调休上班日")})
    check_text("calendar.note_invalid", "note", _l("说明"), note)
    if len(note) > 100:
        raise Invalid("calendar.note_invalid", _l("说明不能超过100字"), {"note": _l("说明不能超过100字")})
    row = db.session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    old = {"kind": row.kind, "note": row.note} if row else None
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.kind, row.note = kind, note
    db.session.flush()
    audit.record("calendar.set", user=user, address=address, obj=row, old=old,
                 new={"day": day.isoformat(), "kind": kind, "note": note})
    db.session.commit()
    return row


def remove_day(row: CalendarDay, user: User, *, address: str | None = None) -> None:
    audit.record("calendar.remove", user=user, address=address, obj=row,
                 old={"day": row.day.isoformat(), "kind": row.kind, "note": row.note})
    db.session.delete(row)
    db.session.commit()


# -- the notice period -------------------------------------------------------------------------------------------

def notice_of(round_id: int) -> NoticePeriod | None:
    return db.session.scalar(select(NoticePeriod).where(NoticePeriod.round_id == round_id))


def starts_at(notice: NoticePeriod) -> datetime:
    return datetime.combine(notice.start, time(0), tzinfo=BEIJING)


def ends_at(notice: NoticePeriod) -> datetime:
    """24:00 Beijing time on the notice's last working day."""
    return end_of_day(notice.last_day)


def state(notice: NoticePeriod | None, now: datetime | None = None) -> str:
    """none, pending (not begun), open, closed (ended), settled (结果确定)."""
    if notice is None:
        return "none"
    if notice.settled_at is not None:
        return "settled"
    now = now or _now()
    if now < starts_at(notice):
        return "pending"
    return "open" if now < ends_at(notice) else "closed"


def open_notice(round_: Round, start: date, length: int, text: str, user: User, *,
                answer_days: int = DEFAULT_ANSWER_DAYS, address: str | None = None) -> NoticePeriod:
    """Open the 公示 of the round's latest published version (the district): from `start` for `length` working
    days; the re-checks answer within `answer_days` of assignment. One per round."""
    locks.lock_round(round_)
    text = (text or "").strip()
    latest = readmodel.latest(round_.id)
    if round_.status != "published" or latest is None:
        raise Conflict("notice.not_published", _l("该批次尚未公布结果，不能公示"))
    if notice_of(round_.id) is not None:
        raise Conflict("notice.exists", _l("该批次已公示"))
    fields = {}
    if not isinstance(length, int) or not 1 <= length <= MAX_LENGTH:
        fields["length"] = _l("公示期为1至%(max)s个工作日", max=MAX_LENGTH)
    if not isinstance(answer_days, int) or not 1 <= answer_days <= 90:
        fields["answer_days"] = _l("复核答复期限为1至90天")
    if start < today() - timedelta(days=30):
        fields["start"] = _l("公示开始日期不能早于30天前")
    if len(text) > MAX_TEXT:
        fields["text"] = _l("公示说明不能超过%(max)s字", max=MAX_TEXT)
    if fields:
        raise Invalid("notice.invalid", _l("输入有误，请检查"), fields)
    check_text("notice.invalid", "text", _l("公示说明"), text, box=True)
    last = last_working_day(start, length, calendar())
    notice = NoticePeriod(round_id=round_.id, version=latest.version, start=start, length=length, last_day=last,
                          text=text, answer_days=answer_days, opened_by_id=user.id, opened_at=_now())
    db.session.add(notice)
    db.session.flush()
    audit.record("notice.open", user=user, address=address, obj=notice, round_id=round_.id,
                 new={"version": latest.version, "start": start.isoformat(), "length": length,
                      "last_day": last.isoformat(), "answer_days": answer_days})
    db.session.commit()
    return notice


@dataclass
class NoticeList:
    """What the printed 公示 shows: the version and its units by township."""

    notice: NoticePeriod
    publication: object
    townships: list[tuple[str, list]]  # (township name, [PublishedUnit rows])


def notice_list(notice: NoticePeriod) -> NoticeList:
    """The published version's units, grouped by township in the version's order (one query)."""
    publication = readmodel.version_of(notice.round_id, notice.version)
    groups: dict[str, list] = {}
    for row in readmodel.unit_rows(publication.id):
        groups.setdefault(row.township_name or row.name, []).append(row)
    return NoticeList(notice, publication, list(groups.items()))


def may_see(user: User, round_: Round) -> bool:
    """The 公示 list of a round: the all-seeing roles, and the leads of units in the round's scope."""
    if user.role in ("admin", "district", "finance"):
        return True
    if user.role in ("township", "village") and user.unit_id is not None:
        from ..models import RoundUnit, OrgUnit
        return db.session.scalar(select(RoundUnit.id).join(OrgUnit, OrgUnit.id == RoundUnit.unit_id).where(
            RoundUnit.round_id == round_.id,
            (RoundUnit.unit_id == user.unit_id) | (OrgUnit.parent_id == user.unit_id)).limit(1)) is not None
    return False
