"""Issue 30, point 4: the audit export as it prints — 1,336 rows on at most 60 A4 pages (fitted to the width, one line
per row), each page with its header and page number; values labelled, objects named (LibreOffice, recalculation
forced, one soffice call); the catalogue export with widths and print set-up."""
import io
import re
from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import insert, select

from evalapp.domain.audit_labels import values_text
from evalapp.extensions import db
from evalapp.models import AuditEvent, CatalogueVersion, User
from evalapp.services import audit, catalogue_io
from evalapp.services.xlsx import PAPER_LAYOUT_LABEL
from tests.test_paper_eligibility_render import page_texts, render
from tests.test_paper_eligibility_render import pytestmark as _render_marks
from tests.factories import make_round

ROWS = 1336
pytestmark = _render_marks  # LibreOffice and pdftotext, the SQLite pass


def test_values_are_labelled_not_json():
    assert values_text({"status": "submitted", "points": "95.00", "unlocked": True}) == "分值：95.00；状态：已提交；已解锁：是"
    assert values_text({"closed": [3, 4], "filters": {"action": "score"}}) == "关闭的评分表：3、4；筛选条件：操作：score"
    assert values_text(None) == "" and values_text({}) == ""
    assert values_text({"reason": "很长" * 500}, limit=20).endswith("…")


def test_the_audit_export_of_1336_rows_prints_on_at_most_60_pages_with_page_numbers(empty_app, tmp_path):
    w = make_round("inspection")
    admin = w.people["admin"]
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    db.session.execute(insert(AuditEvent), [
        {"at": start + timedelta(minutes=n), "user_id": admin.id, "action": "score.save", "object_type": "Score",
         "object_id": None, "unit_id": w.units[next(iter(w.units))].id, "round_id": w.round.id,
         "old": {"points": "10.00", "reason": ""}, "new": {"points": f"{n % 10}.50", "reason": "台账记录不全，扣分"},
         "detail": "第一工作组实地核查：" + "台账" * (n % 7), "ip": "10.0.0.8"} for n in range(ROWS)])
    db.session.commit()
    filters, problems = audit.parse_filters({})
    assert not problems
    made = audit.export(filters, db.session.get(User, admin.id))
    with made.file:
        data = made.file.read()
    assert made.written >= ROWS
    ws = load_workbook(io.BytesIO(data))["操作日志"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert "&P" in ws.oddFooter.center.text and "操作日志" in ws.oddHeader.left.text
    header = [c.value for c in ws[1]]
    first = dict(zip(header, next(ws.iter_rows(min_row=2, values_only=True))))
    assert first["新值"].startswith("分值：") and "{" not in first["原值"]
    notes = dict(load_workbook(io.BytesIO(data))["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["版式"] == PAPER_LAYOUT_LABEL
    pdf = render({"audit": data}, tmp_path, "audit")["audit"]
    texts = page_texts(pdf)
    pages = [t for t in texts if "操作日志" in t and "导出条数" not in t]
    assert 1 < len(pages) <= 60, len(texts)
    for n, text in enumerate(pages, start=1):
        assert re.search(rf"第\s*{n}\s*页，共\s*{len(texts)}\s*页", text), n
        assert "时间(北京时间)" in text  # the header row on every page


def test_the_catalogue_export_has_widths_and_print_set_up(empty_app, tmp_path):
    w = make_round("inspection")
    version = db.session.get(CatalogueVersion, w.round.village_catalogue_id)
    data = catalogue_io.catalogue_workbook(version).getvalue()
    book = load_workbook(io.BytesIO(data))
    rules = book["指标"]
    for col in "ABCDEFGHIJKL":
        assert (rules.column_dimensions[col].width or 0) >= 6, col
    assert rules.column_dimensions["E"].width >= 24 and rules.column_dimensions["J"].width >= 24
    assert rules.page_setup.paperSize == 9 and rules.page_setup.orientation == "landscape"
    assert rules.sheet_properties.pageSetUpPr.fitToPage and rules.print_title_rows == "$1:$1"
    assert "&P" in rules.oddFooter.center.text
    pdf = render({"catalogue": data}, tmp_path, "catalogue")["catalogue"]
    whole = re.sub(r"\s+", "", "\n".join(page_texts(pdf)))
    for head in ("一级指标名称", "二级指标名称", "扣分项内容"):
        assert head in whole, head
    assert db.session.scalar(select(CatalogueVersion.id).where(CatalogueVersion.id == version.id))
