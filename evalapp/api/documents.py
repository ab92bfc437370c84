"""Self-assessment documents over the API: the page's upload and download (selfassess.routes), the same rules."""
from flask import jsonify, request, url_for
from flask_login import current_user

from .. import access
from ..bodylimits import body_limit
from ..extensions import db
from ..models import EvidenceFile
from ..services import documents
from ..services.errors import NotFound, _l
from ..sending import send_stored
from . import bp
from .summary import _self_sheet


def _document_json(doc: EvidenceFile) -> dict:
    return {"id": doc.id, "name": doc.original_name, "content_type": doc.content_type, "size": doc.size,
            "sha256": doc.sha256, "url": url_for("api.get_document", doc_id=doc.id)}


@bp.post("/sheets/<int:sheet_id>/documents")
@body_limit("document")
def add_document(sheet_id: int):
    """Upload a document (multipart field `document`) to a self-assessment the caller may edit: checked by content
    as on the page (services.documents.add_document), kept under a name ending with the type found."""
    sheet = _self_sheet(sheet_id)
    upload = request.files.get("document")
    data = upload.read(documents.MAX_DOCUMENT_BYTES + 1) if upload is not None else b""
    doc = documents.add_document(sheet, data, upload.filename if upload is not None else "", current_user,
                                 address=request.remote_addr)
    return jsonify(_document_json(doc)), 201


@bp.get("/documents/<int:doc_id>")
def get_document(doc_id: int):
    """A document's file, for a caller who may see its sheet (404 otherwise, so ids reveal nothing), as an
    attachment named as the page names it."""
    doc = db.session.get(EvidenceFile, doc_id)
    if doc is None or doc.kind != "document" or doc.deleted_at is not None \
            or not access.can_view_sheet(current_user, doc.sheet):
        raise NotFound("document.not_found", _l("材料不存在或已删除"))
    name, fallback = documents.download_name(doc)
    return send_stored(doc.storage_key, name, doc.content_type, fallback=fallback, max_age=0)
