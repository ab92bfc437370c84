"""约谈 (issue 32, point 7): the district records a talk with a unit that fails or lags — date, who took part, the
points raised, requirements with deadlines, the minutes as a file; the unit's lead files a written report within 30
days; the district checks it. Its 约谈通报 is published once and then never changes (`notice` holds it as
published). Each change commits once, with its audit row.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .. import access
from ..domain import rectification as rules
from ..extensions import db
from ..models import Interview, OrgUnit, Round, User
from ..models.base import utcnow
from . import audit, doc_numbers, moves
from .errors import Conflict, Invalid, NotAllowed, NotFound, _l
from .rectification import _district, _text, is_unit_lead, store_file
from .storage import storage

MAX_REQUIREMENTS = 5


@dataclass
class Requirement:
    text: str
    due: date | None


def can_see(user: User, interview: Interview) -> bool:
    return access.sees_as_lead(user, interview.unit)


def get_visible(user: User, interview_id: int) -> Interview:
    found = db.session.get(Interview, interview_id)
    if found is None or not can_see(user, found):
        raise NotFound("interview.not_found", _l("约谈记录不存在"))
    return found


def visible(user: User) -> list[Interview]:
    scope = access.unit_lead_scope(user, Interview.unit_id)
    return [] if scope is None else list(db.session.scalars(
        select(Interview).where(scope).order_by(Interview.id.desc())))


def record(unit_id: int | None, round_id: int | None, held_on: date | None, participants: str, points_raised: str,
           requirements: list[Requirement], minutes: bytes, minutes_name: str, user: User, *,
           address: str | None = None) -> Interview:
    """Record a 约谈 with its minutes (a file checked by content); the unit's report is due 30 days after it."""
    _district(user)
    problems = {}
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    if unit is None or unit.level not in ("township", "village"):
        problems["unit"] = _l("请选择被约谈的镇(街道)或村(社区)")
    if round_id is not None and db.session.get(Round, round_id) is None:
        problems["round"] = _l("批次不存在")
    if held_on is None:
        problems["held_on"] = _l("请填写约谈日期")
    given = [r for r in requirements if (r.text or "").strip() or r.due is not None]
    if not given:
        problems["requirements-0-text"] = _l("请至少填写一项整改要求")
    for i, req in enumerate(given):
        if not (req.text or "").strip():
            problems[f"requirements-{i}-text"] = _l("请填写要求")
        if req.due is None:
            problems[f"requirements-{i}-due"] = _l("请填写完成期限")
        elif held_on is not None and req.due < held_on:
            problems[f"requirements-{i}-due"] = _l("完成期限不能早于约谈日期")
    if problems:
        raise Invalid("interview.invalid", next(iter(problems.values())), problems)
    participants = _text("interview.invalid", "participants", _l("参加人员"), participants)
    points_raised = _text("interview.invalid", "points_raised", _l("约谈指出的问题"), points_raised)
    texts = [_text("interview.invalid", f"requirements-{i}-text", _l("要求"), r.text) for i, r in enumerate(given)]
    interview = Interview(round_id=round_id, unit_id=unit.id, held_on=held_on, participants=participants,
                          points_raised=points_raised, requirements=[[t, r.due.isoformat()] for t, r in zip(texts, given)],
                          report_due=rules.interview_report_due(held_on), created_by_id=user.id)
    db.session.add(interview)
    db.session.flush()
    found = store_file(minutes, minutes_name, "minutes", user, field="minutes", interview_id=interview.id)
    try:
        db.session.flush()
        audit.record("interview.record", user=user, address=address, obj=interview, unit_id=unit.id,
                     round_id=round_id, new={"held_on": held_on.isoformat(), "minutes": found.sha256})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage().delete(found.storage_key)
        raise
    return interview


def file_report(interview: Interview, text: str, data: bytes, filename: str, user: User, *,
                address: str | None = None) -> None:
    """The unit's lead files its written report (text and a file); a late report is marked, never refused."""
    if not is_unit_lead(user, interview.unit_id):
        raise NotAllowed("interview.unit_only", _l("只有被约谈单位可以报送书面报告"))
    if interview.checked_at is not None:
        raise Conflict("interview.checked", _l("书面报告已经区级审核，不能再报送"))
    text = _text("interview.report_invalid", "text", _l("落实情况"), text)
    found = store_file(data, filename, "interview_report", user, field="report_file", interview_id=interview.id)
    try:
        interview.report_text = text
        interview.reported_at = utcnow()
        interview.reported_by_id = user.id
        db.session.flush()
        audit.record("interview.report", user=user, address=address, obj=interview, unit_id=interview.unit_id,
                     round_id=interview.round_id, new={"name": found.original_name, "sha256": found.sha256})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage().delete(found.storage_key)
        raise


def check(interview: Interview, note: str, user: User, *, address: str | None = None) -> None:
    """The district checks the unit's report (an opinion), once."""
    _district(user)
    if interview.reported_at is None:
        raise Conflict("interview.no_report", _l("单位尚未报送书面报告"))
    if interview.checked_at is not None:
        raise Conflict("interview.checked", _l("书面报告已经区级审核"))
    note = _text("interview.check_invalid", "note", _l("审核意见"), note)
    interview.check_note = note
    interview.checked_at = utcnow()
    interview.checked_by_id = user.id
    audit.record("interview.check", user=user, address=address, obj=interview, unit_id=interview.unit_id,
                 round_id=interview.round_id, detail=note)
    db.session.commit()


def publish_notice(interview: Interview, user: User, *, address: str | None = None) -> None:
    """Publish the 约谈通报: what it says is frozen now (`notice`) and never changes."""
    _district(user)
    if interview.notice_published_at is not None:
        raise Conflict("interview.notice_published", _l("约谈通报已发布，不能更改"))
    unit = interview.unit
    township = access.township_of(unit)
    at = utcnow()
    round_ = db.session.get(Round, interview.round_id) if interview.round_id else None
    interview.number = doc_numbers.take(doc_numbers.INTERVIEW, moves.today_local().year).text  # the year of issue
    interview.notice = {
        "unit": unit.name, "township": township.name if township and township.id != unit.id else "",
        "round": round_.name if round_ else "",
        "held_on": interview.held_on.isoformat(), "participants": interview.participants,
        "points_raised": interview.points_raised, "requirements": interview.requirements,
        "report_due": interview.report_due.isoformat(), "number": interview.number,
        "published_at": at.isoformat()}
    interview.notice_published_at = at
    audit.record("interview.notice", user=user, address=address, obj=interview, unit_id=interview.unit_id,
                 round_id=interview.round_id, new={"number": interview.number})
    db.session.commit()


def requirements_of(interview: Interview) -> list[tuple[str, date]]:
    return [(text, date.fromisoformat(due)) for text, due in interview.requirements]

