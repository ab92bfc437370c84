"""Bytes on a weak link (issue 16 point 7): fingerprinted static files cached for a year, compressed responses,
and a CSRF token that is new in every response so that compression gives it away to no one (BREACH)."""
import gzip
import re

import brotli
import pytest
from flask import url_for
from itsdangerous import TimestampSigner
from sqlalchemy import select

from evalapp.assets import IMMUTABLE
from evalapp.extensions import db
from evalapp.models import Sheet, User
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _inspector_sheet():
    inspector = db.session.scalar(select(User).where(User.role == "inspector").order_by(User.id))
    sheet = db.session.scalar(select(Sheet).where(Sheet.inspector_id == inspector.id).order_by(Sheet.id))
    return inspector, sheet


def test_every_static_url_of_a_page_names_its_files_bytes_and_is_kept_for_a_year(login_as):
    inspector, sheet = _inspector_sheet()
    page = login_as(inspector.username).get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    assets = ASSET.findall(page)
    assert len(assets) >= 4 and all(re.search(r"\?v=[0-9a-f]{12}$", a) for a in assets), assets
    client = login_as(inspector.username)
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE, url


def test_a_static_file_without_its_current_fingerprint_is_served_but_revalidated(client):
    with client.application.test_request_context():
        current = url_for("static", filename="css/app.css")
    body = client.get(current).get_data()
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):  # plain, or a page cached before a
        response = client.get(url)                                           # deploy that changed the file
        assert response.status_code == 200 and response.get_data() == body
        assert "immutable" not in response.headers["Cache-Control"] and "no-cache" in response.headers["Cache-Control"]
        assert response.headers["ETag"]


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "x.css").write_text("a{}")
    app.static_folder = str(static)
    with app.test_request_context():
        first = url_for("static", filename="x.css")
        assert url_for("static", filename="x.css") == first
        (static / "x.css").write_text("b{color:red}")
        second = url_for("static", filename="x.css")
        assert url_for("static", filename="missing.css") == "/static/missing.css"  # no file: a plain URL
        assert url_for("static", filename="../secret.txt") == "/static/../secret.txt"  # not a static file
    assert first != second and first.startswith("/static/x.css?v=")
    assert app.test_client().get(second).headers["Cache-Control"] == IMMUTABLE
    assert "immutable" not in app.test_client().get(first).headers["Cache-Control"]


@pytest.mark.parametrize("encoding,decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_pages_and_static_files_are_compressed_for_a_client_that_accepts_it(login_as, encoding, decode):
    inspector, sheet = _inspector_sheet()
    client = login_as(inspector.username)
    plain = client.get(f"/inspection/sheets/{sheet.id}")
    assert "Content-Encoding" not in plain.headers
    packed = client.get(f"/inspection/sheets/{sheet.id}", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding and "Accept-Encoding" in packed.headers["Vary"]
    html = decode(packed.get_data()).decode()
    assert 'class="card indicator-card' in html and len(packed.get_data()) < len(plain.get_data()) / 5
    css = client.get("/static/vendor/bootstrap/bootstrap.min.css", headers={"Accept-Encoding": "br"})
    assert css.headers["Content-Encoding"] == "br" and len(css.get_data()) < 40_000


def _tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
               + re.findall(r'<meta name="csrf-token" content="([^"]+)"', html))


@pytest.fixture
def one_second(monkeypatch):
    """Every signature made within the same second of the clock (Flask-WTF's own tokens change once a second)."""
    import time

    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now)


def test_no_two_responses_carry_the_same_csrf_token_and_each_one_works(app, one_second):
    """BREACH: pages are compressed and reflect the query string beside the token, so the token is new in every
    response (security.fresh_csrf_token) instead of being the same for every page of a second."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    [token] = _tokens(login_page)
    assert client.post("/login", data={"username": "inspector", "password": "demo-pass-2021",
                                       "csrf_token": token}).status_code == 302
    _, sheet = _inspector_sheet()
    seen = []
    for _ in range(3):
        page = client.get(f"/inspection/sheets/{sheet.id}?q=csrf_token", headers={"Accept-Encoding": "gzip"})
        assert page.headers["Content-Encoding"] == "gzip"
        seen.append(_tokens(gzip.decompress(page.get_data()).decode()))
    assert all(len(tokens) == 1 for tokens in seen)  # one token per response, in the forms and the meta tag
    signatures = {token.rsplit(".", 1)[1] for tokens in seen for token in tokens}
    assert len(signatures) == 3
    api = client.get("/api/v1/csrf").get_json()["csrf_token"]
    assert api not in {t for tokens in seen for t in tokens}
    url = f"/api/v1/sheets/{sheet.id}/scores/{_first_code(client, sheet)}"
    for tokens in seen + [{api}]:
        [token] = tokens
        response = client.put(url, json={"deductions": [], "version": 0}, headers={"X-CSRFToken": token})
        assert response.status_code != 400, response.get_json()  # past the CSRF check (the sheet may be closed)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.put(url, json={"deductions": [], "version": 0},
                      headers={"X-CSRFToken": forged}).get_json()["code"] == "csrf"
    [language_token] = seen[0]
    assert client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": language_token}).status_code == 302


def _first_code(client, sheet) -> str:
    page = client.get(f"/inspection/sheets/{sheet.id}").get_data(as_text=True)
    return re.search(r'data-code="([^"]+)"', page).group(1)


def test_behind_a_compressing_proxy_the_app_leaves_compression_to_it(databases, tmp_path):
    """EVALAPP_COMPRESS_REGISTER=false (docs/deploy.md): answers go uncompressed; static URLs stay fingerprinted."""
    from tests.conftest import make_app

    app = make_app(databases.clone(databases.template("empty")), COMPRESS_REGISTER=False,
                   UPLOAD_FOLDER=str(tmp_path / "uploads"))
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Encoding": BROWSER})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    [css] = [a for a in ASSET.findall(page.get_data(as_text=True)) if a.startswith("/static/css/app.css")]
    response = client.get(css, headers={"Accept-Encoding": BROWSER})
    assert "Content-Encoding" not in response.headers and response.headers["Cache-Control"] == IMMUTABLE
    with app.app_context():
        db.engine.dispose()
