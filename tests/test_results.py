"""Results against the 95-point line, publication and lock, dashboards, print pages and the workbook."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Round
from evalapp.services.results import round_report
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, app_of_world, make_round, make_sheet  # noqa: F401 (fixture)

# A district of the test's own (factories.PILOT_DISTRICT): five townships, one without a pilot village, and eight
# villages; the township and village users are 清溪镇's and 荷塘村's.
TOTALS = {"荷塘村": "95.00", "柳湾社区": "94.99", "石桥村": "96.50", "杏林村": "96.50", "枫林村": "90",
          "梅溪社区": "100", "清溪镇": "97", "白沙镇": "93.5"}


@pytest.fixture
def world(empty_app):
    return make_round("inspection", townships=PILOT_DISTRICT, self_assessed=True)


@pytest.fixture
def completed(app, world):
    return complete_round(TOTALS, vetoes={"梅溪社区": "V3"}, bonus={"白沙镇": ["X1"]}, leave_out={"桃源村"},
                          round_=world.round)


def _by_name(report):
    return {r.unit.name: r for r in report.rows}


def test_the_line_bonus_veto_and_incomplete(completed):
    rows = _by_name(round_report(completed))
    assert rows["荷塘村"].unit.result.value == "pass"            # 95.00 passes
    assert rows["柳湾社区"].unit.result.value == "fail"         # 94.99 fails
    assert rows["柳湾社区"].missing == Decimal("0.01")
    assert rows["白沙镇"].unit.final_total == Decimal("95.50")   # 93.5 + bonus 2 counts toward the line
    assert rows["白沙镇"].unit.result.value == "pass"
    assert rows["梅溪社区"].unit.result.value == "veto"        # 100 points, vetoed
    assert rows["桃源村"].unit.result.value == "incomplete" and rows["桃源村"].rank is None


def test_equal_totals_share_a_rank(completed):
    rows = _by_name(round_report(completed))
    # villages ranked by final total: 梅溪社区 100, 竹园社区 100 (default), 石桥村/杏林村 96.50 ...
    assert rows["石桥村"].rank == rows["杏林村"].rank
    assert rows["荷塘村"].rank == rows["石桥村"].rank + 2


def test_townships_own_result_is_separate_from_its_villages(completed):
    report = round_report(completed)
    qingxi = next(t for t in report.townships if t.township and t.township.unit.name == "清溪镇")
    assert qingxi.township.unit.final_total == Decimal("97.00")
    assert (qingxi.villages.in_scope, qingxi.villages.passed, qingxi.villages.lowest) == (2, 1, Decimal("94.99"))
    assert qingxi.villages.pass_rate == Decimal("50.00")
    songhu = next(t for t in report.townships if t.township and t.township.unit.name == "松湖街道")
    assert songhu.villages.in_scope == 2 and songhu.villages.scored == 1  # 桃源村 incomplete


def test_results_page_filters_and_sorts(completed, login_as):
    client = login_as("district")
    html = client.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    assert "草稿 — 未公布" in html and "总分95.00分以上(含95.00分)为合格" in html
    failing = client.get(f"/results/rounds/{completed.id}?result=fail").get_data(as_text=True)
    units = failing.split('data-testid="units"')[1]
    assert "柳湾社区" in units and "荷塘村" not in units
    by_total = client.get(f"/results/rounds/{completed.id}?level=village&sort=total").get_data(as_text=True)
    units = by_total.split('data-testid="units"')[1]
    assert units.index("梅溪社区") < units.index("石桥村") < units.index("柳湾社区")


def test_results_query_count_does_not_grow_with_units(completed, app):
    """The service runs a fixed number of queries, however many units are in scope."""
    from evalapp.models import OrgUnit, RoundUnit

    def count_queries():
        n = [0]

        def before(*args):
            n[0] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            db.session.expire_all()
            round_report(db.session.get(Round, completed.id))
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return n[0]

    small = count_queries()
    from evalapp.models import Indicator, Score, Sheet

    township = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "清溪镇"))
    indicator = db.session.scalar(select(Indicator).where(Indicator.catalogue_id == completed.village_catalogue_id))
    for i in range(60):
        unit = OrgUnit(code=f"9{i:011d}", name=f"测试村{i}", level="village", kind="村", parent=township)
        db.session.add(unit)
        db.session.flush()
        db.session.add(RoundUnit(round_id=completed.id, unit_id=unit.id))
        for kind in ("self", "final"):
            sheet = Sheet(round_id=completed.id, unit_id=unit.id, kind=kind, slot=0, status="approved")
            db.session.add(sheet)
            db.session.flush()
            db.session.add(Score(sheet_id=sheet.id, indicator_id=indicator.id, points=Decimal("2")))
    db.session.commit()
    assert len(round_report(db.session.get(Round, completed.id)).rows) == 13 + 60
    assert count_queries() == small


def test_publication_needs_all_approved_or_explicit_incomplete(completed, login_as):
    client = login_as("district")
    refused = client.post(f"/results/rounds/{completed.id}/publish", follow_redirects=True, data={"confirm_no_subsidy": "1"})
    assert "桃源村" in refused.get_data(as_text=True) and "未完成" in refused.get_data(as_text=True)
    db.session.refresh(completed)
    assert completed.status == "inspection"
    client.post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"})
    db.session.refresh(completed)
    assert completed.status == "published"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "round.publish"))
    assert "桃源村" in audit.detail


def test_published_round_is_read_only_by_page_and_api(completed, world, login_as):
    login_as("district").post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"})
    leader = login_as("leader")
    final = make_sheet(world, "桃源村", "final")  # incomplete, still draft, but published → locked
    assert leader.post(f"/inspection/sheets/{final.id}/reconcile/accept-all").status_code in (403, 404)
    mine = make_sheet(world, "荷塘村", inspector="leader")
    assert leader.put(f"/api/v1/sheets/{mine.id}/scores/A1", json={"deductions": [], "version": 0}).status_code == 403
    village_self = make_sheet(world, "荷塘村", "self")
    assert login_as("district").post(f"/api/v1/sheets/{village_self.id}/approve").status_code == 403


def test_admin_unlock_with_reason_then_republish(completed, world, login_as):
    district, admin, leader = login_as("district"), login_as("admin"), login_as("leader")
    district.post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"})
    final = make_sheet(world, "荷塘村", "final")
    refused = admin.post(f"/results/sheets/{final.id}/unlock", data={"reason": ""})
    assert refused.status_code == 422 and refused.get_data(as_text=True).count("请填写解锁理由") == 1
    assert login_as("district").post(f"/results/sheets/{final.id}/unlock", data={"reason": "x"}).status_code == 403
    admin.post(f"/results/sheets/{final.id}/unlock", data={"reason": "A3 计分录入错误"})
    db.session.refresh(final)
    db.session.refresh(completed)
    assert final.unlocked and final.status == "returned" and completed.changed_since_publication
    assert "公布后有改动" in district.get(f"/results/rounds/{completed.id}").get_data(as_text=True)
    # only the unlocked sheet opens; the leader corrects it and the district approves it again
    r = leader.post(f"/inspection/sheets/{final.id}/reconcile/score",
                    data={"code": "A3", "score": "8", "reason": "更正录入", "version": "1"})
    assert r.status_code == 302
    other = make_sheet(world, "柳湾社区", "final")
    assert leader.post(f"/inspection/sheets/{other.id}/reconcile/score",
                       data={"code": "A3", "score": "8", "reason": "x", "version": "1"}).status_code == 403
    refused = district.post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"},
                            follow_redirects=True)
    assert "尚未重新审核通过" in refused.get_data(as_text=True)
    leader.post(f"/inspection/sheets/{final.id}/reconcile/submit")
    district.post(f"/api/v1/sheets/{final.id}/approve")
    district.post(f"/results/rounds/{completed.id}/publish", data={"confirm_no_subsidy": "1", "confirm_incomplete": "1"})
    db.session.refresh(completed)
    db.session.refresh(final)
    assert completed.status == "published" and not completed.changed_since_publication and not final.unlocked
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.round_id == completed.id)
                                 .where(AuditEvent.action.in_(["round.publish", "sheet.unlock", "round.republish"]))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["round.publish", "sheet.unlock", "round.republish"]


def test_results_api_matches_the_page(completed, login_as):
    data = login_as("district").get(f"/api/v1/rounds/{completed.id}/results").get_json()
    units = {u["name"]: u for u in data["units"]}
    assert units["柳湾社区"]["final_total"] == "94.99" and units["柳湾社区"]["result"] == "fail"
    assert units["梅溪社区"]["result"] == "veto" and units["桃源村"]["result"] == "incomplete"


def test_print_pages(completed, world, login_as):
    client = login_as("district")
    final = make_sheet(world, "柳湾社区", "final")
    html = client.get(f"/results/sheets/{final.id}/print").get_data(as_text=True)
    assert "柳湾社区评分表" in html and "工作组组长" in html and 'class="sign-line"' in html and "94.99" in html and "<nav" not in html
    notice = client.get(f"/results/rounds/{completed.id}/notice").get_data(as_text=True)
    table = notice.split('data-testid="notice"')[1]
    assert "柳湾社区" in table and "梅溪社区" in table and "一票否决" in table and "桃源村" in table
    assert "荷塘村" not in table


def test_district_workbook_has_a_row_per_unit_and_a_column_per_indicator(completed, world, login_as):
    response = login_as("district").get(f"/results/rounds/{completed.id}/workbook.xlsx")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert "%E8%8D%89%E7%A8%BF" in response.headers["Content-Disposition"]  # 草稿, RFC 6266 filename*
    wb = load_workbook(io.BytesIO(response.data))
    villages = wb["村(社区)"]
    header = [c.value for c in villages[1]]
    assert header[:9] == ["序号", "单位编码", "单位名称", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次"]
    assert len(header) == 9 + 20 + 5  # after the indicators: 指标得分合计, 加分项, 计入加分, 一票否决, 总分 (27220e1)
    assert header[-5:-3] == ["指标得分合计", "加分项"] and header[-2:] == ["一票否决", "总分"]
    rows = {r["单位名称"]: r for r in sheet_rows(villages)}
    assert rows["柳湾社区"]["评估得分"] == 94.99 and rows["柳湾社区"]["结果"] == "不合格"
    assert isinstance(rows["柳湾社区"]["单位编码"], str) and rows["柳湾社区"]["单位编码"] == world.units["柳湾社区"].code
    assert len(rows) == 8 and wb["镇(街道)"].max_row == 6


def sheet_rows(ws, header_row: int | None = None) -> list[dict]:
    """A worksheet's rows as dicts by header name; the header row is the first whose first cell reads 序号."""
    values = list(ws.iter_rows(values_only=True))
    if header_row is None:
        header_row = next(i for i, r in enumerate(values) if r and r[0] == "序号")
    head = values[header_row]
    return [dict(zip(head, r)) for r in values[header_row + 1:] if any(v is not None for v in r)]


def test_dashboard_renders_data_and_tables(completed, login_as):
    html = login_as("district").get(f"/results/rounds/{completed.id}/dashboard").get_data(as_text=True)
    assert 'id="dashboard-data"' in html and "vendor/echarts/echarts.min.js" in html
    assert html.count('class="chart"') == 5 and html.count("表格视图") == 5


@pytest.mark.parametrize("username", ["village", "township", "inspector"])
def test_results_pages_are_not_for_scoped_roles(completed, login_as, username):
    client = login_as(username)
    for url in (f"/results/rounds/{completed.id}", f"/results/rounds/{completed.id}/dashboard",
                f"/results/rounds/{completed.id}/workbook.xlsx", f"/results/rounds/{completed.id}/notice"):
        assert client.get(url).status_code == 403
