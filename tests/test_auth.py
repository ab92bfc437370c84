"""Log-in, log-out, server-side sessions and the role home pages."""
import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import AuditEvent, User, UserSession
from evalapp.services.moves import move_sheet
from evalapp.services.seed import fill_sheet
from tests.conftest import ROLE_USERS
from tests.factories import (  # noqa: F401 (fixture)
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, another_round, app_of_world, make_round, make_sheet, worlds,
)

SUBMITTED = "柳湾社区"  # 清溪镇's other village, its self-assessment in SELF_ROUND submitted
SELF_ROUND = "2032年度全面推行测试评估验收"


@pytest.fixture
def world(empty_app):
    """Two rounds of the test's own: one in inspection (the first team has 清溪镇, 荷塘村 and 柳湾社区; 石桥社区 is the
    other team's), and a full roll-out in self-assessment where only 柳湾社区 has submitted (built once per worker:
    factories.Worlds)."""
    return worlds.built(("test_auth.world",), _two_rounds)


def _two_rounds():
    made = make_round("inspection", townships={TOWNSHIP: [VILLAGE, SUBMITTED], OTHER_TOWNSHIP: [OTHER_VILLAGE]},
                      self_assessed=True)
    sheet = make_sheet(another_round(made, "self_assessment", SELF_ROUND, rollout="full"), SUBMITTED, "self")
    fill_sheet(sheet, made.people["admin"], "submitted")
    move_sheet(sheet, "submitted", made.people["admin"], "测试数据：自评已提交")
    return made

HOMES = {
    "admin": "/admin/",
    "district": "/results/",
    "leader": "/inspection/",
    "inspector": "/inspection/",
    "township": "/selfassess/township",
    "village": "/selfassess/",
    "finance": "/finance/",
}
FAILED = "用户名或密码不正确"


def test_login_page_is_chinese_and_has_a_csrf_field(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "评估验收系统" in html and "用户名" in html and "密码" in html
    assert 'lang="zh-CN"' in html


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("username", ROLE_USERS)
def test_each_demo_user_lands_on_the_page_of_their_role(client, auth, username):
    response = auth.login(username)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == HOMES[username]
    page = client.get(HOMES[username])
    assert page.status_code == 200


def test_inspector_home_lists_the_team_units_by_township(world, login_as):
    html = login_as("inspector").get("/inspection/").get_data(as_text=True)
    assert world.round.name in html and "第一工作组" in html
    assert html.index(TOWNSHIP) < html.index(VILLAGE) and SUBMITTED in html
    assert OTHER_VILLAGE not in html  # the other team's unit


def test_leader_also_sees_the_final_sheets(login_as):
    html = login_as("leader").get("/inspection/").get_data(as_text=True)
    assert "工作组评分表" in html and "组长" in html


def test_village_home_shows_its_own_sheets_only(login_as):
    html = login_as("village").get("/selfassess/").get_data(as_text=True)
    assert VILLAGE in html and SELF_ROUND in html and "未开始" in html
    assert SUBMITTED not in html


def test_township_home_lists_its_villages(login_as):
    html = login_as("township").get("/selfassess/township").get_data(as_text=True)
    assert SUBMITTED in html and "已提交" in html
    assert OTHER_VILLAGE not in html


@pytest.mark.parametrize("form", [
    {"username": "village", "password": "wrong-password"},
    {"username": "nobody-here", "password": "demo-pass-2021"},
    {"username": "", "password": ""},
    {},
])
def test_failed_login_gets_one_message_and_one_status(client, form):
    response = client.post("/login", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert html.count(FAILED) == 1
    assert client.get("/").status_code == 302  # still anonymous


def test_failed_login_keeps_the_typed_username(client):
    html = client.post("/login", data={"username": "village", "password": "x"}).get_data(as_text=True)
    assert 'value="village"' in html


def test_inactive_user_cannot_log_in_and_gets_the_same_message(app, client, auth):
    user = db.session.scalar(select(User).where(User.username == "village"))
    user.active = False
    db.session.commit()
    response = auth.login("village")
    assert response.status_code == 401 and FAILED in response.get_data(as_text=True)


def test_login_and_failure_are_audited(app, auth):
    auth.login("village", "bad")
    auth.login("village")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert actions == ["login.success", "login.failure"]


def test_passwords_are_stored_as_argon2id_hashes(app):
    user = db.session.scalar(select(User).where(User.username == "admin"))
    assert user.password_hash.startswith("$argon2id$")
    assert "demo-pass-2021" not in user.password_hash


def test_logout_ends_the_session_on_the_server_so_an_old_cookie_is_refused(app, client, auth):
    auth.login("village")
    cookie = client.get_cookie("session")
    assert client.get("/selfassess/").status_code == 200
    auth.logout()
    assert db.session.scalar(select(func.count()).select_from(UserSession)
                             .where(UserSession.ended_at.is_(None))) == 0
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    response = replay.get("/selfassess/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivation_ends_a_live_session(app, client, auth):
    auth.login("village")
    assert client.get("/selfassess/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "village"))
    user.active = False
    db.session.commit()
    assert client.get("/selfassess/").status_code == 302


def test_logout_needs_post(client, auth):
    auth.login("village")
    assert client.get("/logout").status_code == 405
    assert client.get("/selfassess/").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil"])
def test_next_never_leaves_the_site(client, target):
    response = client.post("/login?next=" + target, data={"username": "village", "password": "demo-pass-2021"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_within_the_site_is_followed(client):
    response = client.post("/login?next=/selfassess/", data={"username": "village", "password": "demo-pass-2021"})
    assert response.headers["Location"] == "/selfassess/"


@pytest.mark.parametrize("username, forbidden", [
    ("village", "/admin/"), ("village", "/inspection/"), ("township", "/finance/"), ("inspector", "/results/"),
    ("finance", "/admin/"), ("district", "/selfassess/"),
])
def test_a_role_cannot_open_another_roles_home(login_as, username, forbidden):
    response = login_as(username).get(forbidden)
    assert response.status_code == 403
    assert "您没有权限访问此页面" in response.get_data(as_text=True)


def test_unknown_page_is_a_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_language_switch_to_english_and_back(client):
    client.post("/lang", data={"lang": "en", "next": "/login"})
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    client.post("/lang", data={"lang": "zh_Hans_CN"})
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)
