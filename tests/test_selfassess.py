"""Self-assessment: the village fills and submits, the township lead comments, returns and approves."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import EvidenceFile
from evalapp.services.moves import move_sheet, today_local
from evalapp.services.seed import fill_sheet
from tests.conftest import fill_all
from tests.files import PDF
from tests.factories import (
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, another_round, app_of_world, make_round, make_sheet,  # noqa: F401
)

SUBMITTED = "柳湾社区"  # 清溪镇's village whose self-assessment is already submitted
# 清溪镇 has ten villages: 荷塘村 (the village user's), 柳湾社区 and eight more.
TOWNSHIPS = {TOWNSHIP: [VILLAGE, SUBMITTED, *(f"清溪{i}村" for i in range(1, 9))], OTHER_TOWNSHIP: [OTHER_VILLAGE]}


@pytest.fixture
def world(empty_app):
    """A full roll-out of the test's own in self-assessment, due in 5 days, 柳湾社区's self sheet already submitted."""
    today = today_local()
    made = make_round("self_assessment", "2032年度全面推行测试评估验收", townships=TOWNSHIPS, rollout="full",
                      self_due=today + timedelta(days=5), township_due=today + timedelta(days=12),
                      inspection_start=today + timedelta(days=15), inspection_end=today + timedelta(days=30))
    sheet = make_sheet(made, SUBMITTED, "self")
    fill_sheet(sheet, made.people["admin"], "submitted")
    move_sheet(sheet, "submitted", made.people["admin"], "测试数据：自评已提交")
    return made


@pytest.fixture
def inspected(world):
    """Another round over the same district, in inspection, every self-assessment submitted."""
    return another_round(world, "inspection", "2031年度试点测试评估验收", self_assessed=True)


@pytest.fixture
def village(login_as):
    return login_as("village")


@pytest.fixture
def township(login_as):
    return login_as("township")


@pytest.fixture
def own(app, world):
    return make_sheet(world, VILLAGE, "self")


def test_the_whole_loop_fill_submit_return_fix_resubmit_approve(village, township, own):
    url = f"/selfassess/sheets/{own.id}"
    fill_all(village, own)
    assert village.post(f"{url}/summary", data={"summary": "已建立四级联系结对。"}).status_code == 302
    assert village.post(f"{url}/submit").status_code == 302
    db.session.refresh(own)
    assert own.status == "submitted" and own.late is False
    # the village can no longer change it
    assert village.put(f"/api/v1/sheets/{own.id}/scores/A1", json={"deductions": [], "version": 1}).status_code == 403
    queue = township.get("/selfassess/township").get_data(as_text=True)
    assert VILLAGE in queue and "已提交" in queue
    assert township.post(f"{url}/comment", data={"code": "A3", "comment": "走访记录只有3户，请补充"}).status_code == 302
    refused = township.post(f"{url}/review", data={"action": "return", "comment": ""})
    assert refused.status_code == 422 and "退回时须填写退回意见" in refused.get_data(as_text=True)
    assert township.post(f"{url}/review", data={"action": "return", "comment": "请按意见补充A3"}).status_code == 302
    page = village.get(url).get_data(as_text=True)
    assert "走访记录只有3户，请补充" in page and "请按意见补充A3" in page and "此表已被退回" in page
    fix = village.put(f"/api/v1/sheets/{own.id}/scores/A3",
                      json={"deductions": [{"code": "A3-1", "count": 1}], "version": 1})
    assert fix.status_code == 200
    village.post(f"{url}/submit")
    assert township.post(f"{url}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(own)
    assert own.status == "approved"
    history = village.get(url).get_data(as_text=True)
    assert history.count("已提交 → 已退回") == 1 and "已提交 → 已通过" in history


def test_summary_over_the_limit_is_refused_and_kept(village, own):
    text = "字" * 10_001
    response = village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": text})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "工作总结不能超过10000字" in html and text in html
    db.session.refresh(own)
    assert own.summary == ""


def test_township_lead_can_never_edit_a_villages_scores(township, own):
    assert township.put(f"/api/v1/sheets/{own.id}/scores/A1", json={"deductions": [], "version": 0}).status_code == 403
    assert township.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "x"}).status_code == 403


def test_review_of_a_sheet_that_was_meanwhile_returned_gets_a_clear_message(village, township, own):
    fill_all(village, own)
    village.post(f"/selfassess/sheets/{own.id}/submit")
    township.post(f"/selfassess/sheets/{own.id}/review", data={"action": "return", "comment": "补充材料"})
    stale = township.post(f"/selfassess/sheets/{own.id}/review", data={"action": "approve"}, follow_redirects=True)
    assert "不能审核" in stale.get_data(as_text=True)
    db.session.refresh(own)
    assert own.status == "returned"


def test_double_clicked_submit_submits_once(village, own):
    fill_all(village, own)
    first = village.post(f"/selfassess/sheets/{own.id}/submit")
    second = village.post(f"/selfassess/sheets/{own.id}/submit", follow_redirects=True)
    assert first.status_code == 302 and "不能提交" in second.get_data(as_text=True)
    from evalapp.models import SheetTransition

    assert len(db.session.scalars(select(SheetTransition).where(SheetTransition.sheet_id == own.id)).all()) == 1


def test_late_submission_is_accepted_and_marked(village, own, world):
    round_ = world.round
    from datetime import date

    round_.self_due = date(2020, 1, 1)
    db.session.commit()
    fill_all(village, own)
    response = village.post(f"/selfassess/sheets/{own.id}/submit", follow_redirects=True)
    assert "已逾期" in response.get_data(as_text=True)
    db.session.refresh(own)
    assert own.status == "submitted" and own.late is True


@pytest.mark.parametrize("username, status", [("outsider_village", 404), ("outsider_township", 404),
                                              ("inspector", 404), ("inspector2", 404), ("district", 200)])
def test_who_may_open_a_villages_self_sheet(login_as, own, username, status):
    assert login_as(username).get(f"/selfassess/sheets/{own.id}").status_code == status
    assert login_as(username).get(f"/api/v1/sheets/{own.id}").status_code == status


def test_inspector_sees_self_sheets_once_inspection_is_open(login_as, inspected):
    in_inspection = make_sheet(inspected, VILLAGE, "self")
    assert login_as("inspector").get(f"/api/v1/sheets/{in_inspection.id}").status_code == 200


def _upload(client, sheet, data, name):
    return client.post(f"/selfassess/sheets/{sheet.id}/documents",
                       data={"document": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_documents_are_checked_by_content(village, own, login_as):
    ok = _upload(village, own, PDF, "总结.pdf")
    assert ok.status_code == 302
    doc = db.session.scalar(select(EvidenceFile).where(EvidenceFile.kind == "document"))
    assert doc.original_name == "总结.pdf" and doc.content_type == "application/pdf"
    download = village.get(f"/selfassess/documents/{doc.id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert login_as("outsider_village").get(f"/selfassess/documents/{doc.id}").status_code == 404
    disguised = _upload(village, own, b"<html><script>alert(1)</script></html>", "report.pdf")
    assert disguised.status_code == 422 and "按文件内容识别" in disguised.get_data(as_text=True)


def test_office_files_with_macros_are_refused(village, own):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w/>")
        z.writestr("word/vbaProject.bin", b"\x00")
    response = _upload(village, own, buf.getvalue(), "x.docx")
    assert response.status_code == 422 and "含宏" in response.get_data(as_text=True)


def test_real_xlsx_is_accepted(village, own):
    from openpyxl import Workbook

    buf = io.BytesIO()
    Workbook().save(buf)
    assert _upload(village, own, buf.getvalue(), "台账.xlsx").status_code == 302


def test_district_progress_counts_village_sheets_by_status_per_township(login_as, village, own, world):
    fill_all(village, own)  # 荷塘村 now 填报中
    html = login_as("district").get("/results/").get_data(as_text=True)
    round_id = own.round_id
    table = html[html.index(f'data-testid="progress-{round_id}"'):]
    marker = f'data-township="{world.units[TOWNSHIP].code}"'
    row = table[table.index(marker):table.index("</tr>", table.index(marker))]
    cells = [c.split("</td>")[0] for c in row.split('<td class="text-end">')[1:]]
    # 清溪镇 has 10 villages: 柳湾社区 submitted, 荷塘村 in progress, 8 not started
    assert cells == ["8", "1", "1", "0", "0"]
    assert "未开始" in row.split('<td class="text-end">')[-1]  # the township's own sheet


def test_todos_on_home_pages(login_as, village, township, own):
    assert SUBMITTED in township.get("/selfassess/township").get_data(as_text=True).split('data-testid="todos"')[1] \
        .split("</section>")[0]
    village_todos = village.get("/selfassess/").get_data(as_text=True).split('data-testid="todos"')[1] \
        .split("</section>")[0]
    assert "剩5天" in village_todos and VILLAGE in village_todos  # the round's deadline is 5 days out
    fill_all(village, own)
    village.post(f"/selfassess/sheets/{own.id}/submit")
    township.post(f"/selfassess/sheets/{own.id}/review", data={"action": "return", "comment": "请补充"})
    after = village.get("/selfassess/").get_data(as_text=True).split('data-testid="todos"')[1].split("</section>")[0]
    assert "被退回" in after


def test_self_sheets_are_frozen_for_review_once_inspection_opens(township, inspected):
    frozen = make_sheet(inspected, VILLAGE, "self")  # submitted, round in inspection
    response = township.post(f"/selfassess/sheets/{frozen.id}/review", data={"action": "return", "comment": "x"},
                             follow_redirects=True)
    assert "不能审核" in response.get_data(as_text=True)
    db.session.refresh(frozen)
    assert frozen.status == "submitted"


def test_township_submits_its_own_sheet_to_the_district(township, login_as, world):
    own = make_sheet(world, TOWNSHIP, "self")
    fill_all(township, own)
    township.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": f"{TOWNSHIP}试点工作总结"})
    assert "已提交区级审核" in township.post(f"/selfassess/sheets/{own.id}/submit",
                                       follow_redirects=True).get_data(as_text=True)
    district = login_as("district")
    assert f'data-sheet="{own.id}"' in district.get("/results/").get_data(as_text=True)
    assert district.post(f"/selfassess/sheets/{own.id}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(own)
    assert own.status == "approved"
