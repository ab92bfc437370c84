"""The score body's contract (issue 15, point 2): `score` is a direct score, `deductions` scores by the rules
(`[]` = 无扣分), neither saves the note only and leaves the indicator as it was, `clear` returns it to unscored.
The rule lives in services.scores.save_score; the API and the scoring page both come through it."""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Score, Sheet
from tests.conftest import fill_all
from tests.factories import app_of_world  # noqa: F401 (fixture)
from tests.test_api_scoring import inspector, own_sheet, put, world  # noqa: F401 (fixtures: a round of its own)




def indicator(client, sheet, code):
    data = client.get(f"/api/v1/sheets/{sheet.id}").get_json()
    return next(i for i in data["indicators"] if i["code"] == code), data


def stored_scored(sheet) -> int:
    return db.session.scalar(select(Sheet.scored).where(Sheet.id == sheet.id))


@pytest.mark.parametrize("body", [
    {},  # only the version
    {"note": "入户核查3户，待补充台账"},
    {"free_deduction": "0"},  # a free deduction of 0 with no rule is not by itself a score
    {"free_deduction": "", "reason": "还没想好", "note": "稍后评分"},
], ids=["version-only", "note-only", "free-zero", "reason-and-note"])
def test_a_body_without_score_or_deductions_leaves_the_indicator_unscored(inspector, own_sheet, body):
    response = put(inspector, own_sheet, "A3", **body, version=0)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["score"] is None and data["scored_indicator"] is False and data["scored"] == 0
    a3, sheet = indicator(inspector, own_sheet, "A3")
    assert a3["score"] is None and sheet["scored"] == 0
    assert a3["note"] == body.get("note", "")
    assert stored_scored(own_sheet) == 0
    # The unscored-submit guard still fires for it.
    fill_all(inspector, own_sheet)  # full marks for the rest ... and A3 by deductions now
    a3, _ = indicator(inspector, own_sheet, "A3")
    assert a3["score"] == "8.00"


def test_a_note_only_save_keeps_the_indicator_out_of_the_submit(inspector, own_sheet):
    from evalapp.services.sheet_views import sheet_view

    view = sheet_view(own_sheet)
    for ind in view.indicators:
        if ind.code != "A3":
            assert put(inspector, own_sheet, ind.code, deductions=[], version=0).status_code == 200
    assert put(inspector, own_sheet, "A3", note="只写了备注", version=0).status_code == 200
    refused = inspector.post(f"/api/v1/sheets/{own_sheet.id}/submit")
    assert refused.status_code == 422 and "A3" in refused.get_json()["error"]
    assert db.session.get(Sheet, own_sheet.id).status == "draft"


def test_a_note_on_a_scored_indicator_changes_only_the_note(inspector, own_sheet):
    first = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 1}], version=0).get_json()
    assert first["score"] == "7.00"
    again = put(inspector, own_sheet, "A3", note="补充：照片见附件", version=first["version"]).get_json()
    assert again["score"] == "7.00" and again["deductions"] == [{"code": "A3-1", "count": 1}]
    assert again["note"] == "补充：照片见附件" and again["version"] == first["version"] + 1


def test_empty_deductions_is_full_marks(inspector, own_sheet):
    data = put(inspector, own_sheet, "A3", deductions=[], version=0).get_json()
    assert data["score"] == "8.00" and data["scored"] == 1


def test_a_direct_score_with_deductions_is_refused_and_nothing_stored(inspector, own_sheet):
    response = put(inspector, own_sheet, "A3", score="6", reason="台账缺失",
                   deductions=[{"code": "A3-1", "count": 1}], version=0)
    assert response.status_code == 422 and "score" in response.get_json()["fields"]
    assert db.session.scalar(select(Score).where(Score.sheet_id == own_sheet.id)) is None
    ok = put(inspector, own_sheet, "A3", score="6", reason="台账缺失", deductions=[], version=0)
    assert ok.status_code == 200 and ok.get_json()["direct_score"] == "6.00"


def test_clear_returns_an_indicator_to_unscored_and_keeps_the_note(inspector, own_sheet):
    first = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 1}], note="备注一",
                version=0).get_json()
    assert stored_scored(own_sheet) == 1
    cleared = put(inspector, own_sheet, "A3", clear=True, version=first["version"])
    assert cleared.status_code == 200
    data = cleared.get_json()
    assert data["score"] is None and data["deductions"] == [] and data["note"] == "备注一"
    assert data["scored"] == 0 and stored_scored(own_sheet) == 0
    both = put(inspector, own_sheet, "A3", clear=True, score="5", reason="x", version=data["version"])
    assert both.status_code == 422
    assert put(inspector, own_sheet, "A3", clear="yes", version=data["version"]).status_code == 422


def test_a_retry_of_the_same_change_with_the_old_version_is_acknowledged(inspector, own_sheet):
    body = {"deductions": [{"code": "A3-1", "count": 2}], "note": "抽查"}
    first = put(inspector, own_sheet, "A3", **body, version=0)
    retry = put(inspector, own_sheet, "A3", **body, version=0)  # the first answer was lost on the way
    assert retry.status_code == 200 and retry.get_json()["version"] == first.get_json()["version"] == 1
    other = put(inspector, own_sheet, "A3", deductions=[], version=0)  # a different change on an old version
    assert other.status_code == 409 and other.get_json()["current"]["score"] == "6.00"


def test_the_scoring_page_shows_a_note_only_indicator_as_unscored(inspector, own_sheet):
    put(inspector, own_sheet, "A3", note="只有备注", version=0)
    html = inspector.get(f"/inspection/sheets/{own_sheet.id}").get_data(as_text=True)
    start = html.rindex("<article", 0, html.index('id="ind-A3"'))
    card = html[start:html.index("</article>", start)]
    assert "is-unscored" in card[:card.index(">")] and 'data-scored="0"' in card
    assert "只有备注" in card and 'data-version="1"' in card
    assert html.count('data-jump="A3" hidden') == 0  # still listed among the 未评指标


def test_a_direct_score_with_any_deductions_entry_is_refused(inspector, own_sheet):
    for deductions in ([{"code": "A3-1", "count": 0}], [{"code": "NOPE", "count": 0}]):
        response = put(inspector, own_sheet, "A3", score="8", deductions=deductions, version=0)
        assert response.status_code == 422 and "score" in response.get_json()["fields"]
    assert db.session.scalar(select(Score).where(Score.sheet_id == own_sheet.id)) is None


def test_an_emptied_direct_score_is_refused_with_a_message_not_taken_as_anything(inspector, own_sheet):
    response = put(inspector, own_sheet, "A3", score="", version=0)
    assert response.status_code == 422 and "清除评分" in response.get_json()["fields"]["score"]


def test_a_version_beyond_the_column_is_a_field_error(inspector, own_sheet):
    response = put(inspector, own_sheet, "A3", deductions=[], version=2**70)
    assert response.status_code == 422 and "version" in response.get_json()["fields"]


def test_a_save_that_changes_nothing_writes_nothing(inspector, own_sheet):
    from evalapp.models import AuditEvent
    from sqlalchemy import func

    first = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 1}], note="抽查", version=0)
    audits = db.session.scalar(select(func.count(AuditEvent.id)))
    for body in ({}, {"note": "抽查"}, {"deductions": [{"code": "A3-1", "count": 1}], "note": "抽查"}):
        again = put(inspector, own_sheet, "A3", **body, version=first.get_json()["version"])
        assert again.status_code == 200 and again.get_json()["version"] == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audits
