"""A vetoed unit has no rank and no points missing (一票否决 instead), and comes after the others of its level, in
every output: results page, API, dashboard, print pages, 通报, the district workbook and finance's sheet."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from evalapp.extensions import db
from evalapp.models import Round
from evalapp.services.dashboard import dashboard_data
from evalapp.services.results import round_report
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)

# factories.PILOT_DISTRICT. 梅溪社区 (100 points, vetoed) would rank first among villages; 枫林村 is the other village
# of its township (东岗街道).
# 清溪镇 (99, vetoed) would rank first among townships.
TOTALS = {"梅溪社区": "100", "枫林村": "90", "竹园社区": "99", "荷塘村": "95.00", "柳湾社区": "94.99",
          "石桥村": "96.50", "杏林村": "96.50", "清溪镇": "99", "白沙镇": "93.5"}
VETOED = "梅溪社区"


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection over factories.PILOT_DISTRICT, self-assessments submitted."""
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


@pytest.fixture
def vetoed_round(app, world):
    return complete_round(TOTALS, vetoes={VETOED: "V3", "清溪镇": "V1"}, leave_out={"桃源村"}, round_=world.round)


def _units_table(html: str) -> str:
    return html.split('data-testid="units"')[1].split("</table>")[0]


def _row(html: str, name: str) -> str:
    start = html.index(f'<span class="text-nowrap">{name}</span>')  # the unit's name in its row's first cell
    return html[html.rindex("<tr", 0, start):html.index("</tr>", start)]


def _names_in_order(html: str, names) -> list[str]:
    return sorted(names, key=html.index)


def test_vetoed_unit_has_no_rank_and_no_points_missing_in_the_report(vetoed_round):
    rows = {r.unit.name: r for r in round_report(vetoed_round).rows}
    assert rows[VETOED].unit.result.value == "veto"
    assert rows[VETOED].rank is None and rows[VETOED].missing is None and rows[VETOED].vetoed
    assert rows["竹园社区"].rank == 1                     # first once the vetoed 100 is out of the ranking
    assert rows["石桥村"].rank == rows["杏林村"].rank == 2 and rows["荷塘村"].rank == 4
    assert rows["清溪镇"].rank is None and rows["清溪镇"].vetoed
    assert rows["柳湾社区"].missing == Decimal("0.01") and not rows["柳湾社区"].vetoed


def test_results_page_shows_veto_instead_of_points_missing_and_no_rank(vetoed_round, login_as):
    html = _units_table(login_as("district").get(f"/results/rounds/{vetoed_round.id}").get_data(as_text=True))
    row = _row(html, VETOED)
    assert "一票否决" in row.split("data-missing")[1].split("</td>")[0]
    assert row.split("data-rank>")[1].startswith("—")
    assert "0.00" not in row.split("data-missing")[1].split("</td>")[0]
    # default order: each township then its villages, a vetoed village after the others of its township
    assert html.index('<span class="text-nowrap">枫林村</span>') < html.index(f'<span class="text-nowrap">{VETOED}</span>')


def test_results_page_by_rank_puts_vetoed_units_after_the_others_of_their_level(vetoed_round, login_as):
    client = login_as("district")
    villages = _units_table(client.get(f"/results/rounds/{vetoed_round.id}?level=village&sort=rank")
                            .get_data(as_text=True))
    order = _names_in_order(villages, ["竹园社区", "石桥村", "荷塘村", "柳湾社区", "枫林村", "桃源村", VETOED])
    assert order == ["竹园社区", "石桥村", "荷塘村", "柳湾社区", "枫林村", "桃源村", VETOED]
    both = _units_table(client.get(f"/results/rounds/{vetoed_round.id}?sort=rank").get_data(as_text=True))
    cell = '<span class="text-nowrap">{}</span>'.format  # a unit's name in its row's first cell
    assert both.index(cell("白沙镇")) < both.index(cell("清溪镇")) < both.index(cell("竹园社区"))


def test_api_gives_rank_null_and_a_veto_flag(vetoed_round, login_as):
    data = login_as("district").get(f"/api/v1/rounds/{vetoed_round.id}/results").get_json()
    units = {u["name"]: u for u in data["units"]}
    assert units[VETOED]["rank"] is None and units[VETOED]["veto"] is True
    assert units[VETOED]["points_missing"] is None and units[VETOED]["final_total"] == "100.00"
    assert units["竹园社区"]["rank"] == 1 and units["竹园社区"]["veto"] is False
    assert units["柳湾社区"]["points_missing"] == "0.01"
    villages = [u["name"] for u in data["units"] if u["level"] == "village"]
    assert villages[-1] == VETOED and villages[0] == "竹园社区"
    townships = [u["name"] for u in data["units"] if u["level"] == "township"]
    assert townships[-1] == "清溪镇"


def test_dashboard_keeps_vetoed_units_out_of_the_distribution(vetoed_round, login_as):
    report = round_report(vetoed_round)
    data = dashboard_data(vetoed_round, report)
    assert data["vetoed"] == 2
    complete = sum(1 for r in report.rows if r.unit.result.value in ("pass", "fail"))
    assert sum(b["count"] for b in data["distribution"]) == complete
    flags = {p["name"]: p["veto"] for p in data["scatter"]}
    assert flags[VETOED] is True and flags["枫林村"] is False
    html = login_as("district").get(f"/results/rounds/{vetoed_round.id}/dashboard").get_data(as_text=True)
    assert 'data-testid="vetoed"' in html and "一票否决" in html


def test_print_sheet_shows_veto_in_place_of_points_missing_and_rank(vetoed_round, world, login_as):
    client = login_as("district")
    final = make_sheet(world, VETOED, "final")
    html = client.get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    missing = html.split('data-testid="missing"')[1].split("</tr>")[0]
    rank = html.split('data-testid="rank"')[1].split("</tr>")[0]
    assert "一票否决" in missing and "0.00" not in missing
    assert "不排名" in rank
    other = make_sheet(world, "竹园社区", "final")
    html = client.get(f"/results/sheets/{other.id}/print").get_data(as_text=True)
    assert ">1<" in html.split('data-testid="rank"')[1].split("</tr>")[0]


def test_notice_lists_vetoed_units_last_of_their_level_with_veto_for_points_missing(vetoed_round, login_as):
    html = login_as("district").get(f"/results/rounds/{vetoed_round.id}/notice").get_data(as_text=True)
    table = html.split('data-testid="notice"')[1]
    row = table.split(f"<td>{VETOED}</td>")[1].split("</tr>")[0]
    assert "一票否决" in row.split("data-missing>")[1].split("</td>")[0]
    assert row.split("data-rank>")[1].startswith("—")
    assert _names_in_order(table, ["柳湾社区", "桃源村", VETOED]) == ["柳湾社区", "桃源村", VETOED]
    assert table.index("<td>白沙镇</td>") < table.index("<td>清溪镇</td>") < table.index("<td>柳湾社区</td>")


def _rows_by_header(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(values) if r and r[0] == "序号")  # later work may add title rows
    return [dict(zip(values[at], r)) for r in values[at + 1:] if r and isinstance(r[0], int)]


def test_district_workbook_ranks_without_the_vetoed_unit(vetoed_round, login_as):
    response = login_as("district").get(f"/results/rounds/{vetoed_round.id}/workbook.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    villages = _rows_by_header(wb["村(社区)"])
    by_name = {r["单位名称"]: r for r in villages}
    assert by_name[VETOED]["名次"] is None and by_name[VETOED]["距合格线"] == "一票否决"
    assert by_name["竹园社区"]["名次"] == 1 and by_name["柳湾社区"]["距合格线"] == 0.01
    assert villages[-1]["单位名称"] == VETOED
    townships = _rows_by_header(wb["镇(街道)"])
    assert townships[-1]["单位名称"] == "清溪镇" and townships[-1]["名次"] is None


def test_finance_sheet_and_page_show_veto_for_points_missing(vetoed_round, login_as):
    finance = login_as("finance")
    response = finance.get(f"/finance/rounds/{vetoed_round.id}/eligibility.xlsx")
    detail = load_workbook(io.BytesIO(response.data), data_only=True)["明细"]
    rows = _rows_by_header(detail)
    by_name = {r["单位名称"]: r for r in rows}
    assert by_name[VETOED]["名次"] is None and by_name[VETOED]["距合格线"] == "一票否决"
    assert by_name["竹园社区"]["名次"] == 1
    names = [r["单位名称"] for r in rows]
    assert names.index("枫林村") < names.index(VETOED)  # after the other village of its township
    html = finance.get(f"/finance/rounds/{vetoed_round.id}").get_data(as_text=True)
    table = html.split('data-testid="detail"')[1].split("</table>")[0]
    row = _row(table, VETOED)
    assert "一票否决" in row.split("data-missing")[1].split("</td>")[0]
    assert row.split("data-rank>")[1].startswith("—")
    assert table.index('<span class="text-nowrap">枫林村</span>') < table.index(f'<span class="text-nowrap">{VETOED}</span>')


def test_compare_page_shows_the_veto(vetoed_round, world, login_as):
    own = make_sheet(world, VETOED, "self")
    html = login_as("district").get(f"/results/sheets/{own.id}/compare").get_data(as_text=True)
    assert 'data-testid="veto"' in html and "查实弄虚作假" in html and "不合格(一票否决)" in html
    plain = make_sheet(world, "枫林村", "self")
    assert 'data-testid="veto"' not in login_as("district").get(f"/results/sheets/{plain.id}/compare") \
        .get_data(as_text=True)


def test_results_page_with_odd_query_never_fails(vetoed_round, login_as):
    client = login_as("district")
    for query in ("sort=rank&level=xyz", "sort=%00", "page=99999999999999999999", "result=veto&sort=missing"):
        assert client.get(f"/results/rounds/{vetoed_round.id}?{query}").status_code == 200
    for url in ("/results/rounds/99999999999/notice", "/results/rounds/99999999999", "/results/sheets/99999999999/print",
                "/results/sheets/99999999999/compare", "/results/rounds/99999999999/workbook.xlsx"):
        assert client.get(url).status_code == 404, url  # beyond PostgreSQL's integer: not a database error
    assert login_as("finance").get("/finance/rounds/99999999999").status_code == 404
    db.session.rollback()
    assert db.session.get(Round, vetoed_round.id) is not None
