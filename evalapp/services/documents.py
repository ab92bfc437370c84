"""Self-assessment documents: PDF, DOCX, XLSX, JPEG, PNG up to 20 MB, checked by content, not by name."""
import hashlib
import io
import zipfile

from ..extensions import db
from ..models import EvidenceFile, Sheet, User
from . import audit
from .errors import Invalid
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


def _refuse(message: str):
    raise Invalid(message, {"document": message})


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
            _refuse("文件已损坏，无法识别")
        if "[Content_Types].xml" in names:
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                _refuse("不接受含宏的Office文件，请另存为不含宏的 .docx 或 .xlsx")
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    _refuse("只接受PDF、Word(.docx)、Excel(.xlsx)、JPEG或PNG文件（按文件内容识别，改扩展名无效）")


def add_document(sheet: Sheet, data: bytes, original_name: str, user: User) -> EvidenceFile:
    """Store a document for a self-assessment sheet."""
    if not data:
        _refuse("文件为空")
    if len(data) > MAX_DOCUMENT_BYTES:
        _refuse("文件不能超过20MB")
    kind = sniff(data)
    content_type, suffix = TYPES[kind]
    store = storage()
    key = store.new_key(suffix)
    store.save(key, data)
    try:
        doc = EvidenceFile(sheet_id=sheet.id, indicator_id=None, kind="document", storage_key=key,
                           original_name=_clean_name(original_name), sha256=hashlib.sha256(data).hexdigest(),
                           content_type=content_type, size=len(data), uploaded_by_id=user.id)
        db.session.add(doc)
        db.session.flush()
        audit.record("document.add", user=user, obj=doc, unit_id=sheet.unit_id, round_id=sheet.round_id,
                     new={"name": doc.original_name, "sha256": doc.sha256, "type": kind})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(key)
        raise
    return doc
