"""The password policy on the pages: a guessable password is refused beside its field with the reason in Chinese;
the demo accounts keep their shared demo password, which no one can choose."""
import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import User
from tests.conftest import DEMO_PASSWORD
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def field_error(html: str, name: str) -> str:
    return html.split(f'data-error="{name}">')[1].split("</div>")[0]


@pytest.mark.parametrize("password", ["Passw0rd!!", "yunxi12345", "abcabcabcabc"])
def test_admin_create_user_refuses_a_guessable_password_beside_the_field(app, login_as, password):
    admin = login_as("admin")
    response = admin.post("/admin/users", data={"username": "zhao6", "display_name": "赵六", "role": "finance",
                                                "password": password})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "容易被猜到" in field_error(html, "password") and 'value="zhao6"' in html
    assert db.session.scalar(select(User).where(User.username == "zhao6")) is None


def test_admin_create_user_accepts_a_hard_to_guess_password(app, login_as):
    response = login_as("admin").post("/admin/users", data={"username": "zhao6", "role": "finance",
                                                            "password": "湘江北去-Qz7#mX"})
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.username == "zhao6")) is not None


def test_changing_ones_own_password_refuses_a_guessable_one(app, login_as):
    village = login_as("village")
    response = village.post("/account/password", data={"current": DEMO_PASSWORD, "password": "yunxi12345",
                                                        "password2": "yunxi12345"})
    assert response.status_code == 422 and "容易被猜到" in response.get_data(as_text=True)


def test_the_demo_password_works_for_the_demo_accounts_and_no_one_can_choose_it(app, client, login_as):
    assert client.post("/login", data={"username": "leader", "password": DEMO_PASSWORD}).status_code == 302
    assert client.get("/account/password").status_code == 200  # logged in
    response = login_as("admin").post("/admin/users", data={"username": "zhao6", "role": "finance",
                                                            "password": DEMO_PASSWORD})
    assert response.status_code == 422 and "过于常见" in response.get_data(as_text=True)


def test_the_users_own_names_and_unit_count_as_guessable_through_the_service(app):
    """services.users passes the display name and the unit (name and code) to the policy."""
    from evalapp.services.errors import Invalid
    from evalapp.services.users import create_user

    with pytest.raises(Invalid) as refused:
        create_user("zhangwei", "张伟", "village", "430603101003", "4306031010031", None)  # the unit code + 1
    assert "password" in refused.value.fields
