"""The audit log: filter and export. Nothing here (or anywhere) edits or deletes an audit row."""
import io
import json

from flask import render_template, request, send_file
from flask_login import current_user

from ..access import role_required
from ..services import audit
from ..services.xlsx import XLSX_MIMETYPE, finish, new_workbook, write_row
from . import bp

FILTERS = ("username", "unit_code", "action", "date_from", "date_to")


def _filters() -> dict:
    return {k: request.args.get(k, "")[:64] for k in FILTERS}


@bp.get("/audit")
@role_required("admin")
def audit_log():
    filters = _filters()
    return render_template("admin/audit.html", events=audit.search(**filters, limit=500), filters=filters)


@bp.get("/audit/export.xlsx")
@role_required("admin")
def audit_export():
    from zoneinfo import ZoneInfo

    events = audit.search(**_filters(), limit=None)
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("操作日志")
    bold = wb.add_format({"bold": True})
    write_row(ws, 0, ["时间(北京时间)", "用户", "操作", "对象", "单位", "批次", "原值", "新值", "说明", "IP"], bold)
    for i, e in enumerate(events, start=1):
        write_row(ws, i, [e.at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S"),
                          e.user.username if e.user else "", e.action, f"{e.object_type} {e.object_id or ''}".strip(),
                          str(e.unit_id or ""), str(e.round_id or ""),
                          json.dumps(e.old, ensure_ascii=False) if e.old else "",
                          json.dumps(e.new, ensure_ascii=False) if e.new else "", e.detail or "", e.ip or ""])
    ws.freeze_panes(1, 0)
    finish(wb, buffer)
    audit.record("export.audit", user=current_user, address=request.remote_addr,
                 detail=json.dumps(_filters(), ensure_ascii=False))
    from ..extensions import db

    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name="操作日志.xlsx",
                     mimetype=XLSX_MIMETYPE)
