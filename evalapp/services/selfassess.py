"""Self-assessment: the 工作总结, reviewers' comments per indicator, history, and the township lead's queue."""
from dataclasses import dataclass
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import EvidenceFile, Indicator, OrgUnit, ReviewComment, Sheet, SheetTransition, User
from ..models.base import utcnow
from . import audit
from .errors import Invalid

MAX_SUMMARY = 10_000
MAX_COMMENT = 2_000


def save_summary(sheet: Sheet, text: str, user: User) -> None:
    """Save the 工作总结 (up to 10,000 characters)."""
    text = (text or "").replace("\r\n", "\n")
    if len(text) > MAX_SUMMARY:
        raise Invalid(f"工作总结不能超过{MAX_SUMMARY}字（现有{len(text)}字）", {"summary": "字数超出"})
    if "\x00" in text:
        raise Invalid("工作总结含有无效字符", {"summary": "含有无效字符"})
    old = sheet.summary
    sheet.summary = text
    sheet.updated_at = utcnow()
    audit.record("sheet.summary", user=user, obj=sheet, unit_id=sheet.unit_id, round_id=sheet.round_id,
                 old={"length": len(old)}, new={"length": len(text)})
    db.session.commit()


def add_comment(sheet: Sheet, indicator_code: str | None, text: str, user: User) -> ReviewComment:
    """A reviewer's comment on one indicator (or on the whole sheet)."""
    text = (text or "").strip()
    if not text:
        raise Invalid("请填写意见", {"comment": "请填写意见"})
    if len(text) > MAX_COMMENT or "\x00" in text:
        raise Invalid(f"意见不能超过{MAX_COMMENT}字", {"comment": "意见过长或含有无效字符"})
    indicator_id = None
    if indicator_code:
        catalogue = sheet.round.catalogue_for(sheet.unit.level)
        indicator_id = db.session.scalar(select(Indicator.id).where(Indicator.catalogue_id == catalogue.id,
                                                                    Indicator.code == indicator_code[:32]))
        if indicator_id is None:
            raise Invalid("指标不存在", {"comment": "指标不存在"})
    comment = ReviewComment(sheet_id=sheet.id, indicator_id=indicator_id, author_id=user.id, text=text)
    db.session.add(comment)
    db.session.flush()
    audit.record("sheet.comment", user=user, obj=comment, unit_id=sheet.unit_id, round_id=sheet.round_id,
                 new={"indicator": indicator_code, "text": text})
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

