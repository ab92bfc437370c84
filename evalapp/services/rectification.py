"""整改 and 复查 (issue 32, point 5): the district issues a 整改通知 to each unit that did not pass in a published
version; the unit asks for extensions and reports back (整改报告, a text and a file); a team the district assigns
re-inspects (复查) and records 整改后通过 or 仍不合格 — a result of its own, beside the published one, which never
changes. The rules are domain.rectification's; each change commits once, with its audit row.

Who does what: the district (and admin) issue, decide extensions, assign 复查 and open a second chance; the unit's
own lead (its township or village account) asks and reports; the leader of the assigned team records the 复查.
Everyone else who may see the unit (access.can_view_unit) reads; anyone else gets a 404.
"""
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext
from sqlalchemy import case, func, select

from .. import access
from ..domain import rectification as rules
from ..domain.filenames import with_extension
from ..extensions import db
from ..models import (OrgUnit, Publication, PublishedScore, PublishedUnit, Recheck, RecheckScore, Rectification,
                      RectificationExtension, RectifyFile, Round, Team, TeamMember, User)
from ..models.base import utcnow
from . import audit, doc_numbers, locks, versions
from .documents import MAX_DOCUMENT_BYTES, TYPES
from .errors import Conflict, Invalid, NotAllowed, NotFound, _l, check_text, marked, shown
from .filecheck import verify
from .readmodel import latest
from .storage import storage

TEXT_MAX = 5000
DISTRICT_ROLES = ("district", "admin")


# -- who -----------------------------------------------------------------------------------------------------------

def is_district(user: User) -> bool:
    return user.role in DISTRICT_ROLES


def is_unit_lead(user: User, unit_id: int) -> bool:
    """The unit's own account: its township lead (a township) or its 协理员 (a village)."""
    return user.role in ("township", "village") and user.unit_id == unit_id


def _team_ids_of(user: User):
    return select(TeamMember.team_id).where(TeamMember.user_id == user.id)


def can_see(user: User, rect: Rectification) -> bool:
    """All-seeing roles; the unit's own township and village leads (access.can_view_unit); the members of a team
    assigned to re-inspect it."""
    if user.role == "inspector":
        return db.session.scalar(select(func.count(Recheck.id)).where(
            Recheck.rectification_id == rect.id, Recheck.team_id.in_(_team_ids_of(user)))) > 0
    return access.sees_as_lead(user, db.session.get(OrgUnit, rect.unit_id))


def visible(user: User) -> list[Rectification]:
    """The rectifications the user may see, newest first."""
    scope = access.unit_lead_scope(user, Rectification.unit_id)
    if user.role == "inspector":
        scope = Rectification.id.in_(select(Recheck.rectification_id).where(Recheck.team_id.in_(_team_ids_of(user))))
    return [] if scope is None else list(db.session.scalars(
        select(Rectification).where(scope).order_by(Rectification.id.desc())))


def get_visible(user: User, rect_id: int) -> Rectification:
    """The rectification, or NotFound for one the user may not see (no hint that it exists)."""
    rect = db.session.get(Rectification, rect_id)
    if rect is None or not can_see(user, rect):
        raise NotFound("rectification.not_found", _l("整改记录不存在"))
    return rect


# -- reading -------------------------------------------------------------------------------------------------------

@dataclass
class Candidate:
    unit: PublishedUnit
    rectification: Rectification | None


def candidates(round_id: int) -> tuple[Publication | None, list[Candidate]]:
    """The latest version's units that did not pass, each with its 整改通知 if issued (two queries)."""
    pub = latest(round_id)
    if pub is None:
        return None, []
    units = db.session.scalars(select(PublishedUnit).where(
        PublishedUnit.publication_id == pub.id, PublishedUnit.result.in_(rules.RECTIFIABLE_RESULTS))
        .order_by(PublishedUnit.position)).all()
    issued = {r.unit_id: r for r in db.session.scalars(select(Rectification).where(Rectification.round_id == round_id))}
    return pub, [Candidate(u, issued.get(u.unit_id)) for u in units]


@dataclass
class LostLine:
    code: str
    title: str
    max_points: Decimal
    points: Decimal | None
    lost: Decimal
    reason: str
    deductions: list


def lost_lines(rect: Rectification) -> list[LostLine]:
    """The indicators the unit lost points on in the version the notice was issued on, with the deductions."""
    rows = db.session.scalars(select(PublishedScore).where(
        PublishedScore.publication_id == rect.publication_id, PublishedScore.unit_code == rect.unit_code)
        .order_by(PublishedScore.id)).all()
    return [LostLine(s.indicator_code, s.title, s.max_points, s.points,
                     s.max_points - (s.points if s.points is not None else Decimal(0)), s.reason, s.deductions or [])
            for s in rows if s.points is None or s.points < s.max_points]


def published_unit(rect: Rectification) -> PublishedUnit | None:
    return db.session.scalar(select(PublishedUnit).where(PublishedUnit.publication_id == rect.publication_id,
                                                         PublishedUnit.code == rect.unit_code))


def recheck_lines(rect: Rectification, scope: str) -> list[rules.RecheckLine]:
    rows = db.session.scalars(select(PublishedScore).where(
        PublishedScore.publication_id == rect.publication_id, PublishedScore.unit_code == rect.unit_code)
        .order_by(PublishedScore.id)).all()
    return rules.in_scope([rules.RecheckLine(s.indicator_code, s.max_points, s.points) for s in rows], scope)


def titles(rect: Rectification) -> dict[str, str]:
    return dict(db.session.execute(select(PublishedScore.indicator_code, PublishedScore.title).where(
        PublishedScore.publication_id == rect.publication_id, PublishedScore.unit_code == rect.unit_code)).all())


def round_teams(round_id: int) -> list[Team]:
    return list(db.session.scalars(select(Team).where(Team.round_id == round_id).order_by(Team.id)))


@dataclass
class TownshipProgress:
    township: str
    issued: int
    reported: int
    passed: int
    failed: int
    overdue: int


def progress_by_township(round_id: int, today: date) -> list[TownshipProgress]:
    """Rectification progress per township (the units' township as published): one GROUP BY."""
    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(Rectification.township_name, func.count(Rectification.id), count(Rectification.status != "issued"),
               count(Rectification.status == "passed"), count(Rectification.status == "failed"),
               count((Rectification.status == "issued") & (Rectification.report_due < today)))
        .where(Rectification.round_id == round_id).group_by(Rectification.township_name)
        .order_by(Rectification.township_name)).all()
    return [TownshipProgress(t, n, r or 0, p or 0, f or 0, o or 0) for t, n, r, p, f, o in rows]


# -- checks ----------------------------------------------------------------------------------------------------------

def _text(code: str, field: str, label, text: str, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise Invalid(code, _l("请填写%(field)s", field=label), {field: _l("请填写%(field)s", field=label)})
    check_text(code, field, label, text, box=True)
    if len(text) > TEXT_MAX:
        raise Invalid(code, _l("%(field)s不能超过%(n)s字", field=label, n=TEXT_MAX),
                      {field: _l("%(field)s不能超过%(n)s字", field=label, n=TEXT_MAX)})
    return text


def _invalid(code: str, problems: dict) -> None:
    if problems:
        first = next(iter(problems.values()))
        raise Invalid(code, shown(first), {k: shown(v) for k, v in problems.items()})


def _district(user: User) -> None:
    if not is_district(user):
        raise NotAllowed("rectification.district_only", _l("只有区级可以办理此事项"))


def store_file(data: bytes, original_name: str, purpose: str, user: User, *, field: str,
               rectification_id: int | None = None, interview_id: int | None = None) -> RectifyFile:
    """A file checked by content as the self-assessment documents are (services.filecheck), stored by a generated
    name; added to the session (the caller commits). Invalid under `field` when empty, too large or not a
    document."""
    if not data:
        raise Invalid("rectify.file_empty", _l("请选择要上传的文件"), {field: _l("请选择要上传的文件")})
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Invalid("rectify.file_too_large", _l("文件不能超过20MB"), {field: _l("文件不能超过20MB")})
    try:
        kind = verify(data)
    except Invalid as exc:
        raise exc.under(field, "document") from None
    content_type, suffix = TYPES[kind]
    store = storage()
    key = store.new_key(suffix)
    store.save(key, data)
    found = RectifyFile(rectification_id=rectification_id, interview_id=interview_id, purpose=purpose,
                        storage_key=key, original_name=with_extension(original_name, suffix, "材料"),
                        sha256=hashlib.sha256(data).hexdigest(), content_type=content_type, size=len(data),
                        uploaded_by_id=user.id)
    db.session.add(found)
    return found


def parse_points(raw: str) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# -- changes ---------------------------------------------------------------------------------------------------------

def issue(round_: Round, unit_id: int, user: User, *, today: date, report_due: date | None = None,
          complete_due: date | None = None, address: str | None = None) -> Rectification:
    """Issue a 整改通知 to a unit that did not pass in the round's latest version (deadlines by default one and three
    months on); one per unit and round."""
    _district(user)
    pub = latest(round_.id)
    if pub is None:
        raise Conflict("rectification.not_published", _l("该批次尚未公布结果，不能下发整改通知"))
    unit = db.session.scalar(select(PublishedUnit).where(PublishedUnit.publication_id == pub.id,
                                                         PublishedUnit.unit_id == unit_id))
    if unit is None:
        raise NotFound("rectification.unit_not_found", _l("该单位不在已公布的结果中"))
    if not rules.rectifiable(unit.result):
        raise Conflict("rectification.not_failing", _l("%(unit)s的公布结果为“%(result)s”，不需要整改",
                                                       unit=unit.name, result=marked(result_label(unit.result))))
    default_report, default_complete = rules.default_deadlines(today)
    report_due, complete_due = report_due or default_report, complete_due or default_complete
    _invalid("rectification.deadlines", rules.deadline_problems(today, report_due, complete_due))
    locks.lock_round(round_)
    if db.session.scalar(select(Rectification.id).where(Rectification.round_id == round_.id,
                                                        Rectification.unit_id == unit_id)) is not None:
        db.session.rollback()
        raise Conflict("rectification.already_issued", _l("已向%(unit)s下发整改通知", unit=unit.name))
    rect = Rectification(round_id=round_.id, publication_id=pub.id, version=pub.version, unit_id=unit_id,
                         unit_code=unit.code, unit_name=unit.name, unit_level=unit.level,
                         township_name=unit.township_name, result=unit.result, final_total=unit.final_total,
                         issued_on=today, issued_by_id=user.id, report_due=report_due, complete_due=complete_due,
                         status="issued", rechecks_allowed=1,
                         number=doc_numbers.take(doc_numbers.RECTIFY, today.year).text)  # 文号: the year of issue
    db.session.add(rect)
    db.session.flush()
    audit.record("rectify.issue", user=user, address=address, obj=rect, unit_id=unit_id, round_id=round_.id,
                 new={"version": pub.version, "number": rect.number, "report_due": report_due.isoformat(),
                      "complete_due": complete_due.isoformat()})
    db.session.commit()
    return rect


def result_label(result: str) -> str:
    from ..domain.vocabulary import Result
    try:
        return Result(result).zh
    except ValueError:
        return result


def ask_extension(rect: Rectification, deadline: str, asked: date | None, reason: str, user: User, *,
                  address: str | None = None) -> RectificationExtension:
    """The unit's lead asks for a later date (the report's or the completion's), with a reason."""
    if not is_unit_lead(user, rect.unit_id):
        raise NotAllowed("rectification.unit_only", _l("只有被整改单位可以申请延期"))
    if deadline not in ("report", "complete"):
        raise Invalid("rectification.extension_deadline", _l("请选择要延长的期限"), {"deadline": _l("请选择要延长的期限")})
    if rect.status in ("passed", "failed") or (deadline == "report" and rect.status != "issued"):
        raise Conflict("rectification.extension_closed", _l("该期限已无需延长"))
    current = rect.report_due if deadline == "report" else rect.complete_due
    problems = {}
    if (problem := rules.extension_problem(current, asked)) is not None:
        problems["new_date"] = problem
    _invalid("rectification.extension_invalid", problems)
    reason = _text("rectification.extension_invalid", "reason", _l("延期理由"), reason)
    if any(e.decision is None for e in rect.extensions):
        raise Conflict("rectification.extension_pending", _l("已有延期申请待区级答复"))
    ext = RectificationExtension(rectification_id=rect.id, deadline=deadline, asked_date=asked, reason=reason,
                                 asked_by_id=user.id)
    db.session.add(ext)
    db.session.flush()
    db.session.expire(rect, ["extensions"])
    audit.record("rectify.extension_ask", user=user, address=address, obj=ext, unit_id=rect.unit_id,
                 round_id=rect.round_id, new={"deadline": deadline, "date": asked.isoformat()}, detail=reason)
    db.session.commit()
    return ext


def decide_extension(ext: RectificationExtension, grant: bool, granted: date | None, answer: str, user: User, *,
                     address: str | None = None) -> None:
    """The district grants (the new date: the one asked unless it sets another) or refuses (with why)."""
    _district(user)
    rect = ext.rectification
    if ext.decision is not None:
        raise Conflict("rectification.extension_decided", _l("该延期申请已答复"))
    current = rect.report_due if ext.deadline == "report" else rect.complete_due
    if grant:
        granted = granted or ext.asked_date
        if (problem := rules.extension_problem(current, granted)) is not None:
            _invalid("rectification.extension_invalid", {"granted_date": problem})
        answer = _text("rectification.extension_invalid", "answer", _l("答复"), answer, required=False)
        if ext.deadline == "report":
            rect.report_due = granted
            if rect.complete_due < granted:
                rect.complete_due = granted
        else:
            rect.complete_due = granted
        ext.granted_date = granted
    else:
        answer = _text("rectification.extension_invalid", "answer", _l("不同意的理由"), answer)
    ext.decision = "granted" if grant else "refused"
    ext.answer = answer
    ext.decided_at = utcnow()
    ext.decided_by_id = user.id
    audit.record("rectify.extension_decide", user=user, address=address, obj=ext, unit_id=rect.unit_id,
                 round_id=rect.round_id, old={"due": current.isoformat()},
                 new={"decision": ext.decision, "date": granted.isoformat() if grant else None}, detail=answer)
    db.session.commit()


def submit_report(rect: Rectification, text: str, data: bytes, filename: str, user: User, *,
                  address: str | None = None) -> RectifyFile:
    """The unit's lead files its 整改报告: what was done (text) and the report itself (a file checked by content).
    Until a 复查 is assigned it may file again (the newest counts; the earlier ones stay listed)."""
    if not is_unit_lead(user, rect.unit_id):
        raise NotAllowed("rectification.unit_only", _l("只有被整改单位可以报送整改报告"))
    if rect.status in ("passed", "failed") or any(r.outcome is None for r in rect.rechecks):
        raise Conflict("rectification.report_closed", _l("复查已安排或已结束，不能再报送整改报告"))
    text = _text("rectification.report_invalid", "text", _l("整改情况"), text)
    store = storage()
    found = store_file(data, filename, "report", user, field="report_file", rectification_id=rect.id)
    try:
        rect.report_text = text
        rect.reported_at = utcnow()
        rect.reported_by_id = user.id
        rect.status = "reported"
        db.session.flush()
        db.session.expire(rect, ["files"])
        audit.record("rectify.report", user=user, address=address, obj=rect, unit_id=rect.unit_id,
                     round_id=rect.round_id, new={"name": found.original_name, "sha256": found.sha256})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(found.storage_key)
        raise
    return found


def assign_recheck(rect: Rectification, team_id: int | None, scope: str, user: User, *, due: date | None = None,
                   address: str | None = None) -> Recheck:
    """The district assigns a team of the round to re-inspect the failed indicators (or all)."""
    _district(user)
    problems = {}
    team = db.session.get(Team, team_id) if team_id else None
    if team is None or team.round_id != rect.round_id:
        problems["team"] = _l("请选择本批次的一个工作组")
    if scope not in ("failed", "all"):
        problems["scope"] = _l("请选择复查范围")
    if problems:
        raise Invalid("recheck.invalid", next(iter(problems.values())), problems)
    db.session.refresh(rect)  # the attempts made so far, as the database has them
    refused = rules.may_assign_recheck(rect.status, len(rect.rechecks), rect.rechecks_allowed,
                                       any(r.outcome is None for r in rect.rechecks))
    if refused is not None:
        raise Conflict("recheck.not_now", shown(refused))
    recheck = Recheck(rectification_id=rect.id, attempt=len(rect.rechecks) + 1, team_id=team.id, scope=scope,
                      assigned_by_id=user.id, due=due)
    db.session.add(recheck)
    db.session.flush()
    db.session.expire(rect, ["rechecks"])
    audit.record("rectify.recheck_assign", user=user, address=address, obj=recheck, unit_id=rect.unit_id,
                 round_id=rect.round_id, new={"team": team.id, "scope": scope, "attempt": recheck.attempt})
    db.session.commit()
    return recheck


def may_record(user: User, recheck: Recheck) -> bool:
    """The leader of the assigned team records the 复查, while it has no outcome."""
    team = db.session.get(Team, recheck.team_id)
    return user.role == "inspector" and team is not None and team.leader_id == user.id and recheck.outcome is None


def record_recheck(recheck: Recheck, entered: dict[str, str], notes: dict[str, str], veto_resolved: bool,
                   note: str, user: User, *, address: str | None = None) -> Recheck:
    """The assigned team's leader records what the 复查 found for every indicator in its scope; the outcome follows
    (domain.rectification.recheck_result). The published result stays as it was."""
    rect = recheck.rectification
    if recheck.outcome is not None:
        raise Conflict("recheck.recorded", _l("该复查已记录结果"))
    if not may_record(user, recheck):
        raise NotAllowed("recheck.leader_only", _l("只有被安排复查的工作组组长可以记录复查结果"))
    lines = recheck_lines(rect, recheck.scope)
    found, problems = {}, {}
    for line in lines:
        value = parse_points(entered.get(line.code, ""))
        problem = rules.points_problem(value, line.max_points)
        if problem is not None:
            problems[f"points_{line.code}"] = problem
        else:
            found[line.code] = value
    for code, text in notes.items():
        check_text("recheck.invalid", f"note_{code}", _l("说明"), text or "", box=True)
    _invalid("recheck.invalid", problems)
    note = _text("recheck.invalid", "note", _l("复查意见"), note, required=False)
    unit = published_unit(rect)
    pub = db.session.get(Publication, rect.publication_id)
    cap = Decimal(str((pub.catalogues.get(rect.unit_level) or {}).get("bonus_cap", 0)))
    all_lines = recheck_lines(rect, "all")
    result = rules.recheck_result(all_lines, found, unit.bonus_sum or Decimal(0), cap, pub.threshold,
                                  vetoed=unit.vetoed, veto_resolved=veto_resolved)
    names = titles(rect)
    for line in lines:
        db.session.add(RecheckScore(recheck_id=recheck.id, indicator_code=line.code, title=names.get(line.code, ""),
                                    max_points=line.max_points, published_points=line.published,
                                    points=found[line.code], note=(notes.get(line.code) or "").strip()))
    recheck.outcome = "passed" if result.passed else "failed"
    recheck.total = result.total
    recheck.veto_resolved = veto_resolved if unit.vetoed else None
    recheck.note = note
    recheck.recorded_at = utcnow()
    recheck.recorded_by_id = user.id
    rect.status = recheck.outcome
    if recheck.outcome == "passed":
        # 整改后通过 reaches finance only through a published version (issue 32, point 6): the round waits for
        # the next one, as after an unlock, and the district's to-do offers 再次公布.
        round_ = db.session.get(Round, rect.round_id)
        if round_.status == "published":
            round_.changed_since_publication = True
            versions.bump(round_.id)
    audit.record("rectify.recheck_record", user=user, address=address, obj=recheck, unit_id=rect.unit_id,
                 round_id=rect.round_id, new={"outcome": recheck.outcome, "total": str(result.total),
                                              "attempt": recheck.attempt})
    db.session.commit()
    return recheck


def open_second_chance(rect: Rectification, reason: str, user: User, *, address: str | None = None) -> None:
    """The district allows one more 复查 after a failed one, with a reason."""
    _district(user)
    reason = _text("recheck.second_invalid", "reason", _l("理由"), reason)
    db.session.refresh(rect)
    if rect.status != "failed":
        raise Conflict("recheck.second_not_now", _l("只有复查仍不合格的单位可以开放再次复查"))
    if rect.rechecks_allowed > len(rect.rechecks):
        raise Conflict("recheck.second_open", _l("已开放再次复查"))
    rect.rechecks_allowed += 1
    rect.status = "reported"
    audit.record("rectify.recheck_reopen", user=user, address=address, obj=rect, unit_id=rect.unit_id,
                 round_id=rect.round_id, new={"allowed": rect.rechecks_allowed}, detail=reason)
    db.session.commit()


# -- to-dos ----------------------------------------------------------------------------------------------------------

@dataclass
class Step:
    """One step of 整改, 复查 or 约谈 that waits for the person: what (a vocabulary label), on which page, the unit,
    and the days left to its deadline (None: no deadline; negative: overdue — marked, never blocking)."""
    what: str           # a key of STEP_LABELS
    endpoint: str       # the page it is done on
    object_id: int
    unit_name: str
    days_left: int | None

    @property
    def label(self) -> str:
        """What to do, in the request's language."""
        return gettext(STEP_LABELS[self.what])

    @property
    def args(self) -> dict[str, int]:
        """The page's URL arguments."""
        return {ARG_OF[self.endpoint]: self.object_id}


ARG_OF = {"rectify.detail": "rect_id", "rectify.interview": "interview_id", "rectify.recheck": "recheck_id"}
STEP_LABELS = {
    "report": rules.N_("报送整改报告"), "decide_extension": rules.N_("答复延期申请"),
    "assign_recheck": rules.N_("安排复查"), "record_recheck": rules.N_("记录复查结果"),
    "interview_report": rules.N_("报送约谈书面报告"), "interview_check": rules.N_("审核约谈书面报告"),
}


def todo_steps(user: User, today: date, limit: int = 10) -> list[Step]:
    """What waits for the user in 整改, 复查 and 约谈, the most pressing first (a fixed number of queries)."""
    from ..models import Interview

    def left(due):
        return None if due is None else (due - today).days

    steps: list[Step] = []
    if user.role in ("township", "village"):
        for r in db.session.scalars(select(Rectification).where(Rectification.unit_id == user.unit_id,
                                                                Rectification.status == "issued")):
            steps.append(Step("report", "rectify.detail", r.id, r.unit_name, left(r.report_due)))
        for i, name in db.session.execute(select(Interview, OrgUnit.name).join(OrgUnit, OrgUnit.id == Interview.unit_id)
                                          .where(Interview.unit_id == user.unit_id, Interview.reported_at.is_(None))):
            steps.append(Step("interview_report", "rectify.interview", i.id, name, left(i.report_due)))
    elif is_district(user) and user.role == "district":
        pending = (select(Rectification).join(RectificationExtension,
                                              RectificationExtension.rectification_id == Rectification.id)
                   .where(RectificationExtension.decision.is_(None)).distinct())
        for r in db.session.scalars(pending):
            steps.append(Step("decide_extension", "rectify.detail", r.id, r.unit_name, None))
        open_recheck = select(Recheck.id).where(Recheck.rectification_id == Rectification.id,
                                                Recheck.outcome.is_(None)).exists()
        for r in db.session.scalars(select(Rectification).where(Rectification.status == "reported", ~open_recheck)):
            steps.append(Step("assign_recheck", "rectify.detail", r.id, r.unit_name, left(r.complete_due)))
        for i, name in db.session.execute(select(Interview, OrgUnit.name).join(OrgUnit, OrgUnit.id == Interview.unit_id)
                                          .where(Interview.reported_at.is_not(None), Interview.checked_at.is_(None))):
            steps.append(Step("interview_check", "rectify.interview", i.id, name, None))
    elif user.role == "inspector":
        rows = db.session.execute(
            select(Recheck, Rectification).join(Rectification, Rectification.id == Recheck.rectification_id)
            .join(Team, Team.id == Recheck.team_id).where(Team.leader_id == user.id, Recheck.outcome.is_(None)))
        for recheck, r in rows:
            steps.append(Step("record_recheck", "rectify.recheck", recheck.id, r.unit_name,
                              left(recheck.due or r.complete_due)))
    steps.sort(key=lambda s: (s.days_left is None, s.days_left if s.days_left is not None else 0))
    return steps[:limit]
