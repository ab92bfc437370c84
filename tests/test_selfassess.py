"""Self-assessment: the village fills and submits, the township lead comments, returns and approves."""
import io

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import EvidenceFile, Round
from tests.conftest import fill_all, sheet_of

ROUND_2022 = "2022年度全面推行评估验收"


@pytest.fixture
def village(login_as):
    return login_as("village")


@pytest.fixture
def township(login_as):
    return login_as("township")


@pytest.fixture
def own(app):
    return sheet_of(None, "陆城村", kind="self", round_name=ROUND_2022)


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
    assert "陆城村" in queue and "已提交" in queue
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


def test_late_submission_is_accepted_and_marked(village, own):
    round_ = db.session.scalar(select(Round).where(Round.name == ROUND_2022))
    from datetime import date

    round_.self_due = date(2020, 1, 1)
    db.session.commit()
    fill_all(village, own)
    response = village.post(f"/selfassess/sheets/{own.id}/submit", follow_redirects=True)
    assert "已逾期" in response.get_data(as_text=True)
    db.session.refresh(own)
    assert own.status == "submitted" and own.late is True


@pytest.mark.parametrize("username, status", [("outsider_village", 404), ("outsider_township", 404),
                                              ("inspector", 404), ("leader2", 404), ("district", 200)])
def test_who_may_open_a_villages_self_sheet(login_as, own, username, status):
    assert login_as(username).get(f"/selfassess/sheets/{own.id}").status_code == status
    assert login_as(username).get(f"/api/v1/sheets/{own.id}").status_code == status


def test_inspector_sees_self_sheets_once_inspection_is_open(login_as, app):
    sheet_2021 = sheet_of(None, "陆城村", kind="self")
    assert login_as("inspector").get(f"/api/v1/sheets/{sheet_2021.id}").status_code == 200


def _upload(client, sheet, data, name):
    return client.post(f"/selfassess/sheets/{sheet.id}/documents",
                       data={"document": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_documents_are_checked_by_content(village, own, login_as):
    ok = _upload(village, own, b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "总结.pdf")
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


def test_district_progress_counts_village_sheets_by_status_per_township(login_as, village, own):
    fill_all(village, own)  # 陆城村 now 填报中
    html = login_as("district").get("/results/").get_data(as_text=True)
    round_id = own.round_id
    table = html[html.index(f'data-testid="progress-{round_id}"'):]
    row = table[table.index('data-township="430603101"'):table.index("</tr>", table.index('data-township="430603101"'))]
    cells = [c.split("</td>")[0] for c in row.split('<td class="text-end">')[1:]]
    # 陆城镇 has 10 villages: 道仁矶社区 submitted (seed), 陆城村 in progress, 8 not started
    assert cells == ["8", "1", "1", "0", "0"]
    assert "未开始" in row.split('<td class="text-end">')[-1]  # the township's own sheet


def test_todos_on_home_pages(login_as, village, township, own):
    assert "道仁矶社区" in township.get("/selfassess/township").get_data(as_text=True).split('data-testid="todos"')[1] \
        .split("</section>")[0]
    village_todos = village.get("/selfassess/").get_data(as_text=True).split('data-testid="todos"')[1] \
        .split("</section>")[0]
    assert "剩5天" in village_todos and "陆城村" in village_todos  # the seed sets the 2022 deadline 5 days out
    fill_all(village, own)
    village.post(f"/selfassess/sheets/{own.id}/submit")
    township.post(f"/selfassess/sheets/{own.id}/review", data={"action": "return", "comment": "请补充"})
    after = village.get("/selfassess/").get_data(as_text=True).split('data-testid="todos"')[1].split("</section>")[0]
    assert "被退回" in after


def test_self_sheets_are_frozen_for_review_once_inspection_opens(township, app):
    frozen = sheet_of(None, "陆城村", kind="self")  # 2021: submitted, round in inspection
    response = township.post(f"/selfassess/sheets/{frozen.id}/review", data={"action": "return", "comment": "x"},
                             follow_redirects=True)
    assert "不能审核" in response.get_data(as_text=True)
    db.session.refresh(frozen)
    assert frozen.status == "submitted"


def test_township_submits_its_own_sheet_to_the_district(township, login_as, app):
    own = sheet_of(None, "陆城镇", kind="self", round_name=ROUND_2022)
    fill_all(township, own)
    township.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "陆城镇试点工作总结"})
    assert "已提交区级审核" in township.post(f"/selfassess/sheets/{own.id}/submit",
                                       follow_redirects=True).get_data(as_text=True)
    district = login_as("district")
    assert f'data-sheet="{own.id}"' in district.get("/results/").get_data(as_text=True)
    assert district.post(f"/selfassess/sheets/{own.id}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(own)
    assert own.status == "approved"
