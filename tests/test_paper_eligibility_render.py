"""Issue 30, point 3: the 奖补资格表 as finance files it, rendered by LibreOffice with recalculation forced (one soffice
call per test) and read back: the 明细 fitted to the page's width with its header rows repeated, its smallest printed
glyph at least 9 pt; padded cells; 汇总 signed (制表人, 审核人) and sealed; 变更 with a title, wrapped reasons and a
sign-off, 无变更 where no unit changed; and no formula in any sheet over an empty range or its own cell."""
import io
import os
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, Sheet, User
from evalapp.services import publication, rounds as rounds_service
from evalapp.services.moves import move_sheet
from evalapp.services.xlsx import PAPER_LAYOUT_LABEL
from tests.test_paper_render import ARTIFACTS, _client, demo_round  # noqa: F401  (the fixture)
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

pytestmark = [pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                 reason="LibreOffice (soffice) and pdftotext needed"),
              pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                 reason="LibreOffice renders in the SQLite pass (the same files on either engine)")]
SHOTS = "/tmp/shots-paper"
# LibreOffice recalculates every formula of an xlsx it opens (never trusting the cached values).
RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def render(files: dict[str, bytes], tmp_path, tag: str) -> dict[str, str]:
    """Every file in one `soffice --convert-to pdf` call, recalculating on load; PDF paths by name, each also
    copied to test-artifacts/ and its pages drawn to /tmp/shots-paper/ (60 dpi)."""
    profile = tmp_path / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC)
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(str(path))
    done = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), *paths],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    os.makedirs(ARTIFACTS, exist_ok=True)
    os.makedirs(SHOTS, exist_ok=True)
    out = {}
    for name in files:
        pdf = str(tmp_path / f"{name}.pdf")
        shutil.copy(pdf, os.path.join(ARTIFACTS, f"paper-{name}-{tag}.pdf"))
        subprocess.run(["pdftoppm", "-png", "-r", "60", pdf, os.path.join(SHOTS, f"{name}-{tag}")], check=True)
        out[name] = pdf
    return out


def page_texts(pdf: str) -> list[str]:
    return subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")[:-1]


def smallest_glyph(pdf: str, pages: list[int]) -> float:
    """The smallest printed glyph on the given pages (1-based), in points: the height of the smallest word box
    (pdftotext -bbox), which is at least the font's size for CJK text and digits with their line's descent."""
    html = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True, check=True).stdout
    smallest = 1000.0
    for n, body in enumerate(html.split("<page ")[1:], start=1):
        if n in pages:
            for a, b in re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', body):
                smallest = min(smallest, float(b) - float(a))
    return smallest


def font_sizes(pdf: str, pages: list[int]) -> float:
    """The smallest font size as printed (the size times the text and page matrices' scale) on the given pages."""
    from pypdf import PdfReader

    smallest = 1000.0
    reader = PdfReader(pdf)
    for n in pages:
        def visit(text, cm, tm, font, size):
            nonlocal smallest
            if text.strip():
                scale_y = abs(tm[3] * cm[3] + tm[1] * cm[2]) or 1
                smallest = min(smallest, size * scale_y)
        reader.pages[n - 1].extract_text(visitor_text=visit)
    return smallest


def bad_formulas(data: bytes) -> list[str]:
    """Every formula (of every sheet) whose range is empty (end above start) or covers its own cell."""
    bad = []
    for ws in load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    for c1, r1, c2, r2 in re.findall(r"\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", c.value):
                        r1, r2 = int(r1), int(r2)
                        k1, k2 = column_index_from_string(c1), column_index_from_string(c2)
                        if r2 < r1 or (r1 <= c.row <= r2 and k1 <= c.column <= k2):
                            bad.append(f"{ws.title}!{c.coordinate} {c.value}")
    return bad


def _republish_unchanged(round_):
    """Version 2 made by a republication that changed no unit: a final sheet unlocked and approved again as it was."""
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == round_.id, Sheet.kind == "final",
                                                  Sheet.status == "approved").order_by(Sheet.id))
    publication.unlock(sheet, admin, "核对台账，分值不变")
    move_sheet(sheet, "submitted", admin)
    move_sheet(sheet, "approved", admin)
    return publication.publish(round_, db.session.scalar(select(User).where(User.username == "district")),
                               confirm_incomplete=True, confirm_no_subsidy=True)


def test_the_eligibility_sheet_prints_as_finance_files_it(app, demo_round, tmp_path):
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    while db.session.get(Round, demo_round.id).status != "review":
        rounds_service.advance(demo_round, admin, confirm=True)
    publication.publish(demo_round, db.session.scalar(select(User).where(User.username == "district")),
                        confirm_incomplete=True, confirm_no_subsidy=True)
    _republish_unchanged(demo_round)
    data = _client(app, "finance").get(f"/finance/rounds/{demo_round.id}/eligibility.xlsx").data
    assert bad_formulas(data) == []
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["汇总", "明细", "变更", "说明"]
    detail = wb["明细"]
    assert detail.sheet_properties.pageSetUpPr.fitToPage  # as wide as the page (1, the default), as long as it runs
    assert (detail.page_setup.fitToWidth or 1) == 1 and detail.page_setup.fitToHeight == 0
    assert detail.print_title_rows == "$4:$4"  # the header row on every page
    assert any(r[1] == PAPER_LAYOUT_LABEL for r in wb["说明"].iter_rows(values_only=True))
    pdf = render({"eligibility": data}, tmp_path, "v2-unchanged")["eligibility"]
    texts = page_texts(pdf)
    whole = "\n".join(texts)
    assert "Err:" not in whole and "#VALUE" not in whole and "#REF" not in whole
    detail_pages = [n for n, t in enumerate(texts, start=1) if "奖补方式" in t]
    assert detail_pages and smallest_glyph(pdf, detail_pages) >= 9
    assert font_sizes(pdf, detail_pages) >= 9
    # Padded: the 序号 and the code, the total and the result, never run together.
    assert not re.search(r"\b\d{1,2}430603\d{3}", whole) and not re.search(r"\d\.\d\d(合格|不合格)", whole)
    summary = next(t for t in texts if "（汇总）" in t)
    assert "制表人" in summary and "审核人" in summary and "盖章" in summary
    changes = next(t for t in texts if "变更明细" in t)
    assert "无变更" in changes and "制表人" in changes and "盖章" in changes


def test_no_formula_of_any_draft_or_empty_sheet_covers_its_own_cell(app, demo_round):
    """A 草稿 without pending changes, and the 合计 rows of sheets with lines; the district workbook too."""
    finance = _client(app, "finance")
    draft = finance.get(f"/finance/rounds/{demo_round.id}/eligibility.xlsx").data
    assert bad_formulas(draft) == []
    workbook = _client(app, "district").get(f"/results/rounds/{demo_round.id}/workbook.xlsx").data
    assert bad_formulas(workbook) == []
    # The district workbook has no 说明 sheet: its properties name the layout revision that made it.
    assert load_workbook(io.BytesIO(workbook)).properties.description == PAPER_LAYOUT_LABEL
