"""Issue 30, point 5: a unit at or above the line reads 已达合格线 under 距合格线 — on the results page, the finance
page, the printed 评分表, the district workbook and the finance 奖补资格表 — never 0.00; a failing unit keeps its
points missing."""
import io
import re

import openpyxl
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet
from tests.factories import OTHER_TOWNSHIP, TOWNSHIP, VILLAGE
from tests.test_publication_snapshot import _client, published  # noqa: F401  (the fixture)


def _column(ws, name: str, header: str) -> dict:
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if header in r and "单位名称" in r)
    head = list(rows[at])
    return {r[head.index("单位名称")]: r[head.index(header)] for r in rows[at + 1:]
            if r[head.index("单位名称")]}


def test_passing_units_read_reached_the_line_on_every_page_and_sheet(published, empty_app):
    w = published
    district, finance = _client(empty_app, "district"), _client(empty_app, "finance")
    for client, url in ((district, f"/results/rounds/{w.round.id}"), (finance, f"/finance/rounds/{w.round.id}")):
        page = client.get(url).get_data(as_text=True)
        cells = re.findall(r"data-missing>(.*?)</td>", page)
        assert len(cells) == 4 and sum("已达合格线" in c for c in cells) == 3, url  # 清溪镇 97, 白沙街道 95.00, 石桥社区 99
        assert not any("0.00" in c for c in cells) and any(c.strip() == "0.50" for c in cells), cells  # 荷塘村 94.50

    for name, expected in ((OTHER_TOWNSHIP, "已达合格线"), (VILLAGE, "0.50")):
        sheet = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                      Sheet.unit_id == w.units[name].id))
        html = district.get(f"/results/sheets/{sheet.id}/print").get_data(as_text=True)
        row = html.split('data-testid="missing"')[1].split("</tr>")[0]
        assert expected in row and (expected != "已达合格线" or "0.00" not in row), name

    workbook = openpyxl.load_workbook(io.BytesIO(district.get(f"/results/rounds/{w.round.id}/workbook.xlsx").data))
    missing = {}
    for ws in workbook.worksheets:
        try:
            missing.update(_column(ws, ws.title, "距合格线"))
        except StopIteration:
            continue
    assert missing[TOWNSHIP] == "已达合格线" and missing[OTHER_TOWNSHIP] == "已达合格线"
    assert missing[VILLAGE] == 0.5

    sheet = openpyxl.load_workbook(io.BytesIO(finance.get(f"/finance/rounds/{w.round.id}/eligibility.xlsx").data))
    detail = _column(sheet["明细"], "明细", "距合格线")
    assert detail[TOWNSHIP] == "已达合格线" and detail[OTHER_TOWNSHIP] == "已达合格线" and detail[VILLAGE] == 0.5
