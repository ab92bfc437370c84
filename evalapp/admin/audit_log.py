"""The audit log: filter, page and export. Nothing here (or anywhere) edits or deletes an audit row."""
from flask import current_app, render_template, request
from flask_login import current_user

from ..access import role_required
from ..sending import send_download
from ..services import audit
from ..services.xlsx import XLSX_MIMETYPE
from . import bp

PAGE_SIZE = 50  # rows per page (config AUDIT_PAGE_SIZE overrides)


@bp.get("/audit")
@role_required("admin")
def audit_log():
    filters, problems = audit.parse_filters(request.args)
    size = current_app.config.get("AUDIT_PAGE_SIZE", PAGE_SIZE)
    return render_template("admin/audit.html", page=audit.page(filters, request.args.get("page"), size),
                           filters=filters, args=filters.args(), problems=problems, rounds=audit.round_choices(),
                           max_rows=audit.MAX_DATA_ROWS)


@bp.get("/audit/export.xlsx")
@role_required("admin")
def audit_export():
    filters, _ = audit.parse_filters(request.args)  # the page has shown why a filter is ignored
    made = audit.export(filters, current_user, address=request.remote_addr)
    return send_download(made.file, made.name, XLSX_MIMETYPE, fallback="audit.xlsx")
