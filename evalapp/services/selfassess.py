"""Self-assessment: the 工作总结, reviewers' comments per indicator, history, and the township lead's queue."""
import hashlib
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..domain.text import text_problem
from ..extensions import db
from ..models import EvidenceFile, Indicator, OrgUnit, ReviewComment, Sheet, SheetTransition, User
from ..models.base import utcnow
from .. import access
from . import audit, proxy
from .errors import Conflict, Invalid, NotAllowed, NotFound, Text, _l, check_text, marked

MAX_SUMMARY = 10_000
MAX_COMMENT = 2_000


def clean_summary(text) -> str:
    """The 工作总结 as it will be stored: line breaks made \\n; Invalid (by field) when too long or when it holds
    control characters other than line breaks and tabs (a pasted NUL or escape code, a lone surrogate from JSON)."""
    if not isinstance(text, str):
        raise Invalid("summary.not_text", _l("工作总结应为文字"), {"summary": _l("应为文字")})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_SUMMARY:
        message = _l("工作总结不能超过%(max)s字（现有%(length)s字）", max=MAX_SUMMARY, length=len(text))
        raise Invalid("summary.too_long", message, {"summary": message})
    check_text("summary.control_character", "summary", _l("工作总结"), text, box=True)
    return text


def summary_read_only_reason(sheet: Sheet) -> Text:
    """Why this user may not change the sheet's 工作总结 (for the message)."""
    if sheet.status in ("submitted", "approved"):
        return _l("自评表%(status)s，工作总结不能再修改", status=marked(sheet.status_label))
    if sheet.round.status != "self_assessment":
        return _l("自评阶段已结束，工作总结不能再修改")
    return _l("您不能修改此工作总结")


def require_summary_editable(sheet: Sheet, user: User) -> None:
    """NotAllowed (with the reason) unless this user may change this self sheet's 工作总结 now."""
    if sheet.kind != "self":
        raise NotFound("sheet.not_found", _l("自评表不存在"))
    if not access.can_edit_sheet(user, sheet):
        raise NotAllowed("summary.read_only", summary_read_only_reason(sheet))


def save_summary(sheet: Sheet, text, user: User, version: int | None = None, *, address: str | None = None) -> int:
    """Save the 工作总结 of a self sheet and return the sheet's new version.

    The one rule for the page's form and the API: only the unit's own user while the sheet is editable
    (access.can_edit_sheet), at most 10,000 characters, no control characters but line breaks and tabs, an audit
    row. `version` (the sheet's version the text was based on; None: the version just read) guards against
    overwriting a save from another tab: a stale one is a Conflict carrying the saved text. Saving the text that is
    already stored changes nothing and is acknowledged whatever its version.
    """
    require_summary_editable(sheet, user)
    text = clean_summary(text)
    old, current = sheet.summary or "", sheet.version
    if text == old:
        return current
    if version is not None and version != current:
        raise Conflict("summary.conflict", _l("工作总结已在其他页面修改过，请核对后再保存"), current=summary_state(sheet))
    # Round results read neither the summary nor the sheet's version: no results version to bump.
    result = db.session.execute(
        update(Sheet).where(Sheet.id == sheet.id, Sheet.version == current,
                            Sheet.status.in_(("draft", "returned")))
        .values(summary=text, version=Sheet.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # moved on between the read and the write
        db.session.rollback()
        db.session.refresh(sheet)
        if not access.can_edit_sheet(user, sheet):
            raise NotAllowed("summary.read_only", summary_read_only_reason(sheet))
        raise Conflict("summary.conflict", _l("工作总结已在其他页面修改过，请核对后再保存"), current=summary_state(sheet))
    audit.record("sheet.summary", user=user, address=address, obj=sheet, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, old={"length": len(old), "version": current, "sha256": _digest(old)},
                 new=proxy.note_in(sheet, user, {"length": len(text), "version": current + 1, "sha256": _digest(text)}))
    db.session.commit()
    db.session.expire(sheet)
    return current + 1


def summary_state(sheet: Sheet) -> dict:
    """The saved 工作总结 and the version to base the next save on."""
    return {"summary": sheet.summary or "", "version": sheet.version}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_comment(sheet: Sheet, indicator_code: str | None, text: str, user: User, *,
                address: str | None = None) -> ReviewComment:
    """A reviewer's comment on one indicator (or on the whole sheet)."""
    text = (text or "").strip()
    if not text:
        raise Invalid("comment.required", _l("请填写意见"), {"comment": _l("请填写意见")})
    check_text("comment.invalid", "comment", _l("意见"), text, box=True)
    if len(text) > MAX_COMMENT:
        raise Invalid("comment.invalid", _l("意见不能超过%(max)s字", max=MAX_COMMENT), {"comment": _l("意见过长或含有无效字符")})
    indicator_id = None
    if indicator_code:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        indicator_id = (db.session.scalar(select(Indicator.id).where(Indicator.catalogue_id == catalogue.id,
                                                                     Indicator.code == indicator_code[:32]))
                        if text_problem(indicator_code) is None else None)  # (a NUL: PostgreSQL's error)
        if indicator_id is None:
            raise Invalid("comment.indicator_not_found", _l("指标不存在"), {"comment": _l("指标不存在")})
    comment = ReviewComment(sheet_id=sheet.id, indicator_id=indicator_id, author_id=user.id, text=text)
    db.session.add(comment)
    db.session.flush()
    audit.record("sheet.comment", user=user, address=address, obj=comment, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, new={"indicator": indicator_code, "text": text})
    db.session.commit()
    return comment


@dataclass
class SelfExtras:
    comments: dict[int | None, list[ReviewComment]]
    history: list[SheetTransition]
    documents: list[EvidenceFile]


def extras(sheet: Sheet) -> SelfExtras:
    """Comments by indicator, the status history and the documents of a self sheet."""
    comments: dict[int | None, list[ReviewComment]] = {}
    for c in db.session.scalars(select(ReviewComment).where(ReviewComment.sheet_id == sheet.id)
                                .options(selectinload(ReviewComment.author)).order_by(ReviewComment.id)):
        comments.setdefault(c.indicator_id, []).append(c)
    history = db.session.scalars(select(SheetTransition).where(SheetTransition.sheet_id == sheet.id)
                                 .options(selectinload(SheetTransition.actor)).order_by(SheetTransition.id)).all()
    documents = db.session.scalars(select(EvidenceFile).where(
        EvidenceFile.sheet_id == sheet.id, EvidenceFile.kind == "document", EvidenceFile.deleted_at.is_(None))
        .order_by(EvidenceFile.id)).all()
    return SelfExtras(comments, history, documents)


def township_village_ids(township_id: int) -> list[int]:
    return list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id == township_id)))

