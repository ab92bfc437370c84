"""The district's bulk approval through its faces (issue 29, point 7): the queue's boxes and flags, the confirmation
page (unit, total, result — the single review page's figures), the POST, and POST /api/v1/sheets/approve."""
import re

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Sheet
from evalapp.services import moves
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world  # noqa: F401 (fixture)
from tests.test_bulk_review import _unsigned, finals, ready_final, world  # noqa: F401 (fixtures)


def status(sheet):
    return db.session.get(Sheet, sheet.id).status


def queue_html(client):
    html = client.get("/results/").get_data(as_text=True)
    return html, html.split('data-testid="review-queue"')[1].split('data-testid="pager-qpage"')[0]


def row_of(queue, sheet):
    """The queue's row of a sheet: from its box (or its start) to the end of its link."""
    at = queue.index(f'data-sheet="{sheet.id}"')
    start = queue.rfind('<div class="list-group-item', 0, at)
    return queue[start:queue.index("</a></div>", at)]


def test_the_queue_offers_the_clean_sheets_and_says_why_the_others_are_not(finals, login_as):
    html, queue = queue_html(login_as("district"))
    assert "全选无异常的评分表" in html and 'id="bulk-form"' in html
    for unit in (TOWNSHIP, VILLAGE, OTHER_VILLAGE):
        row = row_of(queue, finals[unit])
        assert 'name="sheet"' in row and 'form="bulk-form"' in row
        assert re.search(rf'value="{finals[unit].id}:\d+:\d+"', row)
    vetoed = row_of(queue, finals[OTHER_TOWNSHIP])
    assert 'name="sheet"' not in vetoed and 'data-flags="veto"' in vetoed and "一票否决" in vetoed


def test_the_admin_sees_the_flags_but_no_boxes(finals, login_as):
    html = login_as("admin").get("/results/").get_data(as_text=True)
    assert 'id="bulk-form"' not in html and 'name="sheet"' not in html and 'data-flags="veto"' in html


def test_the_confirmation_lists_unit_total_and_result_as_the_review_page_shows_them(finals, login_as):
    district = login_as("district")
    asked = [finals[VILLAGE], finals[TOWNSHIP], finals[OTHER_TOWNSHIP]]
    page = district.get("/results/review/approve?" + "&".join(f"sheet={s.id}" for s in asked))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ready = html.split('data-testid="bulk-ready"')[1].split("</table>")[0]
    for sheet in (finals[VILLAGE], finals[TOWNSHIP]):
        review = district.get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
        total = review.split('data-testid="review-total">')[1].split("<")[0]
        result = re.search(r'data-testid="review-result"><span class="badge[^"]*">([^<]+)<', review).group(1)
        row = ready.split(f'<tr data-sheet="{sheet.id}">')[1].split("</tr>")[0]
        assert sheet.unit.name in row and f"<td class=\"text-end fw-bold\" data-total>{total}</td>" in row
        assert f">{result}</span>" in row
    left = html.split('data-testid="bulk-left-out"')[1].split("</ul>")[0]
    assert OTHER_TOWNSHIP in left and "一票否决" in left and f'<tr data-sheet="{finals[OTHER_TOWNSHIP].id}"' not in ready
    assert "确认审核通过2份" in html
    assert all(status(s) == "submitted" for s in asked)  # the confirmation changes nothing


def test_confirming_approves_the_clean_sheets_and_reports_the_rest(finals, login_as, world):
    district = login_as("district")
    tokens = re.findall(r'name="sheet" value="([^"]+)"', district.get(
        "/results/review/approve?sheet=%d&sheet=%d&sheet=%d" % (finals[VILLAGE].id, finals[TOWNSHIP].id,
                                                                 finals[OTHER_VILLAGE].id)).get_data(as_text=True))
    assert len(tokens) == 3
    moves.return_sheet(finals[OTHER_VILLAGE], world.people["district"], "请补充")  # decided meanwhile
    moves.submit_sheet(finals[OTHER_VILLAGE], world.people["inspector2"])
    response = district.post("/results/review/approve", data={"sheet": tokens + [str(finals[OTHER_TOWNSHIP].id)]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/results/#review-queue")
    assert [status(finals[u]) for u in (VILLAGE, TOWNSHIP, OTHER_VILLAGE, OTHER_TOWNSHIP)] == [
        "approved", "approved", "submitted", "submitted"]
    html = district.get("/results/").get_data(as_text=True)
    assert "已审核通过2份评分表" in html
    assert f"{OTHER_VILLAGE}未审核通过：确认前评分表已有变动" in html and f"{OTHER_TOWNSHIP}未审核通过：一票否决" in html


def test_nothing_ticked_goes_back_to_the_queue_with_a_message(finals, login_as):
    district = login_as("district")
    for response in (district.get("/results/review/approve"), district.post("/results/review/approve", data={})):
        assert response.status_code == 302
    assert "请先勾选要审核通过的评分表" in district.get("/results/").get_data(as_text=True)


def test_only_the_district_approves_in_bulk(finals, login_as):
    for persona in ("admin", "finance", "leader", "township"):
        client = login_as(persona)
        assert client.post("/results/review/approve", data={"sheet": str(finals[VILLAGE].id)}).status_code == 403
        assert client.post("/api/v1/sheets/approve", json={"sheet_ids": [finals[VILLAGE].id]}).status_code == 403
    assert status(finals[VILLAGE]) == "submitted"


def test_the_post_needs_its_csrf_token(finals, login_as, app):
    district = login_as("district")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert district.post("/results/review/approve", data={"sheet": str(finals[VILLAGE].id)}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert status(finals[VILLAGE]) == "submitted"


def test_the_api_answers_per_id(finals, login_as, world):
    _unsigned(world, finals)
    db.session.commit()
    ids = [finals[TOWNSHIP].id, finals[VILLAGE].id, finals[OTHER_TOWNSHIP].id, 2**31 - 1]
    response = login_as("district").post("/api/v1/sheets/approve", json={"sheet_ids": ids})
    assert response.status_code == 200
    body = response.get_json()
    got = {r["id"]: r for r in body["results"]}
    assert [r["id"] for r in body["results"]] == ids and (body["approved"], body["skipped"]) == (1, 3)
    assert got[finals[TOWNSHIP].id]["status"] == "approved" and got[finals[TOWNSHIP].id]["reasons"] == []
    assert got[finals[TOWNSHIP].id]["unit"] == TOWNSHIP and re.fullmatch(r"\d+\.\d{2}", got[finals[TOWNSHIP].id]["total"])
    assert got[finals[VILLAGE].id]["status"] == "skipped"
    assert got[finals[VILLAGE].id]["reasons"] == [{"code": "unsigned", "message": "签名未齐：已签2/3"}]
    assert [r["code"] for r in got[finals[OTHER_TOWNSHIP].id]["reasons"]] == ["veto"]
    assert got[2**31 - 1] == {"id": 2**31 - 1, "status": "skipped", "unit": None, "total": None, "result": None,
                              "result_label": None, "reasons": [{"code": "not_found", "message": "评分表不存在"}]}
    audited = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sheet.approved", AuditEvent.object_id.in_(ids)))
    assert audited == 1


@pytest.mark.parametrize("body, fields", [
    ({}, {"sheet_ids"}),
    ({"sheet_ids": []}, {"sheet_ids"}),
    ({"sheet_ids": "1,2"}, {"sheet_ids"}),
    ({"sheet_ids": [1, "2", 0, -3, True, 2**31, 1.5, 1]}, {"sheet_ids[1]", "sheet_ids[2]", "sheet_ids[3]",
                                                           "sheet_ids[4]", "sheet_ids[5]", "sheet_ids[6]",
                                                           "sheet_ids[7]"}),
    ({"sheet_ids": list(range(1, 202))}, {"sheet_ids"}),
])
def test_the_api_refuses_bad_ids_by_field_and_approves_nothing(finals, login_as, body, fields):
    response = login_as("district").post("/api/v1/sheets/approve", json=body)
    assert response.status_code == 422
    got = response.get_json()
    assert got["code"] == "sheets.ids_invalid" and set(got["fields"]) == fields
    assert status(finals[TOWNSHIP]) == "submitted"
