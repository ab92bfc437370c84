"""异议 and 复核 (issue 32, points 3–4): a unit's lead contests an indicator, bonus item or veto finding of its
published result during the 公示; the district assigns a re-check group outside the scoring team; the group's
decision upholds the score or changes it through the audited unlock of the final sheet; when every objection is
answered and the change published, the district confirms the result (结果确定).

Every change commits once at its end with its audit row; the clock is services.notices._now."""
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, union

from ..domain.filenames import clean_name
from ..domain.numbers import parse_points
from ..domain.vocabulary import N_
from ..domain.workflow import owner_open_states
from ..domain.objections import (
    DECISIONS, MAX_EVIDENCE_BYTES, MAX_FILES, MAX_REASON, MB, OPEN_STATUSES, Vote, group_problems, majority,
)
from ..extensions import db
from ..models import (
    BonusItem, NoticePeriod, Objection, ObjectionFile, ObjectionReviewer, OrgUnit, PublishedScore, PublishedUnit,
    Publication, Round, RoundUnit, Sheet, Team, TeamMember, User,
)
from . import audit, locks, notices, readmodel
from .documents import TYPES, stored_name
from .errors import Conflict, Invalid, NotAllowed, NotFound, _l, check_text, shown
from .filecheck import verify
from .storage import storage

# Chinese labels (the msgids), translated where they are shown.
TARGET_LABELS = {"indicator": N_("指标"), "bonus": N_("加分项"), "veto": N_("一票否决")}
STATUS_LABELS = {"open": N_("待分配复核"), "assigned": N_("复核中"), "upheld": N_("维持原评分"), "changed": N_("改变评分")}


@dataclass(frozen=True)
class Target:
    target: str
    code: str
    title: str


def targets(notice: NoticePeriod, unit: OrgUnit) -> list[Target]:
    """What the unit may contest in the version shown: its indicators, the catalogue's bonus items, its veto
    findings."""
    publication = readmodel.version_of(notice.round_id, notice.version)
    row = db.session.scalar(select(PublishedUnit).where(PublishedUnit.publication_id == publication.id,
                                                        PublishedUnit.unit_id == unit.id))
    if row is None:
        return []
    out = [Target("indicator", s.indicator_code, s.title) for s in db.session.scalars(
        select(PublishedScore).where(PublishedScore.publication_id == publication.id,
                                     PublishedScore.unit_code == row.code).order_by(PublishedScore.id))]
    catalogue = publication.catalogues.get(row.level) or {}
    out += [Target("bonus", b.code, b.text) for b in db.session.scalars(
        select(BonusItem).where(BonusItem.catalogue_id == catalogue.get("id")).order_by(BonusItem.position))]
    out += [Target("veto", code, text) for code, text, *_ in row.veto_findings or []]
    return out


def may_object(user: User, unit: OrgUnit) -> bool:
    """A village lead for their village, a township lead for their township (not its villages)."""
    return user.role in ("village", "township") and user.unit_id == unit.id


def objectable_units(user: User, notice: NoticePeriod) -> list[OrgUnit]:
    """The units this user may object for in the notice's version: their own (a lead), or every unit (the district
    entering a paper objection)."""
    publication = readmodel.version_of(notice.round_id, notice.version)
    query = (select(OrgUnit).join(PublishedUnit, PublishedUnit.unit_id == OrgUnit.id)
             .where(PublishedUnit.publication_id == publication.id).order_by(PublishedUnit.position))
    if user.role == "district":
        return list(db.session.scalars(query))
    if user.role in ("village", "township"):
        return list(db.session.scalars(query.where(OrgUnit.id == user.unit_id)))
    return []


def _files_checked(files: list[tuple[bytes, str]]) -> list[tuple[bytes, str, str]]:
    if len(files) > MAX_FILES:
        raise Invalid("objection.too_many_files", _l("最多上传%(n)s个证明材料", n=MAX_FILES),
                      {"files": _l("最多上传%(n)s个证明材料", n=MAX_FILES)})
    if sum(len(data) for data, _name in files) > MAX_EVIDENCE_BYTES:
        too_large = _l("证明材料合计不能超过%(mb)sMB", mb=MAX_EVIDENCE_BYTES // MB)
        raise Invalid("objection.files_too_large", too_large, {"files": too_large})
    checked = []
    for data, name in files:
        if not data:
            raise Invalid("objection.file_empty", _l("文件为空"), {"files": _l("文件“%(name)s”为空", name=name)})
        try:
            kind = verify(data)
        except Invalid as exc:
            raise exc.under("files", "document") from None
        checked.append((data, name, kind))
    return checked


def closed_message(notice: NoticePeriod):
    """What the closed form says: when the period ended."""
    end = f"{notice.last_day.isoformat()} 24:00"
    return _l("公示期已于%(end)s（北京时间）结束，不再受理异议", end=end)


def file(round_: Round, unit: OrgUnit, target: str, code: str, reason: str, files: list[tuple[bytes, str]],
         user: User, *, objector: str = "", address: str | None = None) -> Objection:
    """File an objection (a unit's lead), or enter a named paper objection on the unit's behalf (the district,
    `objector` naming who signed it). In time only until 24:00 Beijing time on the notice's last working day, by
    the server's clock; one open objection per indicator (item) per unit."""
    now = notices._now()
    notice = notices.notice_of(round_.id)
    if notice is None:
        raise NotFound("objection.no_notice", _l("该批次未公示，不能提出异议"))
    on_paper = user.role == "district"
    if not on_paper and not may_object(user, unit):
        raise NotAllowed("objection.not_allowed", _l("只有被评估单位的负责人可以对本单位的结果提出异议"))
    status = notices.state(notice, now)
    if status == "pending":
        raise Conflict("objection.not_yet", _l("公示自%(start)s开始，尚不能提出异议", start=notice.start.isoformat()))
    if status != "open":
        raise Conflict("objection.closed", closed_message(notice))
    reason, objector = (reason or "").strip(), (objector or "").strip()
    fields = {}
    found = next((t for t in targets(notice, unit) if t.target == target and t.code == code), None)
    if found is None:
        fields["code"] = _l("请选择要提出异议的指标、加分项或一票否决事项")
    if not reason:
        fields["reason"] = _l("请填写异议理由")
    elif len(reason) > MAX_REASON:
        fields["reason"] = _l("异议理由不能超过%(n)s字", n=MAX_REASON)
    if on_paper and not objector:
        fields["objector"] = _l("书面异议须写明提出人")
    if fields:
        raise Invalid("objection.invalid", _l("输入有误，请检查"), fields)
    check_text("objection.invalid", "reason", _l("异议理由"), reason, box=True)
    check_text("objection.invalid", "objector", _l("提出人"), objector)
    if len(objector) > 100:
        raise Invalid("objection.invalid", _l("输入有误，请检查"), {"objector": _l("提出人不能超过100字")})
    checked = _files_checked(files)
    locks.lock_round(round_)  # numbers are sequential per round, and one open objection per item: decided here
    standing = db.session.scalar(select(Objection).where(
        Objection.round_id == round_.id, Objection.unit_id == unit.id, Objection.target == target,
        Objection.code == code, Objection.status.in_(OPEN_STATUSES)))
    if standing is not None:
        message = _l("本单位对该项已有尚未答复的异议（%(receipt)s），答复前不能再次提出", receipt=standing.receipt)
        raise Invalid("objection.duplicate", message, {"code": message})
    number = (db.session.scalar(select(func.max(Objection.number)).where(Objection.round_id == round_.id)) or 0) + 1
    objection = Objection(round_id=round_.id, notice_id=notice.id, unit_id=unit.id, number=number,
                          year=now.astimezone(notices.BEIJING).year, target=target, code=code,
                          title=found.title, reason=reason, filed_by_id=user.id, filed_at=now, on_paper=on_paper,
                          objector=objector, status="open", answer="")
    db.session.add(objection)
    db.session.flush()
    store, keys = storage(), []
    try:
        for data, name, kind in checked:
            content_type, _ = TYPES[kind]
            key = store.new_key(TYPES[kind][1])
            store.save(key, data)
            keys.append(key)
            db.session.add(ObjectionFile(objection_id=objection.id, storage_key=key,
                                         original_name=stored_name(name, kind),
                                         sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
                                         size=len(data), uploaded_by_id=user.id))
        audit.record("objection.file", user=user, address=address, obj=objection, unit_id=unit.id,
                     round_id=round_.id, new={"receipt": objection.receipt, "target": target, "code": code,
                                              "on_paper": on_paper, "objector": objector,
                                              "files": [clean_name(n, "") for _, n, _ in checked]},
                     detail=reason)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in keys:
            store.delete(key)
        raise
    return objection


def for_round(round_id: int, unit_ids: list[int] | None = None) -> list[Objection]:
    query = select(Objection).where(Objection.round_id == round_id).order_by(Objection.number)
    if unit_ids is not None:
        query = query.where(Objection.unit_id.in_(unit_ids))
    return list(db.session.scalars(query))


def may_view(user: User, objection: Objection) -> bool:
    """The district and admin; the unit's own lead (and its township's); the group's reviewers."""
    if user.role in ("district", "admin"):
        return True
    if user.role in ("village", "township"):
        unit = objection.unit
        return unit.id == user.unit_id or (user.role == "township" and unit.parent_id == user.unit_id)
    if user.role == "inspector":
        return any(r.user_id == user.id for r in objection.reviewers)
    return False


# -- 复核 ---------------------------------------------------------------------------------------------------------

def scorers(round_id: int, unit_id: int) -> set[int]:
    """Everyone on the team that scored the unit: its members and leader, and anyone whose member sheet of the unit
    exists (one who left the team since)."""
    team = select(RoundUnit.team_id).where(RoundUnit.round_id == round_id, RoundUnit.unit_id == unit_id)
    return set(db.session.scalars(union(
        select(TeamMember.user_id).where(TeamMember.team_id.in_(team)),
        select(Team.leader_id).where(Team.id.in_(team), Team.leader_id.is_not(None)),
        select(Sheet.inspector_id).where(Sheet.round_id == round_id, Sheet.unit_id == unit_id,
                                         Sheet.kind == "inspector"))))


def reviewer_choices() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "inspector", User.active.is_(True))
                                   .order_by(User.username)))


def assign(objection: Objection, reviewer_ids: list[int], leader_id: int | None, user: User, *,
           address: str | None = None) -> Objection:
    """The district assigns the objection to a re-check group: at least two inspectors, none of the team that
    scored the unit, one of them its leader. The answer is due the notice's answer_days after today."""
    if user.role != "district":
        raise NotAllowed("objection.assign_not_allowed", _l("只有区级审核人员可以分配复核组"))
    if objection.status not in OPEN_STATUSES:
        raise Conflict("objection.answered", _l("该异议已答复"))
    ids = sorted(set(reviewer_ids))
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    not_inspectors = [people[i].display_name for i in ids if i in people and (
        people[i].role != "inspector" or not people[i].active)]
    if len(people) != len(ids) or not_inspectors:
        message = _l("复核组成员须为在用的评估员账号")
        raise Invalid("objection.reviewers_invalid", message, {"reviewers": message})
    scoring = scorers(objection.round_id, objection.unit_id)
    problems = group_problems(ids, leader_id, scoring)
    if problems:
        fields = {}
        if "too_few" in problems:
            fields["reviewers"] = _l("复核组至少须有%(n)s名成员", n=2)
        if "scorer" in problems:
            names = "、".join(people[i].display_name for i in ids if i in scoring)
            fields["reviewers"] = _l("%(names)s是对该单位评分的工作组成员，不能参加复核（复核须由评分以外的人员进行）",
                                     names=names)
        if "leader" in problems:
            fields["leader"] = _l("请在复核组成员中指定一名组长")
        raise Invalid("objection.group_invalid", next(iter(fields.values())), fields)
    old = {"status": objection.status, "reviewers": [r.user_id for r in objection.reviewers]}
    objection.reviewers.clear()
    db.session.flush()
    for i in ids:
        objection.reviewers.append(ObjectionReviewer(user_id=i, is_leader=i == leader_id))
    notice = db.session.get(NoticePeriod, objection.notice_id)
    objection.status, objection.leader_id = "assigned", leader_id
    objection.assigned_at = notices._now()
    objection.due_on = notices.today() + timedelta(days=notice.answer_days)
    audit.record("objection.assign", user=user, address=address, obj=objection, unit_id=objection.unit_id,
                 round_id=objection.round_id, old=old,
                 new={"reviewers": ids, "leader": leader_id, "due_on": objection.due_on.isoformat()})
    db.session.commit()
    return objection


def final_sheet_of(objection: Objection) -> Sheet | None:
    return db.session.scalar(select(Sheet).where(Sheet.round_id == objection.round_id,
                                                 Sheet.unit_id == objection.unit_id, Sheet.kind == "final"))


def decide(objection: Objection, decision: str, answer: str, votes: dict[int, bool], user: User, *,
           new_value: str = "", address: str | None = None) -> Objection:
    """The group's leader records the group's decision, by majority: 维持原评分 with a written answer, or 改变 with
    the decided value and reason — which unlocks the unit's final sheet with the objection as its reason, for the
    group's leader to enter the value on it; the district approves it as any final sheet."""
    from .publication import unlock_in

    if objection.status != "assigned":
        raise Conflict("objection.not_assigned", _l("该异议尚未分配复核组或已答复"))
    if objection.leader_id != user.id:
        raise NotAllowed("objection.not_leader", _l("只有复核组组长可以录入复核决定"))
    answer = (answer or "").strip()
    fields = {}
    if decision not in DECISIONS:
        fields["decision"] = _l("请选择维持原评分或改变评分")
    if not answer:
        fields["answer"] = _l("请填写复核意见")
    elif len(answer) > MAX_REASON:
        fields["answer"] = _l("复核意见不能超过%(n)s字", n=MAX_REASON)
    value = None
    if decision == "change" and objection.target == "indicator":
        try:
            value = parse_points(new_value)
        except ValueError as exc:
            fields["new_value"] = shown(exc)
    group = {r.user_id for r in objection.reviewers}
    problem = majority([Vote(i, bool(a)) for i, a in votes.items()], group)
    if problem:
        fields["votes"] = shown(problem)
    if fields:
        raise Invalid("objection.decision_invalid", next(iter(fields.values())), fields)
    check_text("objection.decision_invalid", "answer", _l("复核意见"), answer, box=True)
    try:
        if decision == "change":
            sheet = final_sheet_of(objection)
            unlock_in(sheet, user, f"{objection.receipt}：{answer}", address=address)
            objection.final_sheet_id = sheet.id
        objection.status = "changed" if decision == "change" else "upheld"
        objection.answer, objection.new_value, objection.decided_at = answer, value, notices._now()
        audit.record("objection.decide", user=user, address=address, obj=objection, unit_id=objection.unit_id,
                     round_id=objection.round_id, old={"status": "assigned"},
                     new={"status": objection.status, "new_value": f"{value:.2f}" if value is not None else None,
                          "votes": {str(k): bool(v) for k, v in votes.items()}}, detail=answer)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return objection


def editing_leader(sheet: Sheet) -> int | None:
    """The re-check group's leader who enters a changed value on this unlocked final sheet (access.py)."""
    if sheet.kind != "final" or not sheet.unlocked:
        return None
    return db.session.scalar(select(Objection.leader_id).where(Objection.final_sheet_id == sheet.id,
                                                               Objection.status == "changed")
                             .order_by(Objection.id.desc()).limit(1))


def settle(round_: Round, user: User, *, address: str | None = None) -> NoticePeriod:
    """结果确定: the period has ended, every objection is answered and every change is in a published version (the
    district republished, or there was nothing to change); the round's result is confirmed on its latest version."""
    if user.role != "district":
        raise NotAllowed("notice.settle_not_allowed", _l("只有区级审核人员可以确认结果"))
    locks.lock_round(round_)
    notice = notices.notice_of(round_.id)
    if notice is None:
        raise NotFound("notice.none", _l("该批次未公示"))
    if notice.settled_at is not None:
        raise Conflict("notice.settled", _l("该批次结果已确定"))
    now = notices._now()
    if now < notices.ends_at(notice):
        end = f"{notice.last_day.isoformat()} 24:00"
        raise Conflict("notice.still_open", _l("公示期至%(end)s结束，结束后才能确认结果", end=end))
    waiting = [o for o in for_round(round_.id) if o.status in OPEN_STATUSES]
    if waiting:
        raise Conflict("notice.unanswered", _l("尚有%(n)s件异议未答复：%(list)s", n=len(waiting),
                                               list="、".join(o.receipt for o in waiting)))
    if round_.changed_since_publication:
        raise Conflict("notice.unpublished_changes", _l("复核改变的评分尚未重新公布，请先审核通过并公布新版本"))
    latest = readmodel.latest(round_.id)
    notice.settled_at, notice.settled_version = now, latest.version
    audit.record("notice.settle", user=user, address=address, obj=notice, round_id=round_.id,
                 new={"version": latest.version})
    db.session.commit()
    return notice


def publication_of(notice: NoticePeriod) -> Publication:
    return readmodel.version_of(notice.round_id, notice.version)


# -- to-dos (issue 32, point 8): each step waits for whoever must act, with the days left -------------------------

@dataclass
class NoticeTodo:
    """One step of 公示, 异议 or 复核 waiting for the person: `action` (NOTICE_TODOS), the round, the objection
    where there is one, and the days left to its deadline (None: none; negative: overdue)."""
    action: str
    round: Round
    objection: Objection | None
    days: int | None


# Chinese labels (the msgids), translated where they are shown.
NOTICE_TODOS = {"assign": N_("待分配复核组"), "decide": N_("待录入复核决定"), "enter": N_("待录入复核后得分"),
                "settle": N_("可以确认结果"), "object": N_("公示中，可提出异议")}
TODO_LIMIT = 10


# The unlocked final sheet waits on the group's leader while it may enter the value (its owner's open states:
# 草稿 or 已退回); once submitted it waits on the district's review, not on the leader.
_LEADER_ENTERS = tuple(sorted({status for status, context in owner_open_states("final") if context == "unlocked"}))


def notice_todos(user: User, today) -> list[NoticeTodo]:
    """What waits for `user` on `today` (a fixed number of queries): the district assigns open objections and
    confirms a round whose period has ended with every objection answered; a group's leader records the decision,
    and enters a changed value on the unlocked sheet; a unit's lead may object while its round is on notice."""
    items: list[NoticeTodo] = []
    if user.role == "district":
        rows = db.session.execute(
            select(Objection, Round, NoticePeriod.last_day).join(Round, Round.id == Objection.round_id)
            .join(NoticePeriod, NoticePeriod.id == Objection.notice_id)
            .where(Objection.status == "open").order_by(Objection.filed_at).limit(TODO_LIMIT)).all()
        items += [NoticeTodo("assign", r, o, None) for o, r, _ in rows]
        unanswered = (select(func.count(Objection.id)).where(Objection.notice_id == NoticePeriod.id,
                                                             Objection.status.in_(OPEN_STATUSES))
                      .correlate(NoticePeriod).scalar_subquery())
        ready = db.session.execute(
            select(NoticePeriod, Round).join(Round, Round.id == NoticePeriod.round_id)
            .where(NoticePeriod.settled_at.is_(None), NoticePeriod.last_day < today, unanswered == 0,
                   Round.changed_since_publication.is_(False)).limit(TODO_LIMIT)).all()
        items += [NoticeTodo("settle", r, None, None) for _, r in ready]
    elif user.role == "inspector":
        rows = db.session.execute(
            select(Objection, Round).join(Round, Round.id == Objection.round_id)
            .where(Objection.leader_id == user.id, Objection.status.in_(("assigned", "changed")))
            .join(Sheet, Sheet.id == Objection.final_sheet_id, isouter=True)
            .where((Objection.status == "assigned") | (Sheet.unlocked.is_(True) & Sheet.status.in_(_LEADER_ENTERS)))
            .order_by(Objection.due_on).limit(TODO_LIMIT)).all()
        items += [NoticeTodo("decide" if o.status == "assigned" else "enter", r, o,
                             None if o.due_on is None else (o.due_on - today).days) for o, r in rows]
    elif user.role in ("township", "village") and user.unit_id is not None:
        rows = db.session.execute(
            select(NoticePeriod, Round).join(Round, Round.id == NoticePeriod.round_id)
            .join(RoundUnit, (RoundUnit.round_id == Round.id) & (RoundUnit.unit_id == user.unit_id))
            .where(NoticePeriod.settled_at.is_(None), NoticePeriod.start <= today, NoticePeriod.last_day >= today)
            .limit(TODO_LIMIT)).all()
        items += [NoticeTodo("object", r, None, (n.last_day - today).days) for n, r in rows]
    return items


# -- dashboard (issue 32, point 9): objections by status and by indicator, aggregated in SQL -----------------------

@dataclass
class ObjectionFigures:
    by_status: dict[str, int]
    by_item: list[dict]  # {"target", "code", "title", "open", "assigned", "upheld", "changed", "total"}


def figures(round_id: int) -> ObjectionFigures:
    """Counts per status, and per contested item and status (two GROUP BY queries)."""
    by_status = dict.fromkeys(STATUS_LABELS, 0)
    by_status.update(dict(db.session.execute(
        select(Objection.status, func.count()).where(Objection.round_id == round_id)
        .group_by(Objection.status)).all()))
    items: dict[tuple[str, str], dict] = {}
    for target, code, title, status, n in db.session.execute(
            select(Objection.target, Objection.code, func.max(Objection.title), Objection.status, func.count())
            .where(Objection.round_id == round_id)
            .group_by(Objection.target, Objection.code, Objection.status)
            .order_by(Objection.target, Objection.code)).all():
        row = items.setdefault((target, code), {"target": target, "code": code, "title": title, "total": 0,
                                                **dict.fromkeys(STATUS_LABELS, 0)})
        row[status] += n
        row["total"] += n
    return ObjectionFigures(by_status, sorted(items.values(), key=lambda r: (-r["total"], r["target"], r["code"])))
