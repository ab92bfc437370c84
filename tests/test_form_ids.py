"""Ids typed into forms and query strings: ² or ٣ (digits to str.isdigit, not to int) and numbers no column holds
are no id at all — a field message or nothing chosen, never a 500 (issue 18, point 3)."""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.ids import parse_id, parse_ids
from evalapp.models import Round
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

ODD = ["²", "³", "١٢", "9" * 30, "2147483648", "-1", " 1", "1.0", ""]


def test_parse_id_takes_ascii_digits_within_an_integer_column():
    assert parse_id("42") == 42 and parse_id("2147483647") == 2147483647
    assert [parse_id(x) for x in ODD] == [None] * len(ODD)
    assert parse_id(None) is None and parse_ids(["1", "²", "3"]) == {1, 3}


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def round_2022(app):
    return db.session.scalar(select(Round).where(Round.name == "2022年度全面推行评估验收"))


@pytest.mark.parametrize("odd", ODD)
def test_admin_round_forms_with_odd_ids_never_fail(admin, round_2022, odd):
    rid = round_2022.id
    for path, data in (
        (f"/admin/rounds/{rid}/scope", {"unit": [odd, "1"]}),
        (f"/admin/rounds/{rid}/assign", {f"unit_{odd}": "1", "unit_1": odd}),
        (f"/admin/rounds/{rid}/advance", {"confirm": "1", "sheet": [odd]}),
        ("/admin/rounds", {"name": f"新批次{odd}", "rollout": "full", "township_catalogue_id": odd,
                           "village_catalogue_id": odd, "threshold": "95", "tolerance": "1"}),
    ):
        response = admin.post(path, data=data)
        assert response.status_code < 500, (path, odd, response.status_code)


@pytest.mark.parametrize("odd", ODD)
def test_query_ids_with_odd_text_never_fail(login_as, odd):
    assert login_as("inspector").get("/inspection/", query_string={"round": odd}).status_code == 200
