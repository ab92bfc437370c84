"""The API an offline client needs (issue 31, point 1): the catalogue, photos idempotent by content per score,
tokens refreshed without the password, unknown query values refused."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from evalapp.extensions import db
from evalapp.models import ApiToken, AuditEvent, EvidenceFile, RefreshToken
from evalapp.models.base import utcnow
from tests.factories import PASSWORD, VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401

pytestmark = pytest.mark.pgbouncer  # run again through PgBouncer by .ci/run


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


def _token(app, username="inspector"):
    response = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


# --- the catalogue -------------------------------------------------------------------------------------------------

def test_the_catalogue_gives_what_a_card_and_the_standing_rule_need(app, world, login_as):
    data = login_as("inspector").get(f"/api/v1/rounds/{world.round.id}/catalogue?kind=village").get_json()
    assert data["threshold"] == "95.00" and data["kind"] == "village"
    assert data["catalogue"]["total"] == "100.00"
    a3 = next(i for i in data["indicators"] if i["code"] == "A3")
    assert a3["max"] == "8.00" and a3["title"] and a3["free_deduction"] is True
    assert a3["rules"][0] == {"code": "A3-1", "text": a3["rules"][0]["text"], "per": "1.00", "void": False}
    b1 = next(i for i in data["indicators"] if i["code"] == "B1")
    assert any(r["void"] for r in b1["rules"])  # 一票否决 of the indicator: 0 points
    assert sum(int(i["max"].replace(".", "")) for i in data["indicators"]) == 10000
    assert data["bonus_items"] and all({"code", "text", "points"} <= set(b) for b in data["bonus_items"])
    assert data["veto_items"] and all({"code", "text"} <= set(v) for v in data["veto_items"])
    assert data["bonus_cap"] and data["limits"]["direct_step"] == "0.50"
    township = login_as("inspector").get(f"/api/v1/rounds/{world.round.id}/catalogue?kind=township").get_json()
    assert township["catalogue"]["id"] != data["catalogue"]["id"]


@pytest.mark.parametrize("query", ["", "?kind=", "?kind=city", "?kind=VILLAGE"])
def test_the_catalogue_refuses_an_unknown_kind(app, world, login_as, query):
    response = login_as("inspector").get(f"/api/v1/rounds/{world.round.id}/catalogue{query}")
    assert response.status_code == 422 and "kind" in response.get_json()["fields"]


def test_the_catalogue_of_no_round_is_404(app, world, login_as):
    assert login_as("inspector").get("/api/v1/rounds/999999/catalogue?kind=village").status_code == 404


# --- photos: idempotent by content per score -----------------------------------------------------------------------

def _jpeg(color=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(out, "JPEG")
    return out.getvalue()


def _send(client, sheet, code, data):
    return client.post(f"/api/v1/sheets/{sheet.id}/scores/{code}/photos",
                       data={"photo": (io.BytesIO(data), "现场.jpg")}, content_type="multipart/form-data")


def test_the_same_photo_sent_again_returns_the_first_stored_once(app, world, login_as):
    client, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    first = _send(client, sheet, "A1", _jpeg())
    assert first.status_code == 201
    again = _send(client, sheet, "A1", _jpeg())
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count(EvidenceFile.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "evidence.add")) == 1
    # other bytes, or the same bytes for another indicator: a photo of its own
    assert _send(client, sheet, "A1", _jpeg((10, 200, 10))).status_code == 201
    assert _send(client, sheet, "A2", _jpeg()).status_code == 201
    assert db.session.scalar(select(func.count(EvidenceFile.id))) == 3


def test_a_withdrawn_photo_sent_again_is_stored_anew(app, world, login_as):
    client, sheet = login_as("inspector"), make_sheet(world, VILLAGE)
    first = _send(client, sheet, "A1", _jpeg()).get_json()
    assert client.delete(f"/api/v1/evidence/{first['id']}").status_code == 200
    again = _send(client, sheet, "A1", _jpeg())
    assert again.status_code == 201 and again.get_json()["id"] != first["id"]


# --- tokens refreshed without the password -------------------------------------------------------------------------

def test_a_log_in_gives_a_short_access_token_and_a_refresh_token(app, world):
    pair = _token(app)
    assert pair["token"] and pair["refresh_token"] and pair["token"] != pair["refresh_token"]
    client = app.test_client()
    assert client.get("/api/v1/rounds", headers=_bearer(pair["token"])).status_code == 200
    row = db.session.scalar(select(ApiToken))
    assert timedelta(minutes=55) < row.expires_at - utcnow() <= timedelta(hours=1)


def test_a_refresh_rotates_both_tokens_without_the_password(app, world):
    pair = _token(app)
    client = app.test_client()
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200
    new = fresh.get_json()
    assert new["token"] != pair["token"] and new["refresh_token"] != pair["refresh_token"]
    assert client.get("/api/v1/rounds", headers=_bearer(new["token"])).status_code == 200
    # the new refresh token works in turn
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 200
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "api_token.refresh")) == 2


def test_a_reused_refresh_token_revokes_the_whole_family(app, world):
    pair = _token(app)
    client = app.test_client()
    new = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).get_json()
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401 and replay.get_json()["code"] == "auth.refresh_reused"
    # every token of the family ends: the access tokens of both turns and the newest refresh token
    for token in (pair["token"], new["token"]):
        assert client.get("/api/v1/rounds", headers=_bearer(token)).status_code == 401
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert after.status_code == 401 and after.get_json()["code"] == "auth.invalid_refresh_token"
    # another log-in's family is untouched
    other = _token(app)
    assert client.get("/api/v1/rounds", headers=_bearer(other["token"])).status_code == 200


def test_an_expired_unknown_or_missing_refresh_token_is_refused(app, world):
    pair = _token(app)
    client = app.test_client()
    db.session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    expired = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert expired.status_code == 401 and expired.get_json()["code"] == "auth.invalid_refresh_token"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"}).status_code == 401
    missing = client.post("/api/v1/auth/refresh", json={})
    assert missing.status_code == 422 and "refresh_token" in missing.get_json()["fields"]


def test_a_password_reset_ends_the_refresh_tokens_too(app, world):
    from evalapp.services import accounts

    pair = _token(app)
    accounts.end_credentials(world.people["inspector"], reason="test")
    db.session.commit()
    response = app.test_client().post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


def test_revoking_a_token_on_the_account_page_ends_its_refresh_token(app, world, login_as):
    pair = _token(app)
    token_id = db.session.scalar(select(ApiToken.id))
    assert login_as("inspector").post(f"/account/tokens/{token_id}/revoke").status_code == 302
    response = app.test_client().post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


# --- unknown query values ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("view", ["", "official", "DRAFT", "anything"])
def test_an_unknown_view_of_the_results_is_refused(app, world, login_as, view):
    response = login_as("district").get(f"/api/v1/rounds/{world.round.id}/results?view={view}")
    assert response.status_code == 422 and "view" in response.get_json()["fields"]


def test_the_draft_view_and_none_are_answered(app, world, login_as):
    district = login_as("district")
    assert district.get(f"/api/v1/rounds/{world.round.id}/results?view=draft").status_code == 200
    assert district.get(f"/api/v1/rounds/{world.round.id}/results").status_code == 200
