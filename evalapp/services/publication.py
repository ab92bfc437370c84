"""Publishing a round's results, and the audited unlock of one final sheet afterwards (domain.workflow's moves)."""
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..domain.aggregation import ranking_key
from ..domain.doc_numbers import format_number, parse_number
from ..domain.workflow import can_unlock, round_move, round_phase, unlocked_status
from ..extensions import db
from ..models import Publication, Round, Sheet, User
from ..models.base import utcnow
from ..models.sheet import SHEET_KIND_LABELS
from . import audit, doc_numbers, locks, readmodel, setup_unlock, snapshots, subsidy, versions
from .errors import Conflict, Invalid, _l, check_text, marked
from .rounds import close_member_sheets, open_member_sheets

# Why a sheet of another kind is not unlocked: what to do instead.
UNLOCK_REFUSALS = {
    "inspector": _l("评估员评分表不能解锁：成员的分值已由组长汇总进工作组评分表。要更改评估员录入的分值，"
                    "请解锁该单位的工作组评分表，由组长重新汇总"),
    "self": _l("自评表不能解锁：实地评估开始后自评表按原样冻结。要更改评估结果，请解锁该单位的工作组评分表"),
}


def incomplete_units(model: readmodel.RoundResults) -> list[str]:
    """Names of units in scope whose final sheet is not approved (they would be published as 未完成), in the order
    of the round's results."""
    ranked = sorted(model.report.rows, key=lambda row: ranking_key(row.unit.level, row.unit.place))
    return [row.unit.name for row in ranked if row.unit.final_status != "approved"]


def _doc_number(typed: str | None, year: int) -> tuple[str | None, tuple | None]:
    """The 通报's 文号 as the publisher typed it, checked: (text, (office, year, seq)); (None, None) when left blank
    (the next of the sequence is taken once the version is written)."""
    typed = (typed or "").strip()
    if not typed:
        return None, None
    parsed = parse_number(typed)
    if parsed is None:
        raise Invalid("round.doc_number_invalid", _l("文号格式应为“%(example)s”", example=format_number(
            doc_numbers.office(), year, 1)), {"doc_number": _l("文号格式应为“%(example)s”", example=format_number(
                doc_numbers.office(), year, 1))})
    text = format_number(*parsed)
    if db.session.scalar(select(Publication.id).where(Publication.doc_number == text).limit(1)):
        raise Invalid("round.doc_number_taken", _l("文号%(number)s已被使用", number=text),
                      {"doc_number": _l("文号%(number)s已被使用", number=text)})
    return text, parsed


def _replaces_reason(round_: Round, since) -> str:
    """Why a republished version replaces the one before: the reasons of the unlocks made since it (sheets and
    set-up), in order, each with its unit."""
    from ..models import AuditEvent, OrgUnit, SetupUnlock

    sheets = db.session.execute(
        select(OrgUnit.name, AuditEvent.detail).join(OrgUnit, OrgUnit.id == AuditEvent.unit_id)
        .where(AuditEvent.round_id == round_.id, AuditEvent.action == "sheet.unlock", AuditEvent.at > since)
        .order_by(AuditEvent.at, AuditEvent.id)).all()
    setup = db.session.scalars(select(SetupUnlock.reason).where(
        SetupUnlock.round_id == round_.id, SetupUnlock.opened_at > since).order_by(SetupUnlock.opened_at)).all()
    parts = [f"{name}评分表解锁复核（{reason}）" for name, reason in sheets] + [f"调整评估设置（{r}）" for r in setup]
    return "；".join(parts)


def publish(round_: Round, user: User, *, confirm_incomplete: bool = False, confirm_no_subsidy: bool = False,
            address: str | None = None, doc_number: str | None = None) -> Publication:
    """Publish (or republish) a round: every sheet becomes read-only, and the results are frozen as the round's next
    version (services.snapshots). Incomplete units need explicit confirmation. Serialised: the round's lock is taken
    first and the round read again under it, so of concurrent publishers one succeeds and the others are refused
    (Conflict) — and a version number written twice fails on its unique key, also a Conflict."""
    locks.lock_round(round_)
    # A 文号's year is the year of issue (GB/T 9704: 发文年份), Beijing time — not the round's 年度.
    issue_year = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).year
    typed_number, parsed_number = _doc_number(doc_number, issue_year)
    phase = round_phase(round_.status, round_.changed_since_publication)
    move = round_move(phase, "republish" if round_.status == "published" else "publish")
    if move is None:
        if round_.status == "published":
            raise Conflict("round.published_unchanged", _l("该批次已公布，且公布后没有改动"))
        raise Conflict("round.not_ready_to_publish", _l("该批次尚未进入评估阶段，不能公布"))
    republish = move.action == "republish"
    open_unlocked = db.session.scalars(select(Sheet).where(
        Sheet.round_id == round_.id, Sheet.unlocked.is_(True), Sheet.status != "approved")).all()
    if open_unlocked:
        names = "、".join(s.unit.name for s in open_unlocked)
        raise Conflict("round.unlocked_not_approved", _l("以下解锁的评分表尚未重新审核通过：%(names)s", names=names))
    # A level without a subsidy rule would be published at 0 yuan for good (issue 29): refused unless the district
    # chooses 本批次不设奖补资金 for it, recorded as that level's rule.
    missing = subsidy.missing_levels(round_)
    if missing and not confirm_no_subsidy:
        names = "、".join(level.zh for level in missing)
        raise Invalid("round.no_subsidy_rules",
                      _l("%(levels)s尚未设置奖补规则：公布后这些单位的奖补金额将按0元冻结在该版本中。请先由财务设置奖补规则，"
                         "或勾选“本批次不设奖补资金”后公布", levels=names),
                      {"confirm_no_subsidy": _l("%(levels)s尚未设置奖补规则", levels=names)})
    if missing:
        subsidy.choose_none(round_, missing, user, address=address)
    # The round's results, computed once under the lock: what the refusal names and what the version holds.
    model = readmodel.build(round_, draft=True, extras=True)
    incomplete = incomplete_units(model)
    if incomplete and not confirm_incomplete:
        raise Invalid("round.incomplete_units",
                      _l("以下%(count)s个单位尚无审核通过的评分表，公布后将记为“未完成”：%(names)s",
                         count=len(incomplete), names="、".join(incomplete)),
                      {"incomplete": "、".join(incomplete)})
    # Member drafts still open can no longer be filled once the round is published: closed as 未提交.
    closed = (close_member_sheets(open_member_sheets(round_.id), user, "批次公布", address=address)
              if move.closes_member_drafts else [])
    old = round_.status
    at = utcnow()
    try:
        publication = snapshots.freeze(round_, user, at, model)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("round.published_concurrently", _l("该批次刚由他人公布，请刷新页面查看")) from None
    # The 通报's 文号 and, for a republication, what it replaces and why: written with the version, never changed.
    if typed_number is None:
        publication.doc_number = doc_numbers.take(doc_numbers.NOTICE, at.astimezone(ZoneInfo("Asia/Shanghai")).year).text
    else:
        publication.doc_number = typed_number
        if parsed_number[0] == doc_numbers.office():
            doc_numbers.advance_past(doc_numbers.NOTICE, parsed_number[1], parsed_number[2])
    if republish:
        before = db.session.scalar(select(Publication).where(
            Publication.round_id == round_.id, Publication.version == publication.version - 1))
        if before is not None:
            publication.replaces_reason = _replaces_reason(round_, before.published_at)
    round_.status = "published"
    round_.published_at = at
    round_.changed_since_publication = False
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.unlocked.is_(True))
                       .values(unlocked=False))
    # 解锁设置 ends with this version: the set-up changes made under it are in it (its 变更 lists them).
    setup_unlock.close(round_, publication.version, at, user, address=address)
    audit.record("round.republish" if republish else "round.publish", user=user, address=address, obj=round_,
                 round_id=round_.id,
                 old={"status": old}, new={"status": "published", "version": publication.version,
                                            "sha256": publication.sha256, "incomplete": incomplete,
                                            "doc_number": publication.doc_number,
                                            **({"closed": closed} if closed else {})},
                 detail=("未完成：" + "、".join(incomplete)) if incomplete else "")
    versions.bump(round_.id)
    db.session.commit()
    return publication


def already_unlocked() -> object:
    """The SQL condition "this sheet is unlocked and not approved again since" — what `unlock` refuses as
    sheet.already_unlocked (an unlocked sheet approved again may be unlocked once more)."""
    return Sheet.unlocked & (Sheet.status != "approved")


def unlocked_finals(round_id: int) -> set[int]:
    """Ids of the round's final sheets that are unlocked and not yet approved again (one query): the results page
    shows them 已解锁 instead of offering the unlock again."""
    return set(db.session.scalars(select(Sheet.id).where(Sheet.round_id == round_id, Sheet.kind == "final",
                                                         already_unlocked())))


def unlock(sheet: Sheet, user: User, reason: str, *, address: str | None = None) -> None:
    """Unlock one final sheet of a published round (admin, with a reason): an approved one goes back to the leader,
    and the round must be republished. Other kinds are refused (Conflict) with what to do instead. One unit of work,
    committed once: a move refused on the way rolls all of it back."""
    unlock_in(sheet, user, reason, address=address)
    db.session.commit()


def unlock_in(sheet: Sheet, user: User, reason: str, *, address: str | None = None) -> None:
    """`unlock`'s work in the caller's transaction (a 复核 decision unlocks the sheet with the objection as its
    reason, services.objections, and commits with its own rows); rolled back when refused."""
    from .moves import move_sheet_in  # (here: the module's imports belong to publish's rewrite)

    reason = (reason or "").strip()
    round_ = sheet.round
    # Ordered on the round's lock, as publishing is (issue 28, point 1): an unlock either lands before a
    # (re)publication — which then sees the sheet unlocked and refuses until it is approved again — or after it,
    # on the version just written, and flags the round changed for the next. Never in between, where the
    # publication would clear the flag and the unlocked mark it did not see.
    locks.lock_round(round_)
    db.session.refresh(sheet)
    move = round_move(round_phase(round_.status, round_.changed_since_publication), "unlock")
    if move is None:
        raise Conflict("sheet.unlock_not_published", _l("只有已公布批次的评分表需要解锁"))
    if not can_unlock(sheet.kind):
        raise Conflict("sheet.unlock_kind", UNLOCK_REFUSALS.get(sheet.kind) or _l("%(kind)s不能解锁",
                                                                            kind=marked(SHEET_KIND_LABELS[sheet.kind])))
    if sheet.unlocked and sheet.status != "approved":  # already_unlocked(), as the page shows it
        raise Conflict("sheet.already_unlocked", _l("该评分表已解锁"))
    if not reason:
        raise Invalid("sheet.unlock_reason_required", _l("解锁须填写理由"), {"reason": _l("请填写解锁理由")})
    check_text("sheet.unlock_reason_invalid", "reason", _l("解锁理由"), reason, box=True)
    if len(reason) > 2000:
        raise Invalid("sheet.unlock_reason_invalid", _l("理由过长或含有无效字符"), {"reason": _l("理由不能超过2000字")})
    try:
        sheet.unlocked = True
        round_.changed_since_publication = True
        audit.record("sheet.unlock", user=user, address=address, obj=sheet, unit_id=sheet.unit_id,
                     round_id=sheet.round_id, old={"status": sheet.status}, new={"unlocked": True}, detail=reason)
        if move.closes_member_drafts:  # drafts left by a round published before they were closed: the leader's
            close_member_sheets(open_member_sheets(round_.id, unit_ids=[sheet.unit_id]), user,  # submit needs none
                                "工作组评分表解锁", address=address)
        target = unlocked_status(sheet.status)
        if target != sheet.status:
            move_sheet_in(sheet, target, user, f"解锁：{reason}", address=address)
        versions.bump(round_.id)
    except BaseException:
        db.session.rollback()  # a sheet moved meanwhile: the unlock leaves nothing behind
        raise
