"""Self-assessment documents: PDF, DOCX, XLSX, JPEG, PNG up to 20 MB, checked by content, not by name."""
import hashlib
import io
import zipfile

from sqlalchemy import select, update

from .. import access
from ..extensions import db
from ..models import EvidenceFile, Sheet, User
from ..models.base import utcnow
from . import audit
from .errors import Invalid, NotAllowed, NotFound, Text, _l, marked
from .evidence import _clean_name
from .storage import storage

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
TYPES = {
    "pdf": ("application/pdf", ".pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
}


def _refuse(code: str, message: Text):
    raise Invalid(code, message, {"document": message})


def sniff(data: bytes) -> str:
    """The document's real type from its bytes; refuses anything not on the list (and Office files with macros)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            _refuse("document.corrupt", _l("文件已损坏，无法识别"))
        if "[Content_Types].xml" in names:
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                _refuse("document.macros", _l("不接受含宏的Office文件，请另存为不含宏的 .docx 或 .xlsx"))
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    _refuse("document.type", _l("只接受PDF、Word(.docx)、Excel(.xlsx)、JPEG或PNG文件（按文件内容识别，改扩展名无效）"))


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
    kind = sniff(data)
    content_type, suffix = TYPES[kind]
    store = storage()
    key = store.new_key(suffix)
    store.save(key, data)
    try:
        doc = EvidenceFile(sheet_id=sheet.id, indicator_id=None, kind="document", storage_key=key,
                           original_name=_clean_name(original_name or "材料"), sha256=hashlib.sha256(data).hexdigest(),
                           content_type=content_type, size=len(data), uploaded_by_id=user.id)
        db.session.add(doc)
        db.session.flush()
        audit.record("document.add", user=user, address=address, obj=doc, unit_id=sheet.unit_id,
                     round_id=sheet.round_id, new={"name": doc.original_name, "sha256": doc.sha256, "type": kind})
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
                 round_id=sheet.round_id, old={"name": doc.original_name, "sha256": doc.sha256})
    db.session.commit()
    db.session.expire(doc)
