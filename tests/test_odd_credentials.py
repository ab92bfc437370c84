"""Credentials no account can have are refused like wrong ones (401), never a 500; a user with a temporary password
is answered 403 with the reason on every API call, through a web session or an old token."""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import User
from tests.conftest import DEMO_PASSWORD
from tests.factories import app_of_world, make_sheet, VILLAGE, world  # noqa: F401 (fixtures)


@pytest.mark.parametrize("username, password", [
    ("\ud800", "x"), ("inspector", "\ud800"), ("a\u0000b", "x"), ("a\x07b", "x"), ("\udfff" * 70, "\ud800" * 300),
], ids=["surrogate-name", "surrogate-password", "nul", "bell", "long-surrogates"])
def test_the_token_endpoint_refuses_odd_text_with_401(client, username, password):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401 and response.get_json()["error"]


def test_the_login_form_refuses_a_nul_in_the_username(client):
    assert client.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 401


def test_a_temporary_password_saves_nothing_through_the_api(app, world, login_as):
    inspector = login_as("inspector")
    token = inspector.post("/api/v1/auth/token", json={"username": "inspector", "password": DEMO_PASSWORD})
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    user = db.session.scalar(select(User).where(User.username == "inspector"))
    user.must_change_password = True  # as a reset leaves it (the reset itself also ends the token: test_credentials)
    db.session.commit()
    sheet = make_sheet(world, VILLAGE)
    for client, headers in ((inspector, {}), (app.test_client(), bearer)):
        response = client.put(f"/api/v1/sheets/{sheet.id}/scores/A1", json={"deductions": [], "version": 0},
                              headers=headers)
        assert response.status_code == 403 and "修改密码" in response.get_json()["error"]
