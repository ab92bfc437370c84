"""The second review of issue 18's change (each found by a probe): the name counted by the throttle is the name
authenticated; a token request not declared JSON is counted under its account; a catalogue import with OOXML
escapes for NUL or surrogate halves never 500s; the log-in form with a JSON body never 500s; a stale 启用 ends
nothing; a password that cannot be hashed is refused."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from evalapp.domain.passwords import password_problems
from evalapp.extensions import db
from evalapp.models import ApiToken, User
from evalapp.services.xlsx import read_text
from tests.conftest import DEMO_PASSWORD
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def test_padded_long_names_do_not_escape_the_account_limit(client):
    for i in range(6):
        name = " " * 10 + "village" + " " * 47 + f"{i:010d}"
        response = client.post("/api/v1/auth/token", json={"username": name, "password": "wrong"})
        assert response.status_code == 401
    for i in range(5):
        client.post("/api/v1/auth/token", json={"username": "village", "password": "wrong"})
    refused = client.post("/api/v1/auth/token", json={"username": "village", "password": DEMO_PASSWORD})
    assert refused.status_code == 429  # the padded names were never the account's: they got no token either


def test_a_name_over_64_characters_is_never_authenticated(client):
    name = "village" + " " * 0 + "x" * 60
    assert client.post("/api/v1/auth/token", json={"username": name, "password": DEMO_PASSWORD}).status_code == 401


def test_a_token_request_sent_as_text_checks_no_password(client):
    """A body that is not JSON is refused as such (415) before any password is compared, so it neither guesses
    nor counts as a failed log-in (it once was read as JSON anyway and slipped past the count)."""
    for _ in range(6):
        refused = client.post("/api/v1/auth/token", data='{"username": "village", "password": "wrong"}',
                              content_type="text/plain")
        assert refused.status_code == 415 and "token" not in (refused.get_json() or {})
    response = client.post("/api/v1/auth/token", json={"username": "village", "password": DEMO_PASSWORD})
    assert response.status_code != 429


@pytest.mark.parametrize("body", [{"username": 5, "password": "x"}, {"username": {"a": 1}, "password": "x"},
                                  {"username": "village", "password": 5}, {"username": "v", "password": {"a": 1}}])
def test_the_login_form_with_a_json_body_is_a_failed_log_in(client, body):
    assert client.post("/login", json=body).status_code == 401


def test_ooxml_escapes_for_what_no_column_stores_stay_literal():
    assert read_text("a_x000D_b_x0009_c") == "a\rb\tc"
    assert read_text("x_x0000_y_xD800_z") == "x_x0000_y_xD800_z"


def test_a_catalogue_import_with_escaped_nul_or_surrogates_never_fails(login_as):
    admin = login_as("admin")
    template = admin.get("/admin/catalogues/template.xlsx")
    wb = load_workbook(io.BytesIO(template.data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and len(cell.value) > 3 and not cell.value.isascii():
                    cell.value = cell.value + "_xD800__x0000_"
    out = io.BytesIO()
    wb.save(out)
    response = admin.post("/admin/catalogues/import", data={"file": (io.BytesIO(out.getvalue()), "c.xlsx")},
                          content_type="multipart/form-data")
    assert response.status_code < 500


def test_a_second_activation_ends_nothing(app, login_as):
    village = login_as("village")
    token = village.post("/api/v1/auth/token", json={"username": "village", "password": DEMO_PASSWORD})
    assert token.status_code == 200
    admin = login_as("admin")
    target = db.session.scalar(select(User).where(User.username == "village"))
    again = admin.post(f"/admin/users/{target.id}/active", data={"active": "1"}, follow_redirects=True)
    assert "本已启用" in again.get_data(as_text=True)  # already active: a stale page
    live = db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == target.id,
                                                                  ApiToken.revoked_at.is_(None)))
    assert live == 1 and village.get("/selfassess/").status_code == 200


def test_a_password_with_a_surrogate_half_is_refused():
    assert password_problems("Gk7#qWz!pL2m\ud800x", "someone")
