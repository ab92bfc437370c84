"""Self-assessment documents: PDF, DOCX, XLSX, JPEG, PNG up to 20 MB, checked by content, not by name.

The type is the one the bytes open as (services.filecheck), and the name kept and sent back ends with that type's
extension, whatever the uploader's said (材料.hta holding a PDF is kept and downloaded as 材料.pdf).
"""
import hashlib

from sqlalchemy import select, update

from .. import access
from ..domain.filenames import clean_name, with_extension
from ..extensions import db
from ..models import EvidenceFile, Sheet, User
from ..models.base import utcnow
from . import audit, proxy
from .errors import Invalid, NotAllowed, NotFound, Text, _l, marked
from .filecheck import verify
from .storage import storage

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
TYPES = {
    "pdf": ("application/pdf", ".pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
}
OTHER_SPELLINGS = {".jpg": (".jpeg",)}  # a name already ending .jpeg keeps it
FALLBACK_NAME = "材料"


def _refuse(code: str, message: Text):
    raise Invalid(code, message, {"document": message})


def stored_name(original_name: str | None, kind: str) -> str:
    """The name a document is kept under: the uploader's, cleaned (domain.filenames), ending with its type's
    extension."""
    suffix = TYPES[kind][1]
    return with_extension(original_name, suffix, FALLBACK_NAME, OTHER_SPELLINGS.get(suffix, ()))


def download_name(doc: EvidenceFile) -> tuple[str, str]:
    """The name a document is downloaded under, and its ASCII fallback: its name made safe again (rows stored
    before the name rule came keep the uploader's extension), ending with the extension of the type it was verified
    as (sending.send_download writes the header)."""
    kind = next((k for k, (content_type, _) in TYPES.items() if content_type == doc.content_type), None)
    suffix = TYPES[kind][1] if kind else ".bin"
    return (with_extension(doc.original_name, suffix, FALLBACK_NAME, OTHER_SPELLINGS.get(suffix, ())),
            f"document-{doc.id}{suffix}")


def add_document(sheet: Sheet, data: bytes, original_name: str, user: User, *,
                 address: str | None = None) -> EvidenceFile:
    """Store a document for a self-assessment sheet (the unit's own user, while the sheet is editable)."""
    if not access.can_edit_sheet(user, sheet):
        if sheet.status in ("submitted", "approved"):
            raise NotAllowed("document.sheet_closed", _l("自评表%(status)s，不能再上传材料", status=marked(sheet.status_label)))
        raise NotAllowed("document.upload_not_allowed", _l("您不能为此自评表上传材料"))
    if not data:
        _refuse("document.empty", _l("请选择要上传的文件") if not original_name else _l("文件为空"))
    if len(data) > MAX_DOCUMENT_BYTES:
        _refuse("document.too_large", _l("文件不能超过20MB"))
    kind = verify(data)
    content_type, suffix = TYPES[kind]
    store = storage()
    key = store.new_key(suffix)
    store.save(key, data)
    try:
        doc = EvidenceFile(sheet_id=sheet.id, indicator_id=None, kind="document", storage_key=key,
                           original_name=stored_name(original_name, kind), sha256=hashlib.sha256(data).hexdigest(),
                           content_type=content_type, size=len(data), uploaded_by_id=user.id)
        db.session.add(doc)
        db.session.flush()
        audit.record("document.add", user=user, address=address, obj=doc, unit_id=sheet.unit_id,
                     round_id=sheet.round_id, new=proxy.note_in(sheet, user, {
                         "name": doc.original_name, "sha256": doc.sha256, "type": kind,
                         "uploaded_as": clean_name(original_name, "")}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(key)
        raise
    return doc


def remove_document(doc: EvidenceFile, user: User, *, address: str | None = None) -> None:
    """Withdraw a document of a self sheet while the sheet is still the unit's to edit (not once submitted).

    Kept in storage and in the audit log, no longer listed or downloadable (as for photos: services.evidence).
    """
    if doc.kind != "document" or doc.deleted_at is not None:
        raise NotFound("document.not_found", _l("材料不存在或已删除"))
    sheet = doc.sheet
    if not access.can_edit_sheet(user, sheet):
        if sheet.status in ("submitted", "approved"):
            raise NotAllowed("document.sheet_closed", _l("自评表%(status)s，材料不能再删除", status=marked(sheet.status_label)))
        raise NotAllowed("document.remove_not_allowed", _l("您不能删除此材料"))
    # Conditional, so that a double click (or two tabs) withdraws it once and writes one audit row.
    result = db.session.execute(
        update(EvidenceFile).where(
            EvidenceFile.id == doc.id, EvidenceFile.deleted_at.is_(None),
            EvidenceFile.sheet_id.in_(select(Sheet.id).where(Sheet.id == sheet.id,
                                                             Sheet.status.in_(("draft", "returned")))))
        .values(deleted_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # withdrawn or submitted meanwhile
        db.session.rollback()
        db.session.refresh(sheet)
        if sheet.status not in ("draft", "returned"):
            raise NotAllowed("document.sheet_closed", _l("自评表%(status)s，材料不能再删除", status=marked(sheet.status_label)))
        raise NotFound("document.not_found", _l("材料不存在或已删除"))
    audit.record("document.remove", user=user, address=address, obj=doc, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, old={"name": doc.original_name, "sha256": doc.sha256},
                 new=proxy.note_in(sheet, user, None))
    db.session.commit()
    db.session.expire(doc)
