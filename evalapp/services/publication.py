"""Publishing a round's results, and the audited unlock of one sheet afterwards."""
from sqlalchemy import select, update

from ..extensions import db
from ..models import Round, Sheet, User
from ..models.base import utcnow
from . import audit
from .errors import Conflict, Invalid
from .results import round_results
from .sheets import move_sheet


def incomplete_units(round_: Round) -> list[str]:
    """Names of units in scope whose final sheet is not approved (they would be published as 未完成)."""
    return [row.name for row in round_results(round_) if row.final_status != "approved"]


def publish(round_: Round, user: User, *, confirm_incomplete: bool = False) -> None:
    """Publish (or republish) a round: every sheet becomes read-only. Incomplete units need explicit confirmation."""
    if round_.status not in ("inspection", "review", "published"):
        raise Conflict("该批次尚未进入评估阶段，不能公布")
    republish = round_.status == "published"
    if republish and not round_.changed_since_publication:
        raise Conflict("该批次已公布，且公布后没有改动")
    open_unlocked = db.session.scalars(select(Sheet).where(
        Sheet.round_id == round_.id, Sheet.unlocked.is_(True), Sheet.status != "approved")).all()
    if open_unlocked:
        names = "、".join(s.unit.name for s in open_unlocked)
        raise Conflict(f"以下解锁的评分表尚未重新审核通过：{names}")
    incomplete = incomplete_units(round_)
    if incomplete and not confirm_incomplete:
        raise Invalid(f"以下{len(incomplete)}个单位尚无审核通过的评分表，公布后将记为“未完成”：" + "、".join(incomplete),
                      {"incomplete": "、".join(incomplete)})
    old = round_.status
    round_.status = "published"
    round_.published_at = utcnow()
    round_.changed_since_publication = False
    db.session.execute(update(Sheet).where(Sheet.round_id == round_.id, Sheet.unlocked.is_(True))
                       .values(unlocked=False))
    audit.record("round.republish" if republish else "round.publish", user=user, obj=round_, round_id=round_.id,
                 old={"status": old}, new={"status": "published", "incomplete": incomplete},
                 detail=("未完成：" + "、".join(incomplete)) if incomplete else "")
    db.session.commit()


def unlock(sheet: Sheet, user: User, reason: str) -> None:
    """Unlock one sheet of a published round (admin, with a reason): it goes back to review."""
    reason = (reason or "").strip()
    if sheet.round.status != "published":
        raise Conflict("只有已公布批次的评分表需要解锁")
    if sheet.unlocked:
        raise Conflict("该评分表已解锁")
    if not reason:
        raise Invalid("解锁须填写理由", {"reason": "请填写解锁理由"})
    if len(reason) > 2000 or "\x00" in reason:
        raise Invalid("理由过长或含有无效字符", {"reason": "理由不能超过2000字"})
    sheet.unlocked = True
    sheet.round.changed_since_publication = True
    audit.record("sheet.unlock", user=user, obj=sheet, unit_id=sheet.unit_id, round_id=sheet.round_id,
                 old={"status": sheet.status}, new={"unlocked": True}, detail=reason)
    if sheet.status == "approved":
        move_sheet(sheet, "returned", user, f"解锁：{reason}", commit=False)
    db.session.commit()
