"""The 工作总结 of a self-assessment: what was saved is shown and saved again, by the page's form and by the API
(the page's autosave), with one rule behind both."""
import html
import io
import re

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent
from tests import files
from tests.conftest import fill_all
from tests.factories import VILLAGE, app_of_world, make_sheet  # noqa: F401 (fixture)

from tests.test_selfassess import inspected, own, township, village, world  # noqa: F401 (fixtures: a round of its own)

TEXT = "已建立四级联系结对，\n党员每两个月走访联系户。<b>不是标签</b>"




def page_of(client, sheet) -> str:
    response = client.get(f"/selfassess/sheets/{sheet.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def summary_box(page: str) -> str:
    """What the page's 工作总结 box holds, as a browser reads it (the newline after the tag is not content)."""
    found = re.search(r'<textarea[^>]*id="summary-text"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert found, "no summary box on the page"
    return html.unescape(found.group(1))


def posted_version(page: str) -> str:
    return re.search(r'name="version" data-role="summary-version"\s+value="(\d+)"', page).group(1)


def summary_audits(sheet) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "sheet.summary", AuditEvent.object_id == sheet.id))


def submitted(client, sheet):
    fill_all(client, sheet)
    assert client.post(f"/selfassess/sheets/{sheet.id}/submit").status_code == 302
    db.session.refresh(sheet)
    assert sheet.status == "submitted"
    return sheet


def put(client, sheet, body):
    return client.put(f"/api/v1/sheets/{sheet.id}/summary", json=body)


# -- the form (works without JavaScript) -------------------------------------------------------------------------

def test_saved_summary_is_shown_and_a_second_save_keeps_it(village, own):
    url = f"/selfassess/sheets/{own.id}/summary"
    assert village.post(url, data={"summary": TEXT}).status_code == 302
    page = page_of(village, own)
    assert summary_box(page) == TEXT
    # the user changes nothing and saves again: what the box sends is what was saved
    assert village.post(url, data={"summary": summary_box(page), "version": posted_version(page)}).status_code == 302
    db.session.refresh(own)
    assert own.summary == TEXT
    assert summary_box(page_of(village, own)) == TEXT


def test_a_returned_sheet_shows_its_summary_in_the_box(village, township, own):
    village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": TEXT})
    submitted(village, own)
    assert township.post(f"/selfassess/sheets/{own.id}/review",
                         data={"action": "return", "comment": "请补充"}).status_code == 302
    assert summary_box(page_of(village, own)) == TEXT


def test_summary_keeps_line_breaks_when_read_only(village, own, login_as):
    village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "第一行\r\n第二行"})
    db.session.refresh(own)
    assert own.summary == "第一行\n第二行"
    page = page_of(login_as("district"), own)
    assert "第一行<br>第二行" in page and "id=\"summary-text\"" not in page


def test_form_save_on_a_stale_version_keeps_the_typed_text_and_shows_the_saved_one(village, own):
    url = f"/selfassess/sheets/{own.id}/summary"
    stale = posted_version(page_of(village, own))
    assert put(village, own, {"summary": "另一页面保存的", "version": own.version}).status_code == 200
    response = village.post(url, data={"summary": "本页输入的", "version": stale})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert summary_box(page) == "本页输入的" and "另一页面保存的" in page and 'data-testid="saved-summary"' in page
    db.session.refresh(own)
    assert own.summary == "另一页面保存的"
    # saving again (the page now carries the saved version) takes the typed text
    assert village.post(url, data={"summary": "本页输入的", "version": posted_version(page)}).status_code == 302
    db.session.refresh(own)
    assert own.summary == "本页输入的"


@pytest.mark.parametrize("text, message", [("字" * 10_001, "工作总结不能超过10000字"),
                                           ("总结\x00", "控制字符"), ("总结\x1b[31m", "控制字符")])
def test_form_refuses_bad_text_beside_the_box_and_keeps_it(village, own, text, message):
    response = village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<div class="invalid-feedback d-block" id="summary-error"[^>]*>(.*?)</div>', page, re.S)
    assert error and message in error.group(1)
    assert 'href="#summary-text"' in page.split('id="summary-section"')[0]  # the summary at the top links to it
    assert re.search(r'id="summary-text"[^>]*autofocus', page, re.S)
    db.session.refresh(own)
    assert own.summary == "" and summary_audits(own) == 0


def test_tabs_and_line_breaks_are_welcome(village, own):
    assert village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "一、\t组织\n二、\t制度"}).status_code == 302
    db.session.refresh(own)
    assert own.summary == "一、\t组织\n二、\t制度"


def test_form_save_of_a_submitted_sheet_is_refused_with_the_reason(village, own):
    village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": TEXT})
    submitted(village, own)
    response = village.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "提交后再改"})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "自评表已提交，工作总结不能再修改" in page and "提交后再改" in page  # shown to copy, not saved
    db.session.refresh(own)
    assert own.summary == TEXT


def test_empty_history_is_a_plain_line_not_a_numbered_item(village, own):
    page = page_of(village, own)
    history = page[page.index('id="history"'):]
    assert "暂无办理记录" in history and "<ol" not in history and "<li" not in history
    submitted(village, own)
    history = page_of(village, own).split('id="history"')[1]
    assert "<ol" in history and "暂无办理记录" not in history


# -- the API (the page's autosave) -------------------------------------------------------------------------------

def test_api_saves_and_the_page_shows_it_then_saves_again_on_the_new_version(village, own):
    before = own.version
    first = put(village, own, {"summary": TEXT, "version": before})
    assert first.status_code == 200
    version = first.get_json()["version"]
    assert version == before + 1
    assert summary_box(page_of(village, own)) == TEXT
    assert posted_version(page_of(village, own)) == str(version)
    second = put(village, own, {"summary": TEXT + "补充。", "version": version})
    assert second.status_code == 200 and second.get_json()["version"] == version + 1
    db.session.refresh(own)
    assert own.summary == TEXT + "补充。" and summary_audits(own) == 2
    read = village.get(f"/api/v1/sheets/{own.id}/summary").get_json()
    assert read == {"id": own.id, "summary": TEXT + "补充。", "version": version + 1, "editable": True}


def test_api_same_text_again_is_acknowledged_without_a_change(village, own):
    version = put(village, own, {"summary": TEXT, "version": own.version}).get_json()["version"]
    again = put(village, own, {"summary": TEXT, "version": version - 1})  # a retry of a save that got through
    assert again.status_code == 200 and again.get_json()["version"] == version
    assert summary_audits(own) == 1


def test_api_stale_version_is_a_conflict_with_the_saved_text(village, own):
    base = own.version
    assert put(village, own, {"summary": "第一份", "version": base}).status_code == 200
    stale = put(village, own, {"summary": "第二份", "version": base})
    assert stale.status_code == 409
    assert stale.get_json()["current"] == {"summary": "第一份", "version": base + 1}
    db.session.refresh(own)
    assert own.summary == "第一份"


@pytest.mark.parametrize("body, field", [
    ({"summary": "字" * 10_001, "version": 1}, "summary"),
    ({"summary": "含\x00", "version": 1}, "summary"),
    ({"summary": "含\ud800", "version": 1}, "summary"),  # a lone surrogate (valid JSON, not storable text)
    ({"summary": 42, "version": 1}, "summary"),
    ({"version": 1}, "summary"),
    ({"summary": "好", "version": "1"}, "version"),
    ({"summary": "好", "version": True}, "version"),
    ({"summary": "好"}, "version"),
])
def test_api_bad_input_is_422_by_field_and_changes_nothing(village, own, body, field):
    before = own.version
    response = put(village, own, body)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    db.session.refresh(own)
    assert own.summary == "" and own.version == before and summary_audits(own) == 0


def test_api_bad_json_is_422(village, own):
    response = village.put(f"/api/v1/sheets/{own.id}/summary", data=b"{not json", content_type="application/json")
    assert response.status_code == 422 and "body" in response.get_json()["fields"]


def test_api_save_of_a_submitted_sheet_is_refused(village, own):
    submitted(village, own)
    response = put(village, own, {"summary": "提交后再改", "version": own.version})
    assert response.status_code == 403 and response.get_json()["error"] == "自评表已提交，工作总结不能再修改"
    db.session.refresh(own)
    assert own.summary == "" and summary_audits(own) == 0


@pytest.mark.parametrize("username", ["outsider_village", "outsider_township", "inspector"])
def test_another_units_sheet_is_not_found_by_api_and_form(login_as, own, username):
    client = login_as(username)
    assert put(client, own, {"summary": "x", "version": own.version}).status_code == 404
    assert client.get(f"/api/v1/sheets/{own.id}/summary").status_code == 404
    if username != "inspector":  # the form is for villages and townships only (403 by role for the others)
        assert client.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "x"}).status_code == 404
    db.session.refresh(own)
    assert own.summary == ""


def test_township_lead_reads_but_cannot_write_a_villages_summary(township, own):
    assert township.get(f"/api/v1/sheets/{own.id}/summary").get_json()["editable"] is False
    assert put(township, own, {"summary": "x", "version": own.version}).status_code == 403
    assert township.post(f"/selfassess/sheets/{own.id}/summary", data={"summary": "x"}).status_code == 403


def test_summary_api_is_only_for_self_sheets(login_as, inspected):
    sheet = make_sheet(inspected, VILLAGE)
    assert put(login_as("inspector"), sheet, {"summary": "x", "version": sheet.version}).status_code == 404


def test_program_with_a_bearer_token_saves_the_summary(app, own):
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "village", "password": "demo-pass-2021"})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    response = client.put(f"/api/v1/sheets/{own.id}/summary", json={"summary": TEXT, "version": own.version},
                          headers=headers)
    assert response.status_code == 200
    db.session.refresh(own)
    assert own.summary == TEXT


def test_api_write_from_a_session_needs_the_csrf_header(app, own):
    from tests.test_csrf import _token

    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    m = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "village", "password": "demo-pass-2021",
                                "csrf_token": m.group(1) or m.group(2)})
    refused = put(client, own, {"summary": TEXT, "version": own.version})
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf"
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    assert client.put(f"/api/v1/sheets/{own.id}/summary", json={"summary": TEXT, "version": own.version},
                      headers={"X-CSRFToken": token}).status_code == 200


def test_summary_saves_leave_the_results_version_alone(village, own):
    from evalapp.services.versions import results_version

    before = results_version(own.round_id)
    assert put(village, own, {"summary": TEXT, "version": own.version}).status_code == 200
    assert results_version(own.round_id) == before


# -- the upload carries the summary typed above it -----------------------------------------------------------------

def upload(client, sheet, data, name, **form):
    return client.post(f"/selfassess/sheets/{sheet.id}/documents",
                       data={"document": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


PDF = files.PDF  # a real one-page PDF


def test_uploading_a_document_saves_the_summary_typed_before_it(village, own):
    version = posted_version(page_of(village, own))
    response = upload(village, own, PDF, "台账.pdf", summary=TEXT, version=version)
    assert response.status_code == 302
    db.session.refresh(own)
    assert own.summary == TEXT
    assert summary_box(page_of(village, own)) == TEXT


def test_upload_error_is_shown_at_the_field_with_a_summary_at_the_top_and_the_text_kept(village, own):
    response = upload(village, own, b"MZ\x90\x00 a windows program", "setup.exe", summary="刚输入的总结",
                      version=posted_version(page_of(village, own)))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    top, rest = page.split('id="summary-section"', 1)
    assert 'data-testid="error-summary"' in top and 'href="#document-input"' in top
    error = re.search(r'id="document-error"[^>]*>(.*?)</div>', rest, re.S)
    assert error and "只接受PDF" in error.group(1)
    field = re.search(r'<input[^>]*id="document-input"[^>]*>', rest, re.S).group(0)
    assert "is-invalid" in field and "autofocus" in field
    assert summary_box(page) == "刚输入的总结"  # and saved: the summary and the upload are one form
    db.session.refresh(own)
    assert own.summary == "刚输入的总结"


def test_upload_without_a_file_says_so_beside_the_field(village, own):
    response = village.post(f"/selfassess/sheets/{own.id}/documents", data={"summary": "在"},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(r'id="document-error"[^>]*>请选择要上传的文件', response.get_data(as_text=True))


def test_huge_and_odd_ids_are_404_not_500(village):
    for url in ("/selfassess/sheets/99999999999/summary", "/selfassess/sheets/0/summary",
                "/selfassess/sheets/99999999999/documents"):
        assert village.post(url, data={"summary": "x"}).status_code == 404
    assert village.get("/selfassess/sheets/99999999999").status_code == 404
    assert village.get("/selfassess/documents/99999999999").status_code == 404
    # beyond the id column: no route matches (werkzeug answers 405 when another method's rule matched the path)
    huge = village.put("/api/v1/sheets/99999999999/summary", json={"summary": "x", "version": 1})
    assert huge.status_code in (404, 405)
    assert village.get("/api/v1/sheets/99999999999/summary").status_code == 404
