"""The scoring API: reading sheets, autosaving scores with versions, bad input, submitting."""
import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, Score, Sheet
from tests.conftest import fill_all
from tests.factories import (
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, app_of_world, make_round, make_sheet,  # noqa: F401
)

pytestmark = pytest.mark.pgbouncer  # run again through PgBouncer by .ci/run


@pytest.fixture
def world(empty_app):
    """A round of the test's own in inspection, every unit's self-assessment submitted (as the results need)."""
    return make_round("inspection", self_assessed=True)


@pytest.fixture
def inspector(login_as):
    return login_as("inspector")


@pytest.fixture
def own_sheet(app, world):
    return make_sheet(world, VILLAGE)


def put(client, sheet, code, **body):
    return client.put(f"/api/v1/sheets/{sheet.id}/scores/{code}", json=body)


def test_get_sheet_lists_every_indicator_with_max_and_version(inspector, own_sheet):
    data = inspector.get(f"/api/v1/sheets/{own_sheet.id}").get_json()
    assert data["unit"] == {"code": own_sheet.unit.code, "name": VILLAGE, "level": "village"}
    assert data["kind"] == "inspector" and data["status"] == "draft"
    assert len(data["indicators"]) == 20
    a3 = next(i for i in data["indicators"] if i["code"] == "A3")
    assert a3 == {**a3, "max": "8.00", "score": None, "version": 0, "deductions": []}
    assert data["total"] is None and data["result"] == "incomplete" and data["editable"] is True


def test_put_deductions_returns_score_version_and_sheet_total(inspector, own_sheet):
    response = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 2}], note="抽查5户", version=0)
    assert response.status_code == 200
    data = response.get_json()
    assert data["score"] == "6.00" and data["version"] == 1 and data["sheet_total"] == "6.00"
    assert data["missing_to_threshold"] == "89.00"
    # the sums the total comes from, so a tablet computes the same standing (static/js/standing.js)
    assert (data["score_sum"], data["scored"], data["bonus_sum"], data["veto"]) == ("6.00", 1, "0.00", False)
    again = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 1}], free_deduction="0.5",
                reason="记录不规范", version=1).get_json()
    assert again["score"] == "6.50" and again["version"] == 2
    sheet = inspector.get(f"/api/v1/sheets/{own_sheet.id}").get_json()
    a3 = next(i for i in sheet["indicators"] if i["code"] == "A3")
    assert a3["deductions"] == [{"code": "A3-1", "count": 1}] and a3["free_deduction"] == "0.50"
    assert a3["reason"] == "记录不规范" and a3["note"] == "抽查5户"  # a body without `note` leaves the note


def test_direct_score_and_void_rule(inspector, own_sheet):
    assert put(inspector, own_sheet, "A1", score="2.5", reason="会议记录不全", version=0).get_json()["score"] == "2.50"
    data = put(inspector, own_sheet, "B1", deductions=[{"code": "B1-1", "count": 1}], version=0).get_json()
    assert data["score"] == "0.00" and data["sheet_total"] == "2.50"


def test_a_stale_version_is_refused_with_the_saved_value(inspector, login_as, own_sheet):
    assert put(inspector, own_sheet, "A3", deductions=[], version=0).status_code == 200
    assert put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 1}], version=1).status_code == 200
    stale = put(inspector, own_sheet, "A3", deductions=[{"code": "A3-1", "count": 3}], version=1)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["current"]["score"] == "7.00" and body["current"]["version"] == 2 and body["error"]
    db.session.expire_all()
    score = db.session.scalar(select(Score).where(Score.sheet_id == own_sheet.id))
    assert score.points == 7 and score.version == 2  # never a silent overwrite


def test_two_first_saves_of_the_same_indicator_give_one_score_and_a_conflict(inspector, own_sheet):
    assert put(inspector, own_sheet, "A1", deductions=[], version=0).status_code == 200
    assert put(inspector, own_sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], version=0).status_code == 409
    assert db.session.scalar(select(func.count(Score.id)).where(Score.sheet_id == own_sheet.id)) == 1


BAD = [
    ({"score": "-1"}, "score"), ({"score": "3.5"}, "score"), ({"score": "2.3", "reason": "x"}, "score"),
    ({"score": "abc"}, "score"), ({"score": "1e2"}, "score"), ({"score": "nan"}, "score"),
    ({"score": "snan"}, "score"), ({"score": "Infinity"}, "score"), ({"score": True}, "score"),
    ({"score": "1" * 10_000_000}, "body"), ({"score": "1" * 100}, "score"), ({"score": "2\x00"}, "score"),
    ({"deductions": [{"code": "ZZ-9", "count": 1}]}, "deductions"),
    ({"deductions": [{"code": "A1-1", "count": -1}]}, "deductions"),
    ({"deductions": [{"code": "A1-1", "count": "2"}]}, "deductions"),
    ({"deductions": [{"code": "A3-1", "count": 1}]}, "deductions"),  # a rule of another indicator
    ({"deductions": "A1-1"}, "deductions"),
    ({"free_deduction": "-0.5", "reason": "x"}, "free_deduction"),
    ({"free_deduction": "0.5"}, "reason"),
    ({"note": "x" * 2001}, "note"), ({"note": "a\x00b"}, "note"), ({"reason": ["x"]}, "reason"),
]


@pytest.mark.parametrize("body, field", BAD)
def test_bad_input_is_422_by_field_and_leaves_the_saved_value(inspector, own_sheet, body, field):
    assert put(inspector, own_sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], note="原值",
               version=0).status_code == 200
    response = put(inspector, own_sheet, "A1", **{"version": 1, **body})
    # a body larger than any score is refused unread (bodylimits: 413), the rest by field
    assert response.status_code == (413 if field == "body" else 422)
    data = response.get_json()
    assert field in data["fields"] and data["error"]
    db.session.expire_all()
    score = db.session.scalar(select(Score).where(Score.sheet_id == own_sheet.id))
    assert (score.points, score.note, score.version) == (2, "原值", 1)


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b'{"score": NaN, "version": 0}',
                                 b'{"score": Infinity, "version": 0}', b'{"score": 1e999, "version": 0}',
                                 b"\xff\xfe"])
def test_malformed_bodies_are_4xx_never_500(inspector, own_sheet, raw):
    response = inspector.put(f"/api/v1/sheets/{own_sheet.id}/scores/A1", data=raw,
                             content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]


def test_missing_version_is_refused(inspector, own_sheet):
    response = put(inspector, own_sheet, "A1", deductions=[])
    assert response.status_code == 422 and "version" in response.get_json()["fields"]


def test_unknown_indicator_is_404(inspector, own_sheet):
    assert put(inspector, own_sheet, "Q9", deductions=[], version=0).status_code == 404


def test_extra_fields_are_ignored(inspector, own_sheet):
    response = put(inspector, own_sheet, "A1", deductions=[], version=0, status="approved", unit_id=1,
                   sheet_id=999, points="99")
    assert response.status_code == 200 and response.get_json()["score"] == "3.00"
    db.session.refresh(own_sheet)
    assert own_sheet.status == "draft"


def test_another_teams_sheet_is_404_and_another_members_sheet_is_403(inspector, world):
    other_team = make_sheet(world, OTHER_VILLAGE, inspector="inspector2")
    assert put(inspector, other_team, "A1", deductions=[], version=0).status_code == 404
    assert inspector.get(f"/api/v1/sheets/{other_team.id}").status_code == 404
    colleague = make_sheet(world, VILLAGE, inspector="leader")
    assert inspector.get(f"/api/v1/sheets/{colleague.id}").status_code == 200  # the team sees its sheets
    assert put(inspector, colleague, "A1", deductions=[], version=0).status_code == 403


def test_round_sheets_lists_only_what_the_caller_may_see(inspector, login_as, world):
    round_id = world.round.id
    mine = inspector.get(f"/api/v1/rounds/{round_id}/sheets").get_json()["sheets"]
    assert {s["unit"]["name"] for s in mine} == {TOWNSHIP, VILLAGE}  # their team's units, not 白沙街道's team's
    village = login_as("village").get(f"/api/v1/rounds/{round_id}/sheets").get_json()["sheets"]
    assert [(s["unit"]["name"], s["kind"]) for s in village] == [(VILLAGE, "self")]


def test_every_save_writes_an_audit_row_with_old_and_new(inspector, own_sheet):
    put(inspector, own_sheet, "A1", deductions=[], version=0)
    put(inspector, own_sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], version=1)
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "score.save")
                              .order_by(AuditEvent.id.desc()).limit(2)).all()
    assert rows[0].old["score"] == "3.00" and rows[0].new["score"] == "2.00"
    assert rows[1].old == {"score": None, "version": 0}


def test_submit_is_refused_listing_unscored_indicators(inspector, own_sheet):
    put(inspector, own_sheet, "A1", deductions=[], version=0)
    response = inspector.post(f"/api/v1/sheets/{own_sheet.id}/submit")
    assert response.status_code == 422
    data = response.get_json()
    assert "尚有19项指标未评分" in data["error"] and "A2" in data["fields"]["unscored"]
    assert "A1、" not in data["fields"]["unscored"]


def test_submitted_sheet_is_read_only_for_its_inspector(inspector, own_sheet):
    fill_all(inspector, own_sheet)
    response = inspector.post(f"/api/v1/sheets/{own_sheet.id}/submit")
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"
    refused = put(inspector, own_sheet, "A1", deductions=[{"code": "A1-1", "count": 1}], version=1)
    assert refused.status_code == 403 and "已提交" in refused.get_json()["error"]
    assert inspector.post(f"/api/v1/sheets/{own_sheet.id}/submit").status_code == 403
    assert inspector.get(f"/api/v1/sheets/{own_sheet.id}").get_json()["editable"] is False


def test_bearer_token_clients(client, own_sheet):
    assert client.post("/api/v1/auth/token", json={"username": "inspector", "password": "nope"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope"}).status_code == 401
    token = client.post("/api/v1/auth/token",
                        json={"username": "inspector", "password": PASSWORD}).get_json()["token"]
    bare = client.application.test_client()
    assert bare.get("/api/v1/rounds").status_code == 401
    headers = {"Authorization": f"Bearer {token}"}
    assert bare.get("/api/v1/rounds", headers=headers).status_code == 200
    response = bare.put(f"/api/v1/sheets/{own_sheet.id}/scores/A1", json={"deductions": [], "version": 0},
                        headers=headers)
    assert response.status_code == 200
    assert bare.get("/api/v1/rounds", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_results_endpoint_gives_every_unit_in_scope(login_as, world):
    round_id = world.round.id
    data = login_as("district").get(f"/api/v1/rounds/{round_id}/results").get_json()
    units = {u["name"]: u for u in data["units"]}
    assert set(units) == {TOWNSHIP, VILLAGE, OTHER_TOWNSHIP, OTHER_VILLAGE}
    village = units[VILLAGE]
    assert village["township_code"] == world.units[TOWNSHIP].code and village["result"] == "incomplete"
    assert village["self_total"] is not None and village["final_total"] is None
    assert login_as("village").get(f"/api/v1/rounds/{round_id}/results").status_code == 403


def test_openapi_document_describes_the_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/sheets/{sheet_id}", "/sheets/{sheet_id}/scores/{indicator_code}", "/sheets/{sheet_id}/submit",
            "/rounds/{round_id}/results", "/auth/token", "/rounds", "/rounds/{round_id}/sheets"} <= set(doc["paths"])
    assert "409" in doc["paths"]["/sheets/{sheet_id}/scores/{indicator_code}"]["put"]["responses"]


def test_json_numbers_are_read_as_exact_decimals(inspector, own_sheet):
    response = inspector.put(f"/api/v1/sheets/{own_sheet.id}/scores/A1", data=b'{"score": 2.5, "reason": "x", '
                             b'"version": 0}', content_type="application/json")
    assert response.status_code == 200 and response.get_json()["score"] == "2.50"
