"""The 工作总结 of a self-assessment sheet: read it, and save it (the page's autosave, static/js/summary.js)."""
from flask import jsonify, request
from flask_login import current_user

from .. import access
from ..models import Sheet
from ..services import selfassess, sheet_views
from ..services.errors import Invalid, NotFound, _l
from . import bp

# Ids beyond the INTEGER columns: no such row (PostgreSQL would refuse the look-up with an error, not none).
from .parsing import json_body


def _self_sheet(sheet_id: int) -> Sheet:
    """The self sheet if the caller may see it; 404 otherwise (ids reveal nothing)."""
    sheet = sheet_views.load_sheet(sheet_id)
    if sheet is None or sheet.kind != "self" or not access.can_view_sheet(current_user, sheet):
        raise NotFound("sheet.not_found", _l("自评表不存在"))
    return sheet


@bp.get("/sheets/<int:sheet_id>/summary")
def get_summary(sheet_id: int):
    sheet = _self_sheet(sheet_id)
    return jsonify(id=sheet.id, **selfassess.summary_state(sheet),
                   editable=access.can_edit_sheet(current_user, sheet))


@bp.put("/sheets/<int:sheet_id>/summary")
def put_summary(sheet_id: int):
    """Save the summary: {"summary": "...", "version": <the sheet version it was based on>}; 409 with `current`
    when it was saved meanwhile from elsewhere, 422 by field on bad input, 403 once the sheet is submitted."""
    sheet = _self_sheet(sheet_id)
    selfassess.require_summary_editable(sheet, current_user)  # 403 before any complaint about the body
    data = json_body()
    errors = {}
    text, version = data.get("summary"), data.get("version")
    if not isinstance(text, str):
        errors["summary"] = _l("请填写工作总结（文字）") if text is None else _l("应为文字")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        errors["version"] = _l("缺少有效的版本号")
    if errors:
        raise Invalid("summary.invalid", _l("输入有误，请检查"), errors)
    new_version = selfassess.save_summary(sheet, text, current_user, version=version, address=request.remote_addr)
    return jsonify(id=sheet.id, version=new_version, length=len(sheet.summary or ""))
