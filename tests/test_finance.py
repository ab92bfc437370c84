"""Subsidy rules and finance's eligibility sheet, read back with openpyxl."""
import io
from decimal import Decimal
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, OrgUnit, SheetVeto, SubsidyRule
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)

# factories.PILOT_DISTRICT: 清溪镇 (荷塘村, 柳湾社区), 白沙镇 (石桥村, 杏林村), 东岗街道 (梅溪社区, 枫林村),
# 松湖街道 (竹园社区, 桃源村) and 西岭街道
TOTALS = {"荷塘村": "95.00", "柳湾社区": "94.99", "石桥村": "96.50", "杏林村": "96.50", "枫林村": "90",
          "梅溪社区": "100", "清溪镇": "97", "白沙镇": "93.5"}
FINANCE_NAME = "区财政局测试经办人"


@pytest.fixture
def world(empty_app):
    made = make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)
    made.people["finance"].display_name = FINANCE_NAME
    db.session.commit()
    return made


@pytest.fixture
def completed(app, world):
    round_ = complete_round(TOTALS, vetoes={"梅溪社区": "V3"}, leave_out={"桃源村"}, round_=world.round)
    veto = db.session.scalar(select(SheetVeto))
    veto.description = "@SUM(1)"
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "竹园社区"))
    unit.name = '=HYPERLINK("http://x")'
    db.session.commit()
    return round_


@pytest.fixture
def finance(login_as):
    return login_as("finance")


def set_rules(client, round_id):
    r1 = client.post(f"/finance/rounds/{round_id}/rules/village", data={"mode": "pool", "amount": "100000.01"})
    r2 = client.post(f"/finance/rounds/{round_id}/rules/township",
                     data={"mode": "bands", "bands": "95,98,30000\n98,,50000"})
    assert r1.status_code == 302 and r2.status_code == 302


def read(response):
    return load_workbook(io.BytesIO(response.data), data_only=True)  # cached values of formulas


def test_eligibility_sheet_columns_totals_and_formats(completed, world, finance):
    set_rules(finance, completed.id)
    response = finance.get(f"/finance/rounds/{completed.id}/eligibility.xlsx")
    assert response.status_code == 200
    name = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name == f"测试区_{world.round.name}_奖补资格表_草稿.xlsx"
    wb = read(response)
    assert wb.sheetnames == ["汇总", "明细", "说明"]
    detail = wb["明细"]
    # Title, issuing office and date with 单位：元, the 草稿 banner: the header is row 4 (services.subsidy.TITLE_ROWS)
    at = next(r[0].row for r in detail.iter_rows() if r[0].value == "序号")
    assert at == 4 and detail.cell(3, 1).value.startswith("草稿")
    header = [c.value for c in detail[at]]
    assert header == ["序号", "单位编码", "单位名称", "层级", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线",
                      "名次", "是否符合奖补条件", "奖补方式/档次", "奖补金额(元)", "备注"]
    rows = [dict(zip(header, r)) for r in detail.iter_rows(min_row=at + 1, values_only=True)]
    total_at = next(i for i, r in enumerate(rows) if r["序号"] == "合计")  # signature rows follow it
    body, totals = rows[:total_at], rows[total_at]
    assert len(body) == 13
    by_name = {r["单位名称"]: r for r in body}
    amount = "奖补金额(元)"
    # village pool of 100,000.01 yuan shared by the passing villages: 荷塘村 95, 石桥村 96.5, 杏林村 96.5, 竹园社区 100
    village_fen = [round(r[amount] * 100) for r in body if r["层级"] == "村(社区)"]
    assert sum(village_fen) == 10_000_001
    assert by_name["柳湾社区"][amount] == 0 and by_name["柳湾社区"]["是否符合奖补条件"] == "否"
    assert by_name["清溪镇"]["奖补方式/档次"].startswith("档次") and by_name["清溪镇"][amount] == 30000
    assert "一票否决" in by_name["梅溪社区"]["备注"] and "@SUM(1)" in by_name["梅溪社区"]["备注"]
    assert "评估未完成" in by_name["桃源村"]["备注"] and by_name["桃源村"]["评估得分"] is None
    assert by_name['=HYPERLINK("http://x")'][amount] > 0  # a text cell as typed: never a formula or a link
    assert isinstance(by_name["荷塘村"]["单位编码"], str) and by_name["荷塘村"]["单位编码"] == "430699001001"
    assert by_name["荷塘村"]["评估得分"] == 95.0
    assert round(totals[amount] * 100) == sum(round(r[amount] * 100) for r in body)
    # the totals row is a formula whose cached value is the computed total
    formulas = load_workbook(io.BytesIO(response.data), data_only=False)["明细"]
    last = at + 1 + total_at
    col = header.index(amount) + 1
    letter = formulas.cell(at, col).column_letter
    assert formulas.cell(last, col).value == f"=SUM({letter}{at + 1}:{letter}{last - 1})"
    assert detail.cell(at + 1, col).number_format == "#,##0.00"
    assert detail.cell(at + 1, 2).data_type == "s"
    for row in detail.iter_rows(min_row=at + 1):
        for cell in row:
            assert cell.data_type != "f" or cell.row == last
            assert cell.hyperlink is None
    assert detail.freeze_panes == f"A{at + 1}" and detail.auto_filter.ref.startswith(f"A{at}:")
    assert detail.page_setup.orientation == "landscape" and detail.page_setup.paperSize == 9
    assert detail.print_title_rows == f"${at}:${at}"
    assert "草稿 — 未公布" in detail.oddHeader.center.text
    assert "&P" in detail.oddFooter.center.text


def test_summary_and_notes(completed, finance):
    set_rules(finance, completed.id)
    wb = read(finance.get(f"/finance/rounds/{completed.id}/eligibility.xlsx"))
    summary = list(wb["汇总"].iter_rows(min_row=2, values_only=True))
    qingxi = [r for r in summary if r[0] == "清溪镇"]
    assert {r[1]: (r[2], r[3]) for r in qingxi} == {"镇(街道)": (1, 1), "村(社区)": (2, 1)}
    total = next(r for r in summary if r[0] == "合计")  # (the sign-off and seals below it, issue 30)
    assert total[2] == 13
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert "总分95分以上(含95分)为合格" in notes["合格标准"]
    assert notes["状态"] == "草稿 — 未公布" and len(notes["明细SHA-256"]) == 64
    assert "北京时间" in notes["生成时间"] and notes["生成人"] == FINANCE_NAME
    assert "资金池" in notes["村(社区)奖补规则"] and "98.00分(含)以上" in notes["镇(街道)奖补规则"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.subsidy"))
    assert audit.new["sha256"] == notes["明细SHA-256"] and audit.new["status"] == "草稿"


def test_after_publication_the_sheet_is_official(completed, finance, login_as):
    set_rules(finance, completed.id)
    login_as("district").post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"})
    response = finance.get(f"/finance/rounds/{completed.id}/eligibility.xlsx")
    assert "%E6%AD%A3%E5%BC%8F" in response.headers["Content-Disposition"]  # 正式
    wb = read(response)
    assert not wb["明细"].oddHeader.center.text
    # once published, a rule changes only as a correction with a reason (tests/test_subsidy_trap.py)
    refused = finance.post(f"/finance/rounds/{completed.id}/rules/village", data={"mode": "fixed", "amount": "1"})
    assert refused.status_code == 422 and "更正奖补规则须填写理由" in refused.get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"mode": "bands", "bands": "95,97,1000\n98,,2000"}, "空缺"),
    ({"mode": "bands", "bands": "95,99,1000\n98,,2000"}, "重叠"),
    ({"mode": "fixed", "amount": "-5"}, "负数"),
    ({"mode": "fixed", "amount": "abc"}, "有效的金额"),
    ({"mode": "fixed", "amount": "1.234"}, "两位小数"),
    ({"mode": "pool", "amount": "0.01"}, "资金池过小"),
    ({"mode": "bands", "bands": "95,abc,100"}, "第1行"),
    ({"mode": "lottery", "amount": "1"}, "奖补方式"),
])
def test_bad_rules_are_refused_and_the_saved_rule_stays(completed, finance, form, message):
    assert finance.post(f"/finance/rounds/{completed.id}/rules/village",
                        data={"mode": "fixed", "amount": "20000"}).status_code == 302
    response = finance.post(f"/finance/rounds/{completed.id}/rules/village", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if form.get("amount"):
        assert f'value="{form["amount"]}"' in html  # what was typed stays in the form
    rule = db.session.scalar(select(SubsidyRule).where(SubsidyRule.round_id == completed.id))
    assert (rule.mode, rule.amount_fen) == ("fixed", 2_000_000)


@pytest.mark.parametrize("username", ["inspector", "village", "township", "leader"])
def test_others_cannot_get_the_sheet(completed, login_as, username):
    client = login_as(username)
    assert client.get(f"/finance/rounds/{completed.id}/eligibility.xlsx").status_code == 403
    assert client.post(f"/finance/rounds/{completed.id}/rules/village",
                       data={"mode": "fixed", "amount": "1"}).status_code == 403


def test_finance_cannot_change_scores(completed, world, finance):
    final = make_sheet(world, "荷塘村", "final")
    assert finance.put(f"/api/v1/sheets/{final.id}/scores/A1", json={"score": "1", "reason": "x",
                                                                     "version": 1}).status_code == 403
    assert finance.post(f"/api/v1/sheets/{final.id}/approve").status_code == 403


def test_finance_page_summary(completed, finance):
    finance.post(f"/finance/rounds/{completed.id}/rules/village", data={"mode": "fixed", "amount": "20,000"})
    html = finance.get(f"/finance/rounds/{completed.id}").get_data(as_text=True)
    # passing villages: 荷塘村, 石桥村, 杏林村, 竹园社区 (100 by default) → 4 × 20,000
    assert "80,000.00" in html and "草稿 — 未公布" in html


def test_cli_writes_the_same_file(completed, app, tmp_path):
    out = tmp_path / "subsidy.xlsx"
    result = app.test_cli_runner().invoke(args=["export-subsidy", "--round", str(completed.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    detail = wb["明细"]
    assert wb.sheetnames == ["汇总", "明细", "说明"]
    assert [r[0].value for r in detail.iter_rows()].count("合计") == 1 and detail.cell(4, 1).value == "序号"
    assert sum(isinstance(r[0].value, int) for r in detail.iter_rows(min_row=5)) == 13


def test_finance_page_shows_the_lines_a_page_at_a_time(app, world, login_as):
    round_ = complete_round({}, round_=world.round)
    app.config["RESULTS_PAGE_SIZE"] = 5
    finance = login_as("finance")
    html = finance.get(f"/finance/rounds/{round_.id}").get_data(as_text=True)
    first = html.split('data-testid="detail"')[1].split("</table>")[0]
    assert first.count("data-unit=") == 5 and 'data-testid="pager-page"' in html
    pages = int(html.split('data-testid="pager-page"')[1].split("页")[0].split("/")[1])
    last = finance.get(f"/finance/rounds/{round_.id}?page=999").get_data(as_text=True)  # beyond: the last page
    rows = last.split('data-testid="detail"')[1].split("</table>")[0]
    assert f"第{pages}/{pages}页" in last and 1 <= rows.count("data-unit=") <= 5
    assert not set(rows.split("data-unit=")[1:]) & set(first.split("data-unit=")[1:])
