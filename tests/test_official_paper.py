"""Issue 19, points 3 and 4: the 奖补资格表 and the district workbook as an office files them, read back with openpyxl —
title rows, issuing office and date, 单位：元, the 草稿 banner, signature rows and seal boxes, the band rules with their
ranges; print set-up of the district workbook and rows that add up (indicators + counted bonus = 评估得分)."""
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evalapp.domain.subsidy import Band, SubsidyRule
from evalapp.extensions import db
from evalapp.models import CatalogueVersion, PublishedUnit
from evalapp.services import publication, rounds as rounds_service, snapshots
from evalapp.services import readmodel
from evalapp.services.subsidy import describe_rule, save_rule
from tests.conftest import complete_round
from tests.factories import PASSWORD, PILOT_DISTRICT, make_round

# factories.PILOT_DISTRICT; indicator sums (bonus on top): 石桥村 96.50 + X1 X2 (3 points, capped at 2 below) = 98.50,
# 清溪镇 96 + X1 (2) = 98, 梅溪社区 vetoed, 桃源村 never completed (未完成).
TOTALS = {"荷塘村": "95.00", "柳湾社区": "94.99", "石桥村": "96.50", "杏林村": "96.50", "枫林村": "90",
          "梅溪社区": "100", "清溪镇": "96", "白沙镇": "93.5"}
BONUS = {"石桥村": ["X1", "X2"], "清溪镇": ["X1"]}
HEAD = ["序号", "单位编码", "单位名称", "层级", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次",
        "是否符合奖补条件", "奖补方式/档次", "奖补金额(元)", "备注"]


@pytest.fixture
def world(empty_app):
    w = make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)
    # A village bonus cap below the items' 3 points, so that the workbook must count the bonus capped.
    db.session.get(CatalogueVersion, w.round.village_catalogue_id).bonus_cap = Decimal("2.00")
    db.session.commit()
    complete_round(TOTALS, vetoes={"梅溪社区": "V3"}, bonus=BONUS, leave_out={"桃源村"}, round_=w.round)
    admin = w.people["admin"]
    save_rule(w.round, "township", "bands", "", "95,98,30000\n98,,50000", admin)
    save_rule(w.round, "village", "fixed", "20000", "", admin)
    return w


def _client(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _publish(w):
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    return publication.publish(w.round, w.people["district"], confirm_incomplete=True, confirm_no_subsidy=True)


def _eligibility(app, w):
    response = _client(app, "finance").get(f"/finance/rounds/{w.round.id}/eligibility.xlsx")
    assert response.status_code == 200
    return response, load_workbook(io.BytesIO(response.data))


def _rows(ws, at: int) -> list[tuple]:
    return list(ws.iter_rows(min_row=at, values_only=True))


def test_the_draft_sheet_has_a_title_the_issuer_a_visible_draft_banner_signatures_and_seals(world, empty_app):
    _, wb = _eligibility(empty_app, world)
    assert wb.sheetnames == ["汇总", "明细", "说明"]
    detail = wb["明细"]
    title, issued, banner, head = (_rows(detail, 1)[i] for i in range(4))
    assert title[0] == f"{world.round.name}奖补资金资格表"
    assert "区委组织部" in issued[0] and "区民政局" in issued[0] and "年" in issued[0]
    assert "单位：元" in [v for v in issued if v]
    # The banner is a row of the sheet, seen in the normal view — not only the page header.
    assert banner[0].startswith("草稿 — 未公布") and detail.row_dimensions[3].height >= 20
    assert list(head) == HEAD
    # The table's furniture points at the header row (row 4), not at the title.
    assert detail.freeze_panes == "A5" and detail.print_title_rows == "$4:$4"
    assert detail.auto_filter.ref.startswith("A4:")
    assert detail.row_dimensions[4].height >= 30  # two lines: no header overflows its row
    body = [r for r in _rows(detail, 5) if isinstance(r[0], int)]
    assert len(body) == 13
    formulas = load_workbook(io.BytesIO(_eligibility(empty_app, world)[0].data))["明细"]
    total_at = next(r[0].row for r in formulas.iter_rows(min_row=5) if r[0].value == "合计")
    assert formulas.cell(total_at, 13).value == f"=SUM(M5:M{total_at - 1})"
    below = [v for r in _rows(detail, total_at + 1) for v in r if isinstance(v, str)]
    for who in ("制表人", "审核人", "负责人"):
        assert any(v.startswith(who) and re.search("年.*月.*日", v) for v in below), who  # the date line
    assert any("区委组织部" in v and "盖章" in v for v in below) and any("区民政局" in v and "盖章" in v for v in below)
    assert "草稿 — 未公布" in detail.oddHeader.center.text and world.round.name in detail.oddHeader.left.text
    summary = wb["汇总"]
    assert _rows(summary, 1)[0][0] == f"{world.round.name}奖补资金资格表（汇总）"
    assert _rows(summary, 3)[0][0].startswith("草稿") and summary.freeze_panes == "A5"


def test_the_official_sheet_carries_the_version_and_its_date_with_no_draft_banner(world, empty_app):
    pub = _publish(world)
    first, wb = _eligibility(empty_app, world)
    detail = wb["明细"]
    issued, status = _rows(detail, 2)[0][0], _rows(detail, 3)[0][0]
    day = pub.published_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{day.year}年{day.month}月{day.day}日" in issued
    assert "草稿" not in status and f"第{pub.version}版" in status and pub.sha256 in status
    assert not detail.oddHeader.center.text and f"第{pub.version}版" in detail.oddHeader.right.text
    assert not any("草稿" in str(v) for r in _rows(detail, 1) for v in r if v)
    # two downloads of the version: the same bytes (its date, not today's, is in the file)
    again, _ = _eligibility(empty_app, world)
    assert again.data == first.data


def test_every_band_is_worded_with_its_range_on_the_notes_sheet(world, empty_app):
    _, wb = _eligibility(empty_app, world)
    notes = {r[0]: r[1] for r in _rows(wb["说明"], 2)}
    assert notes["镇(街道)奖补规则"] == "95.00分(含)至98.00分(不含)：30,000.00 元；98.00分(含)以上：50,000.00 元"
    detail = {r[2]: r for r in _rows(wb["明细"], 5) if isinstance(r[0], int)}
    assert detail["清溪镇"][11] == "档次：98.00分(含)以上"  # 96 + 2 bonus


def test_band_describe_says_from_and_to():
    low = Band(Decimal("95.00"), Decimal("98.00"), 3_000_000)
    assert low.describe() == "95.00分(含)至98.00分(不含)"
    assert Band(Decimal("98.00"), None, 5_000_000).describe() == "98.00分(含)以上"
    assert Band(Decimal("95.00"), Decimal("98.00"), 1, "二档").describe() == "二档"
    assert describe_rule(SubsidyRule("bands", 0, (low,))) == "95.00分(含)至98.00分(不含)：30,000.00 元"


def _district_workbook(app, w, query=""):
    response = _client(app, "district").get(f"/results/rounds/{w.round.id}/workbook.xlsx{query}")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def _check_rows_add_up(wb) -> dict[str, dict]:
    """Every scored row: its indicator cells + the counted bonus = 总分 = 评估得分; returns the rows by name."""
    out = {}
    for ws in wb.worksheets:
        values = list(ws.iter_rows(values_only=True))
        head = list(values[0])
        first, tail = head.index("名次") + 1, head.index("指标得分合计")
        bonus_col = next(i for i, h in enumerate(head) if h.startswith("计入加分"))
        for r in values[1:]:
            row = dict(zip(head, r))
            out[row["单位名称"]] = row
            if row["评估得分"] is None:
                continue
            cells = sum(Decimal(str(v)) for v in r[first:tail] if v is not None)
            assert cells == Decimal(str(row["指标得分合计"])), row["单位名称"]
            total = cells + Decimal(str(r[bonus_col]))
            assert total == Decimal(str(row["总分"])) == Decimal(str(row["评估得分"])), row["单位名称"]
    return out


def _check_print_setup(wb) -> None:
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows == "$1:$1" and ws.print_title_cols == "$A:$C"
        assert ws.freeze_panes == "D2"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.page_setup.fitToWidth >= 1


def test_district_workbook_rows_add_up_with_the_capped_bonus_and_show_the_veto(world, empty_app):
    wb = _district_workbook(empty_app, world)
    _check_print_setup(wb)
    rows = _check_rows_add_up(wb)
    village_head = list(next(wb["村(社区)"].iter_rows(values_only=True)))
    assert "计入加分（上限2.00分）" in village_head
    assert rows["石桥村"]["总分"] == 98.5 and "X1" in rows["石桥村"]["加分项"] and "X2" in rows["石桥村"]["加分项"]
    assert rows["清溪镇"]["总分"] == 98 and rows["清溪镇"]["计入加分（上限3.00分）"] == 2
    assert "评估验收中弄虚作假" in rows["梅溪社区"]["一票否决"] and rows["荷塘村"]["一票否决"] is None
    assert rows["桃源村"]["总分"] is None
    sheet = wb["村(社区)"]
    assert "草稿" in sheet.oddHeader.center.text and world.round.name in sheet.oddHeader.left.text


def test_the_published_workbook_adds_up_from_the_version(world, empty_app):
    pub = _publish(world)
    # The version's own figures are what the row is made of: change the live sheet after an unlock and the
    # official workbook still adds up to the version's totals.
    wb = _district_workbook(empty_app, world)
    _check_print_setup(wb)
    rows = _check_rows_add_up(wb)
    kept = {u.name: u for u in db.session.scalars(select(PublishedUnit).where(PublishedUnit.publication_id == pub.id))}
    assert Decimal(str(rows["石桥村"]["总分"])) == kept["石桥村"].final_total
    assert Decimal(str(rows["石桥村"]["指标得分合计"])) == kept["石桥村"].score_sum
    sheet = wb["镇(街道)"]
    assert not sheet.oddHeader.center.text and pub.sha256 in sheet.oddHeader.right.text
    assert readmodel.latest(world.round.id).version == 1
