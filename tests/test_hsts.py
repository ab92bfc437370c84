"""HSTS outside development: a browser that has seen the app over https never uses plain http for it again."""
import pytest

from evalapp import create_app
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def headers_of(tmp_path, **config):
    app = create_app({"SECRET_KEY": "x", "SEAL_KEYS": {"h": "00" * 32},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/h.sqlite3", **config})
    response = app.test_client().get("/static/css/app.css")
    response.close()
    return response.headers


def test_production_sends_hsts(tmp_path):
    assert headers_of(tmp_path, ENV="production")["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("config", [{"ENV": "development"}, {"ENV": "testing", "TESTING": True}])
def test_development_and_tests_on_plain_http_send_no_hsts(tmp_path, config):
    assert "Strict-Transport-Security" not in headers_of(tmp_path, **config)


def test_the_test_app_pages_send_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
