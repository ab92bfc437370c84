"""NUL and other control characters are refused in unit and display names with a message beside the field, page
and service alike; a name with one never reaches the results page or the units export (issue 18, point 3)."""
import pytest
from sqlalchemy import select

from evalapp.domain.text import text_problem
from evalapp.extensions import db
from evalapp.models import OrgUnit, User
from tests import factories
from tests.factories import VILLAGE


@pytest.mark.parametrize("text, multiline, ok", [
    ("荷塘村", False, True), ("全角　空格 😀", False, True), ("a\x00b", False, False), ("a\x00b", True, False),
    ("a\tb", False, False), ("第一行\n第二行\t完", True, True), ("a\x1bb", True, False), ("\ud800", True, False),
])
def test_text_problem(text, multiline, ok):
    assert (text_problem(text, multiline=multiline) is None) == ok


@pytest.fixture
def app(empty_app):
    """A district of the test's own (tests/factories.py): 清溪镇 and 荷塘村, the admin and 荷塘村's clerk."""
    made = factories.units({factories.TOWNSHIP: [VILLAGE]})
    factories.user("admin", "admin")
    factories.user("village", "village", made[VILLAGE], display_name="荷塘村协理员")
    return empty_app


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.mark.parametrize("name", ["荷塘\x00村", "荷塘\x07村", "荷塘\t村"])
def test_a_unit_name_with_a_control_character_is_refused(admin, name):
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == VILLAGE))
    response = admin.post(f"/admin/units/{unit.id}/edit", data={"name": name, "kind": "村",
                                                                 "parent_code": unit.parent.code})
    assert response.status_code == 422 and "控制字符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, unit.id).name == VILLAGE
    created = admin.post("/admin/units", data={"code": "430699001099", "name": name, "kind": "村",
                                               "parent_code": unit.parent.code})
    assert created.status_code == 422
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "430699001099")) is None


def test_a_display_name_with_a_nul_is_refused(admin):
    target = db.session.scalar(select(User).where(User.username == "village"))
    response = admin.post(f"/admin/users/{target.id}", data={"display_name": "协理\x00员", "role": "village",
                                                             "unit_code": target.unit.code})
    assert response.status_code == 422 and "控制字符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, target.id).display_name == "荷塘村协理员"
    created = admin.post("/admin/users", data={"username": "nul_user", "display_name": "a\x00b", "role": "finance",
                                               "unit_code": "", "password": "Gk7#qWz!pL2m"})
    assert created.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "nul_user")) is None
