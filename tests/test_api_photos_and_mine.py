"""Issue 18, points 6 and 7, the rest: the photo URLs the API hands out serve the token that asked for them
(/api/v1/evidence/<id>/<variant>, the API's rules: a bad token is a 401, never the log-in page), ?mine=1 lists the
caller's own sheets, and the loose ends of the 401/415 work (the scheme of a Bearer header in any case, the 415's
own message, the token page's audit address, the log-in throttle reading only a body declared JSON)."""
import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import AuditEvent, EvidenceFile, Sheet
from evalapp.services import accounts
from tests.factories import (OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, make_round, make_sheet)

# run again with the files in the local S3 server, and again through PgBouncer by .ci/run
pytestmark = [pytest.mark.both_storages, pytest.mark.pgbouncer]


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def app(empty_app, world):
    return empty_app


def _bearer(world, username):
    token, _ = accounts.issue_api_token(world.people[username])
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _jpeg(color=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(out, "JPEG")
    return out.getvalue()


def _upload(app, world, headers):
    sheet = make_sheet(world, VILLAGE)
    response = app.test_client().post(f"/api/v1/sheets/{sheet.id}/scores/A1/photos", headers=headers,
                                      data={"photo": (io.BytesIO(_jpeg()), "现场.jpg")},
                                      content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _stored(photo_id, variant="full"):
    from evalapp.services.storage import storage

    ev = db.session.get(EvidenceFile, photo_id)
    with storage().open(ev.thumb_key if variant == "thumb" else ev.storage_key) as f:
        return f.read()


# --- photos: the URLs the API returns serve a token holder ------------------------------------------------------

def test_the_urls_of_an_uploaded_photo_serve_the_token_that_uploaded_it(app, world):
    headers = _bearer(world, "inspector")
    photo = _upload(app, world, headers)
    client = app.test_client()
    for key, variant in (("url", "full"), ("thumb", "thumb")):
        response = client.get(photo[key], headers=headers)
        assert response.status_code == 200, (photo[key], response.status_code, response.headers.get("Location"))
        assert response.mimetype == "image/jpeg" and response.data == _stored(photo["id"], variant)
        assert response.headers["Cache-Control"] == "no-store"


def test_a_sheets_photos_carry_urls_that_serve_a_token(app, world):
    headers = _bearer(world, "inspector")
    photo = _upload(app, world, headers)
    client = app.test_client()
    sheet = client.get(f"/api/v1/sheets/{make_sheet(world, VILLAGE).id}", headers=headers).get_json()
    listed = next(i for i in sheet["indicators"] if i["code"] == "A1")["photos"]
    assert listed == [{"id": photo["id"], "name": "现场.jpg", "url": photo["url"], "thumb": photo["thumb"]}]
    assert client.get(listed[0]["thumb"], headers=headers).data == _stored(photo["id"], "thumb")


@pytest.mark.parametrize("username, status", [("inspector", 200), ("leader", 200), ("district", 200),
                                              ("finance", 404), ("inspector2", 404), ("village", 404),
                                              ("township", 404), ("outsider_township", 404)])
def test_a_photo_is_served_to_the_tokens_that_may_see_its_sheet_only(app, world, username, status):
    photo = _upload(app, world, _bearer(world, "inspector"))
    response = app.test_client().get(photo["url"], headers=_bearer(world, username))
    assert response.status_code == status
    if status == 404:  # the API's error shape, and nothing said of the photo
        assert response.get_json()["code"] == "evidence.not_found"


@pytest.mark.parametrize("header", ["Bearer stale", "bearer stale", "Bearer "])
def test_a_photo_asked_with_a_bad_token_is_401_json_not_the_log_in_page(app, world, header):
    photo = _upload(app, world, _bearer(world, "inspector"))
    response = app.test_client().get(photo["url"], headers={"Authorization": header})
    assert response.status_code == 401 and "Location" not in response.headers
    assert response.get_json()["code"] == "auth.invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_bad_token_beside_a_session_is_refused_for_a_photo_too(app, world, login_as):
    photo = _upload(app, world, _bearer(world, "inspector"))
    session = login_as("inspector")
    assert session.get(photo["url"], headers={"Authorization": "Bearer stale"}).status_code == 401
    assert session.get(photo["url"]).status_code == 200  # the tablet page's own session: the same URL serves it


def test_without_token_or_session_the_api_url_is_401_and_the_pages_url_still_asks_to_log_in(app, world):
    photo = _upload(app, world, _bearer(world, "inspector"))
    anonymous = app.test_client()
    api = anonymous.get(photo["url"])
    assert api.status_code == 401 and api.get_json()["code"] == "auth.required"
    page = anonymous.get(f"/evidence/{photo['id']}/full")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_withdrawn_photo_and_an_unknown_variant_are_404(app, world):
    headers = _bearer(world, "inspector")
    photo = _upload(app, world, headers)
    client = app.test_client()
    assert client.get(f"/api/v1/evidence/{photo['id']}/original", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/evidence/{photo['id']}", headers=headers).status_code == 200
    gone = client.get(photo["url"], headers=headers)
    assert gone.status_code == 404 and gone.get_json()["code"] == "evidence.not_found"


def test_the_document_states_the_photo_path_and_the_urls(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/evidence/{evidence_id}/{variant}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"evidence_id", "variant"}
    assert "image/jpeg" in operation["responses"]["200"]["content"]
    assert {"401", "403", "404"} <= set(operation["responses"])
    photo = doc["paths"]["/sheets/{sheet_id}/scores/{indicator_code}/photos"]["post"]["responses"]["201"]
    assert {"url", "thumb"} <= set(photo["content"]["application/json"]["schema"]["required"])


# --- the caller's own sheets: ?mine=1 ---------------------------------------------------------------------------

def _listed(app, world, username, query="?mine=1"):
    response = app.test_client().get(f"/api/v1/rounds/{world.round.id}/sheets{query}",
                                     headers=_bearer(world, username))
    assert response.status_code == 200, response.get_json()
    return sorted(s["id"] for s in response.get_json()["sheets"])


def _ids(world, *pairs):
    return sorted(make_sheet(world, unit, kind, **({"inspector": who} if who else {})).id
                  for unit, kind, who in pairs)


def test_mine_lists_an_inspectors_own_sheets_not_the_colleagues(app, world):
    assert _listed(app, world, "inspector") == _ids(world, (TOWNSHIP, "inspector", "inspector"),
                                                    (VILLAGE, "inspector", "inspector"))
    # Without the filter the colleague's (the leader's) and the final sheets of the team's units are listed too.
    assert set(_ids(world, (VILLAGE, "inspector", "leader"), (VILLAGE, "final", None))) <= set(
        _listed(app, world, "inspector", ""))


def test_mine_lists_a_leaders_own_sheets_and_the_teams_finals(app, world):
    assert _listed(app, world, "leader") == _ids(world, (TOWNSHIP, "inspector", "leader"),
                                                 (VILLAGE, "inspector", "leader"), (TOWNSHIP, "final", None),
                                                 (VILLAGE, "final", None))
    assert _listed(app, world, "inspector2") == _ids(world, (OTHER_TOWNSHIP, "inspector", "inspector2"),
                                                     (OTHER_VILLAGE, "inspector", "inspector2"),
                                                     (OTHER_TOWNSHIP, "final", None), (OTHER_VILLAGE, "final", None))


def test_mine_lists_a_villages_self_sheet(app, world):
    assert _listed(app, world, "village") == _ids(world, (VILLAGE, "self", None))


def test_mine_lists_a_townships_own_self_sheet_not_its_villages(app, world):
    assert _listed(app, world, "township") == _ids(world, (TOWNSHIP, "self", None))
    assert _listed(app, world, "township", "") == _ids(world, (TOWNSHIP, "self", None), (VILLAGE, "self", None))


@pytest.mark.parametrize("username", ["admin", "district", "finance"])
def test_mine_is_empty_for_the_roles_that_fill_no_sheet(app, world, username):
    assert _listed(app, world, username) == []
    kinds = ("self", "final") if username == "finance" else ("self", "inspector", "final")  # (access.can_view_sheet)
    every = db.session.scalars(select(Sheet.id).where(Sheet.round_id == world.round.id, Sheet.kind.in_(kinds))).all()
    assert _listed(app, world, username, "?mine=0") == sorted(every)


def test_mine_spelled_true_or_false_and_anything_else_refused(app, world):
    assert _listed(app, world, "village", "?mine=true") == _listed(app, world, "village", "?mine=1")
    assert _listed(app, world, "township", "?mine=false") == _listed(app, world, "township", "")
    response = app.test_client().get(f"/api/v1/rounds/{world.round.id}/sheets?mine=yes",
                                     headers=_bearer(world, "village"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "input.invalid" and "mine" in response.get_json()["fields"]


def test_the_document_states_mine(app):
    operation = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]["/rounds/{round_id}/sheets"]["get"]
    assert [p for p in operation["parameters"] if p["name"] == "mine"][0]["in"] == "query"
    assert "422" in operation["responses"]


# --- loose ends -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_request_loader_takes_the_scheme_in_any_case(app, world, scheme):
    """RFC 7235: the auth scheme is case-insensitive; the log-in manager's loader itself reads it so."""
    from evalapp.auth.routes import load_user_from_bearer

    token, _ = accounts.issue_api_token(world.people["inspector"])
    db.session.commit()
    with app.test_request_context("/api/v1/rounds", headers={"Authorization": f"{scheme} {token}"}):
        from flask import request

        user = load_user_from_bearer(request)
        assert user is not None and user.username == "inspector"


def test_a_body_not_declared_json_is_told_what_to_send(app, world):
    response = app.test_client().put(f"/api/v1/sheets/{make_sheet(world, VILLAGE).id}/scores/A1",
                                     headers=_bearer(world, "inspector"), content_type="text/plain",
                                     data=json.dumps({"deductions": [], "version": 0}))
    assert response.status_code == 415
    message = "请求内容须为JSON（Content-Type: application/json）"
    assert response.get_json()["error"] == message and response.get_json()["fields"] == {"body": message}


def test_revoking_a_token_on_the_account_page_records_the_clients_address(app, world, login_as):
    token, _ = accounts.issue_api_token(world.people["inspector"])
    db.session.commit()
    token_id = accounts.live_tokens(world.people["inspector"])[0].id
    response = login_as("inspector").post(f"/account/tokens/{token_id}/revoke",
                                          environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert response.status_code == 302
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke"))
    assert row is not None and row.ip == "10.7.7.7"


def test_a_text_body_naming_a_throttled_account_is_415_not_counted_under_that_name(app):
    client = app.test_client()
    for _ in range(5):  # LOGIN_LIMIT_PER_ACCOUNT: 5 per 15 minutes
        client.post("/api/v1/auth/token", json={"username": "inspector", "password": "wrong"})
    assert client.post("/api/v1/auth/token", json={"username": "inspector", "password": PASSWORD}).status_code == 429
    # The name in a text body is never read (json_body answers 415 first), so it is not the throttle's either.
    text = client.post("/api/v1/auth/token", content_type="text/plain",
                       data=json.dumps({"username": "inspector", "password": PASSWORD}))
    assert text.status_code == 415


def test_the_sheet_list_reads_its_units_with_the_sheets_not_one_query_per_unit(app, world):
    from sqlalchemy import event

    headers = _bearer(world, "district")
    seen = []

    def after(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        response = app.test_client().get(f"/api/v1/rounds/{world.round.id}/sheets", headers=headers)
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert len({s["unit"]["code"] for s in response.get_json()["sheets"]}) == 4
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT") and "FROM org_units" in s
                and "sheets" not in s]
