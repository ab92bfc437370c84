"""API errors a program can act on (issue 18, point 6): a bad, expired, revoked or missing Bearer token answers 401
JSON with a WWW-Authenticate challenge — never the CSRF refusal, never the log-in page —, a session without its
CSRF header stays a 400 in the API's shape, and a body that is not JSON on a JSON endpoint is a 415.

CSRF protection is on here, as in production (the suite's default configuration turns it off)."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from evalapp.extensions import db
from evalapp.models import ApiToken, LoginFailure, Score
from evalapp.models.base import utcnow
from tests.factories import PASSWORD, VILLAGE, make_round, make_sheet

pytestmark = pytest.mark.pgbouncer  # run again through PgBouncer by .ci/run


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def app(empty_app, world):
    empty_app.config["WTF_CSRF_ENABLED"] = True
    return empty_app


def _session(app, username):
    """A test client logged in through the form (with the page's CSRF token), and that token."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _token(app, username="inspector"):
    response = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def _bearer(token, scheme="Bearer"):
    return {"Authorization": f"{scheme} {token}"}


def _score_url(world, unit=VILLAGE):
    return f"/api/v1/sheets/{make_sheet(world, unit).id}/scores/A1"


FULL_MARKS = {"deductions": [], "version": 0}


def _is_invalid_token(response):
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.is_json and set(response.get_json()) == {"error", "code", "fields"}
    assert response.get_json()["code"] == "auth.invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "Location" not in response.headers
    return True


def _saved_scores():
    return db.session.scalar(select(func.count()).select_from(Score))


# --- 401 for tokens that are not (or no longer) credentials -----------------------------------------------------

@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "bearer not-a-token", "Bearer " + "x" * 5000])
def test_a_write_with_a_bad_token_is_401_json_with_a_challenge(app, world, header):
    response = app.test_client().put(_score_url(world), json=FULL_MARKS, headers={"Authorization": header})
    assert _is_invalid_token(response)
    assert _saved_scores() == 0


def test_an_expired_token_is_401(app, world):
    token = _token(app)
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert _is_invalid_token(app.test_client().put(_score_url(world), json=FULL_MARKS, headers=_bearer(token)))


def test_a_revoked_token_is_401(app, world):
    token = _token(app)
    client = app.test_client()
    assert client.put(_score_url(world), json=FULL_MARKS, headers=_bearer(token)).status_code == 200
    db.session.execute(update(ApiToken).values(revoked_at=utcnow()))
    db.session.commit()
    again = client.put(_score_url(world), json={"deductions": [], "version": 1}, headers=_bearer(token))
    assert _is_invalid_token(again)


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/sheets/{sheet}/submit", None),
    ("POST", "/api/v1/sheets/{sheet}/return", {"comment": "x"}),
    ("POST", "/api/v1/sheets/{sheet}/scores/A1/photos", None),
    ("DELETE", "/api/v1/evidence/1", None),
    ("GET", "/api/v1/rounds", None),
    ("GET", "/api/v1/sheets/{sheet}", None),
    ("GET", "/api/v1/csrf", None),
])
def test_every_operation_refuses_a_bad_token_alike(app, world, method, path, body):
    url = path.format(sheet=make_sheet(world, VILLAGE).id)
    response = app.test_client().open(url, method=method, json=body, headers=_bearer("stale"))
    assert _is_invalid_token(response)


def test_a_bad_token_beside_a_session_cookie_is_401_not_the_session(app, world):
    """The token decides: a program's stale token is refused even from a client that also holds a session."""
    inspector = _session(app, "inspector")
    response = inspector.put(_score_url(world), json=FULL_MARKS, headers=_bearer("stale"))
    assert _is_invalid_token(response)
    assert _is_invalid_token(inspector.get("/api/v1/rounds", headers=_bearer("stale")))
    assert inspector.get("/api/v1/rounds").status_code == 200  # the session itself is untouched


def test_a_valid_token_beside_another_users_session_acts_as_the_token(app, world):
    village = _session(app, "village")
    token = _token(app, "inspector")
    response = village.put(_score_url(world), json=FULL_MARKS, headers=_bearer(token))  # no CSRF: a token's call
    assert response.status_code == 200, response.get_json()  # the village's user could not even see the sheet
    assert village.put(_score_url(world), json=FULL_MARKS).status_code == 400  # its own call: the CSRF rule


def test_the_scheme_is_case_insensitive(app, world):
    response = app.test_client().put(_score_url(world), json=FULL_MARKS, headers=_bearer(_token(app), "bearer"))
    assert response.status_code == 200, response.get_json()


def test_a_good_token_needs_no_csrf_header(app, world):
    response = app.test_client().put(_score_url(world), json=FULL_MARKS, headers=_bearer(_token(app)))
    assert response.status_code == 200


# --- no credential at all; a session without its CSRF header ----------------------------------------------------

@pytest.mark.parametrize("method, path", [("PUT", "/api/v1/sheets/{sheet}/scores/A1"),
                                          ("POST", "/api/v1/sheets/{sheet}/submit"),
                                          ("PUT", "/api/v1/sheets/{sheet}/summary"),
                                          ("DELETE", "/api/v1/evidence/1"), ("GET", "/api/v1/rounds")])
def test_a_write_with_no_token_and_no_session_is_401_json(app, world, method, path):
    url = path.format(sheet=make_sheet(world, VILLAGE).id)
    response = app.test_client().open(url, method=method, json=FULL_MARKS)
    assert response.status_code == 401 and response.is_json
    assert response.get_json()["code"] == "auth.required" and set(response.get_json()) == {"error", "code", "fields"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Location" not in response.headers


def test_another_authorization_scheme_is_not_a_token(app, world):
    """A Basic header (an authenticating proxy's, say) is no API credential: without a session, 401 asking for a
    Bearer token; with one, the session's CSRF rule."""
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    anonymous = app.test_client().put(_score_url(world), json=FULL_MARKS, headers=basic)
    assert anonymous.status_code == 401 and anonymous.get_json()["code"] == "auth.required"
    session = _session(app, "inspector")
    refused = session.put(_score_url(world), json=FULL_MARKS, headers=basic)
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf"


def test_a_session_write_without_the_csrf_header_stays_the_csrf_refusal(app, world):
    inspector = _session(app, "inspector")
    refused = inspector.put(_score_url(world), json=FULL_MARKS)
    assert refused.status_code == 400 and refused.is_json
    assert refused.get_json()["code"] == "csrf" and set(refused.get_json()) == {"error", "code", "fields"}
    assert "WWW-Authenticate" not in refused.headers
    csrf = inspector.get("/api/v1/csrf").get_json()["csrf_token"]
    assert inspector.put(_score_url(world), json=FULL_MARKS, headers={"X-CSRFToken": csrf}).status_code == 200


def test_a_wrong_password_for_a_token_carries_a_challenge_too(app):
    response = app.test_client().post("/api/v1/auth/token", json={"username": "inspector", "password": "wrong"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


# --- 415 for bodies that are not JSON ---------------------------------------------------------------------------

NOT_JSON = [("text/plain", json.dumps(FULL_MARKS)), ("application/x-www-form-urlencoded", "version=0"),
            ("multipart/form-data; boundary=x", "--x--\r\n"), (None, json.dumps(FULL_MARKS))]


@pytest.mark.parametrize("content_type, body", NOT_JSON)
def test_a_score_body_that_is_not_json_is_415(app, world, content_type, body):
    headers = _bearer(_token(app))
    if content_type is None:
        kwargs = {"data": body.encode()}
    else:
        kwargs = {"data": body, "content_type": content_type}
    response = app.test_client().put(_score_url(world), headers=headers, **kwargs)
    assert response.status_code == 415, response.get_data(as_text=True)
    data = response.get_json()
    assert data["code"] == "request.unsupported_media_type" and "body" in data["fields"]
    assert _saved_scores() == 0


def test_json_with_a_suffix_or_a_charset_is_json(app, world):
    headers = _bearer(_token(app))
    client = app.test_client()
    for version, content_type in enumerate(["application/json; charset=utf-8", "application/merge-patch+json"]):
        response = client.put(_score_url(world), data=json.dumps({"deductions": [], "version": version}),
                              content_type=content_type, headers=headers)
        assert response.status_code == 200, response.get_json()


def test_an_empty_body_is_not_an_object_as_before(app, world):
    response = app.test_client().put(_score_url(world), headers=_bearer(_token(app)))
    assert response.status_code == 422 and response.get_json()["code"] == "request.not_object"


def test_the_token_endpoint_refuses_text_and_counts_nothing(app):
    token = app.test_client().post("/api/v1/auth/token", content_type="text/plain",
                                   data=json.dumps({"username": "inspector", "password": "wrong"}),
                                   environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert token.status_code == 415 and token.get_json()["code"] == "request.unsupported_media_type"
    # No password was read, so none was checked: nothing to count against the account.
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_the_summary_refuses_text_too(empty_app):
    world = make_round("self_assessment")  # (a round of its own: the summary is editable in self-assessment)
    sheet = make_sheet(world, VILLAGE, kind="self")
    client = empty_app.test_client()
    headers = _bearer(_token(empty_app, "village"))
    response = client.put(f"/api/v1/sheets/{sheet.id}/summary", headers=headers,
                          data=json.dumps({"summary": "x", "version": sheet.version}), content_type="text/plain")
    assert response.status_code == 415 and response.get_json()["code"] == "request.unsupported_media_type"
    assert client.put(f"/api/v1/sheets/{sheet.id}/summary", headers=headers,
                      json={"summary": "x", "version": sheet.version}).status_code == 200


# --- the document states it --------------------------------------------------------------------------------------

def test_the_openapi_document_states_401_and_415(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if operation.get("security", doc["security"]):
                assert "401" in responses, (method, path)
                assert "WWW-Authenticate" in responses["401"].get("headers", {}), (method, path)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "415" in responses, (method, path)
                schema = responses["415"]["content"]["application/json"]["schema"]
                error = {"$ref": "#/components/schemas/Error"}  # (narrowed to the operation's codes: allOf)
                assert schema == error or schema["allOf"][0] == error


@pytest.mark.parametrize("body", ["[" * 5000, '{"a":' * 3000 + "1" + "}" * 3000])
def test_a_json_body_nested_past_the_parsers_depth_is_422_not_500(app, world, body):
    """Python's json module raises RecursionError (not a ValueError) for a nesting about a thousand deep."""
    response = app.test_client().put(_score_url(world), data=body, content_type="application/json",
                                     headers=_bearer(_token(app)))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["code"] == "request.not_json"
    assert _saved_scores() == 0
