"""Moving a sheet through its statuses (domain.workflow's moves): submit, approve, return, with the history and
an audit row.

Units of work: a service that changes data commits once, at its end. `move_sheet_in` moves a sheet inside the
caller's transaction (the services that move sheets as part of a larger change compose it: rounds.advance_in,
teams, publication.unlock); `move_sheet` and the moves below are the services that commit. (The same `_in` suffix
marks the other composable halves: rounds.advance_in, scores.save_score_in and store_score_in, seed.fill_sheet_in.)
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ..domain.workflow import can_move_sheet
from ..extensions import db
from ..models import Sheet, SheetTransition, User
from ..models.base import utcnow
from ..models.sheet import SHEET_STATUS_LABELS
from . import audit, proxy, versions
from .errors import Conflict, Invalid, Joined, _l, check_text, marked
from .figures import lock_sheet
from .sheet_views import sheet_view


def move_sheet_in(sheet: Sheet, to_status: str, user: User, comment: str = "", *, address: str | None = None,
                  figures_version: int | None = None) -> None:
    """Move a sheet to a new status in the caller's transaction, keeping the history (who, when, comment) and an
    audit row (by `user`, from `address`); not committed. A service that moves sheets as part of a larger change
    (a member leaving, a round advancing, an unlock) composes this and commits once; one that fails after it rolls
    the whole unit back. Conflict when the move is not allowed or the status changed since the sheet was read —
    or, given `figures_version` (the sheet's figures as the caller's checks read them), when a change of its
    scores, bonus items or vetoes was committed since (submit_sheet)."""
    if not can_move_sheet(sheet.status, to_status, sheet.kind):
        raise Conflict("sheet.move_not_allowed", _l("评分表当前为“%(status)s”，不能改为“%(target)s”，请刷新页面",
                                                    status=marked(SHEET_STATUS_LABELS[sheet.status]),
                                                    target=marked(SHEET_STATUS_LABELS[to_status])))
    old = sheet.status
    unchanged = () if figures_version is None else (Sheet.figures_version == figures_version,)
    result = db.session.execute(
        update(Sheet).where(Sheet.id == sheet.id, Sheet.status == old, *unchanged)
        .values(status=to_status, version=Sheet.version + 1, updated_at=utcnow(),
                **({"submitted_at": utcnow()} if to_status == "submitted" else {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        if figures_version is not None and db.session.scalar(select(Sheet.status).where(Sheet.id == sheet.id)) == old:
            raise Conflict("sheet.changed_while_moving", _l("评分表刚被修改，请核对后重新提交"))
        raise Conflict("sheet.status_changed", _l("评分表状态已被他人更改，请刷新页面"))
    db.session.add(SheetTransition(sheet_id=sheet.id, from_status=old, to_status=to_status, actor_id=user.id,
                                   comment=comment))
    new = {"status": to_status}
    if to_status == "submitted":  # a township lead submitting a village's sheet for it (代填); its reviews are not
        new = proxy.note_in(sheet, user, new)
    audit.record(f"sheet.{to_status}", user=user, address=address, obj=sheet, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, old={"status": old}, new=new, detail=comment)
    versions.bump_sheet(sheet)
    db.session.flush()
    db.session.expire(sheet)


def move_sheet(sheet: Sheet, to_status: str, user: User, comment: str = "", *, address: str | None = None,
               figures_version: int | None = None) -> None:
    """One move as a unit of work of its own (move_sheet_in), committed once; a refused move rolls back."""
    try:
        move_sheet_in(sheet, to_status, user, comment, address=address, figures_version=figures_version)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def submit_sheet(sheet: Sheet, user: User, comment: str = "", *, address: str | None = None) -> None:
    """Submit a sheet; refused while any indicator is unscored (the message lists them), and a final sheet while
    a member of the team is still drafting or a value was decided before a member score changed.

    The checks hold at the move: the sheet's row lock is taken before them (PostgreSQL: a save of the sheet waits,
    and then finds it submitted), and the move is conditional on the sheet's figures being those read before the
    checks (SQLite, where a save can commit between the checks and the move: the submit is refused instead)."""
    try:
        figures_version = _submittable(sheet)
    except BaseException:
        db.session.rollback()  # (the row lock goes with it)
        raise
    if sheet.kind == "self":
        due = sheet.round.self_due if sheet.unit.level == "village" else sheet.round.township_due
        sheet.late = due is not None and today_local() > due  # late is flagged, never blocked
    move_sheet(sheet, "submitted", user, comment, address=address, figures_version=figures_version)


def _submittable(sheet: Sheet) -> int:
    """submit_sheet's checks, under the sheet's row lock; returns the sheet's figures version as read before them."""
    lock_sheet(sheet)
    figures_version = db.session.scalar(select(Sheet.figures_version).where(Sheet.id == sheet.id))
    if sheet.kind == "final":
        from .reconcile import submit_problems  # the leader's rules live with the reconciliation

        problems = submit_problems(sheet)
        if problems:
            raise Conflict("sheet.submit_blocked", Joined(problems))
    if sheet.kind == "inspector":  # issue 31: nothing left behind on a tablet
        from .devices import pending_of

        count, at = pending_of(sheet)
        if count:
            raise Conflict("sheet.device_pending", _l(
                "您的平板于%(at)s报告本评分表还有%(n)s处修改未同步到服务器，现在提交会丢下这些修改。请在该平板上联网打开"
                "本评分表的评分页，待“待同步”变为0后再提交", at=local_minute(at), n=count))
    missing = sheet_view(sheet).unscored
    if missing:
        codes = [i.code for i in missing]
        raise Invalid("sheet.unscored", _l("尚有%(count)s项指标未评分：%(codes)s", count=len(codes), codes="、".join(codes)),
                      {"unscored": "、".join(codes)})
    return figures_version


def last_return(sheet: Sheet) -> SheetTransition | None:
    """The move that returned a sheet standing returned (its comment goes at the top of the sheet), else None."""
    if sheet.status != "returned":
        return None
    return db.session.scalar(select(SheetTransition).where(
        SheetTransition.sheet_id == sheet.id, SheetTransition.to_status == "returned")
        .order_by(SheetTransition.id.desc()).limit(1))


def local_minute(at: datetime) -> str:
    """A time as the district reads it, in any language: 12-07 10:05 (Beijing)."""
    local = at.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local:%m-%d %H:%M}"


def today_local() -> date:
    """Today in the district's time zone (deadlines are local dates)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def approve_sheet(sheet: Sheet, user: User, *, address: str | None = None) -> None:
    """Approve a submitted sheet; a final sheet only while it still stands as submitted (no member drafting since,
    no 成员评分已变化 — the reviewer returns it to the leader instead). Committed once; a refusal rolls back."""
    try:
        approve_sheet_in(sheet, user, address=address)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def approve_sheet_in(sheet: Sheet, user: User, comment: str = "", *, address: str | None = None,
                     problems: list | None = None, figures_version: int | None = None) -> None:
    """approve_sheet in the caller's transaction (a bulk approval: services.bulk_review), not committed: the same
    check, move, history and audit row (sheet.approved). `problems`: the caller's reading of reconcile's
    submit_problems for this final sheet, taken under its lock (not read again); `figures_version`: the sheet's
    figures as the approver saw them (a change committed since refuses the move, as move_sheet_in says)."""
    if sheet.kind == "final":
        if problems is None:
            from .reconcile import submit_problems

            problems = submit_problems(sheet)
        if problems:
            raise Conflict("sheet.approve_blocked", _l("不能审核通过，请退回组长重新定分：%(problems)s", problems=Joined(problems)))
    move_sheet_in(sheet, "approved", user, comment, address=address, figures_version=figures_version)


def return_sheet(sheet: Sheet, user: User, comment: str, *, address: str | None = None) -> None:
    """Return a submitted sheet to its owner; a return needs a comment."""
    comment = (comment or "").strip()
    if not comment:
        raise Invalid("sheet.return_comment_required", _l("退回时须填写退回意见"), {"comment": _l("请填写退回意见")})
    check_text("sheet.return_comment_invalid", "comment", _l("退回意见"), comment, box=True)
    if len(comment) > 2000:
        raise Invalid("sheet.return_comment_invalid", _l("退回意见过长或含有无效字符"), {"comment": _l("退回意见不能超过2000字")})
    move_sheet(sheet, "returned", user, comment, address=address)


def review_sheet(sheet: Sheet, user: User, action: str, comment: str, *, address: str | None = None) -> str:
    """A reviewer's decision from a form: "approve", or a return (which needs a comment). Returns the sheet's new
    status ("approved" or "returned")."""
    if action == "approve":
        approve_sheet(sheet, user, address=address)
        return "approved"
    return_sheet(sheet, user, comment, address=address)
    return "returned"
