"""CSRF stays real: with protection on, a POST without a valid token is refused, by page and by API."""
import re

import pytest

from tests.conftest import make_app
from tests.factories import VILLAGE, make_round, make_sheet


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


@pytest.fixture
def csrf_app(empty_app, world):
    """A round of the test's own (tests/factories.py), with CSRF protection on."""
    empty_app.config["WTF_CSRF_ENABLED"] = True
    return empty_app


def _token(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)


def test_login_without_a_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "village", "password": "demo-pass-2021"})
    assert response.status_code == 400 and "安全校验失败" in response.get_data(as_text=True)


def test_login_with_the_pages_token_works_and_a_foreign_token_does_not(csrf_app):
    client = csrf_app.test_client()
    m = _token(client.get("/login").get_data(as_text=True))
    token = m.group(1) or m.group(2)
    other = csrf_app.test_client()
    foreign = _token(other.get("/login").get_data(as_text=True))
    foreign_token = foreign.group(1) or foreign.group(2)
    refused = client.post("/login", data={"username": "village", "password": "demo-pass-2021",
                                          "csrf_token": foreign_token})
    assert refused.status_code == 400
    ok = client.post("/login", data={"username": "village", "password": "demo-pass-2021", "csrf_token": token})
    assert ok.status_code == 302


def test_api_write_from_a_session_needs_the_header(csrf_app, world):
    client = csrf_app.test_client()
    m = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "inspector", "password": "demo-pass-2021",
                                "csrf_token": m.group(1) or m.group(2)})
    url = f"/api/v1/sheets/{make_sheet(world, VILLAGE).id}/scores/A1"
    refused = client.put(url, json={"deductions": [], "version": 0})
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf"
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    assert client.put(url, json={"deductions": [], "version": 0}, headers={"X-CSRFToken": token}).status_code == 200


def test_expired_token_is_refused(csrf_app):
    csrf_app.config["WTF_CSRF_TIME_LIMIT"] = -1
    client = csrf_app.test_client()
    m = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "village", "password": "demo-pass-2021",
                                           "csrf_token": m.group(1) or m.group(2)})
    assert response.status_code == 400


def test_server_error_page_is_chinese_without_a_traceback(empty_app):
    app = empty_app

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.testing = False  # let the error handler answer as in production
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "服务器出错了" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_production_refuses_to_start_without_a_secret_key(blank_db_url, monkeypatch):
    from evalapp import ConfigError, create_app

    monkeypatch.delenv("EVALAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("EVALAPP_ENV", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": blank_db_url, "SECRET_KEY": None})
    app = make_app(blank_db_url)  # the test config has one
    assert app.config["SECRET_KEY"]


def test_security_headers_on_every_response(empty_app):
    response = empty_app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] and response.headers["Cache-Control"] == "no-store"
