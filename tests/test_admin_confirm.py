"""Small admin fixes: 停用 asks first, a new user has no role until the admin picks one, and a team leader is shown
as 工作组组长 (header and user list). The confirmation itself is clicked in tests/browser/test_queues_browser.py."""
import re

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, Team, TeamMember, User
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def _whoami(html: str) -> str:
    return html.split('data-testid="whoami"')[1].split("</a>")[0]


def test_a_team_leader_is_shown_as_leader_and_a_member_as_member(login_as):
    assert "（工作组组长）" in _whoami(login_as("leader").get("/inspection/").get_data(as_text=True))
    assert "（工作组成员）" in _whoami(login_as("inspector").get("/inspection/").get_data(as_text=True))
    assert "（系统管理员）" in _whoami(login_as("admin").get("/admin/").get_data(as_text=True))


def test_leadership_is_that_of_the_newest_round(app, login_as):
    """Leader of 2021's team, a plain member in a newer round's team: shown as a member."""
    newer = db.session.scalar(select(Round).where(Round.name == "2022年度全面推行评估验收"))
    leader, other = (db.session.scalar(select(User).where(User.username == u)) for u in ("leader", "inspector"))
    team = Team(round_id=newer.id, name="第三工作组", leader_id=other.id)
    db.session.add(team)
    db.session.flush()
    db.session.add_all([TeamMember(round_id=newer.id, team_id=team.id, user_id=u.id) for u in (leader, other)])
    db.session.commit()
    assert "（工作组成员）" in _whoami(login_as("leader").get("/inspection/").get_data(as_text=True))
    assert "（工作组组长）" in _whoami(login_as("inspector").get("/inspection/").get_data(as_text=True))


def test_the_user_list_marks_team_leaders(login_as):
    html = login_as("admin").get("/admin/users?role=inspector").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-user="([^"]+)">(.*?)</tr>', html, re.S)}
    assert 'data-testid="leader-badge"' in rows["leader"] and 'data-testid="leader-badge"' in rows["leader2"]
    assert 'data-testid="leader-badge"' not in rows["inspector"]


def _create_form(html: str) -> str:
    return html.split('data-testid="create-user"')[1].split("</form>")[0]


def test_a_new_user_has_no_role_until_the_admin_picks_one(login_as):
    admin = login_as("admin")
    form = _create_form(admin.get("/admin/users").get_data(as_text=True))
    role = form.split('name="role"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)" selected', role) == [""]  # 请选择角色, nothing else chosen
    assert "required" in form.split('name="role"')[1].split(">")[0]
    refused = admin.post("/admin/users", data={"username": "zhao6", "display_name": "赵六", "role": "",
                                               "password": "Initial-pass-2026"})
    assert refused.status_code == 422
    form = _create_form(refused.get_data(as_text=True))
    assert '<div class="invalid-feedback" data-error="role">请选择角色</div>' in form  # beside the field
    assert 'value="zhao6"' in form  # what was typed stays
    assert db.session.scalar(select(User).where(User.username == "zhao6")) is None
    for bad in ("superuser", "x" * 300):
        assert admin.post("/admin/users", data={"username": "zhao6", "role": bad,
                                                "password": "Initial-pass-2026"}).status_code == 422
    ok = admin.post("/admin/users", data={"username": "zhao6", "role": "finance", "password": "Initial-pass-2026"})
    assert ok.status_code == 302
    assert db.session.scalar(select(User.role).where(User.username == "zhao6")) == "finance"


def test_deactivate_buttons_ask_first_and_the_script_is_served(empty_app):
    from tests import factories
    from tests.conftest import AuthActions

    made = factories.units({factories.TOWNSHIP: [factories.VILLAGE]}, code="430699")
    factories.user("admin", "admin")
    factories.user("clerk", "village", made[factories.VILLAGE], display_name="荷塘村协理员")
    admin = empty_app.test_client()
    assert AuthActions(admin).login("admin", factories.PASSWORD).status_code == 302
    users = admin.get("/admin/users").get_data(as_text=True)
    clerk = users.split('data-user="clerk"')[1].split("</tr>")[0]
    assert 'data-confirm="确定停用用户“荷塘村协理员”（clerk）吗？' in clerk
    assert '/static/js/confirm.js' in users
    units = admin.get("/admin/units").get_data(as_text=True)
    row = units.split('data-unit="430699001"')[1].split("</tr>")[0]
    assert 'data-confirm="确定停用“清溪镇”（430699001）吗？' in row and '/static/js/confirm.js' in units
    script = admin.get("/static/js/confirm.js")
    assert script.status_code == 200 and b"window.confirm" in script.data
    script.close()


def test_a_name_in_the_confirmation_is_escaped(app, login_as):
    from tests.conftest import make_user

    make_user("quote1", "finance", display_name='财务"><script>x</script>')
    html = login_as("admin").get("/admin/users").get_data(as_text=True)
    row = html.split('data-user="quote1"')[1].split("</tr>")[0]
    assert "<script>x" not in row
    assert 'data-confirm="确定停用用户“财务&#34;&gt;&lt;script&gt;x&lt;/script&gt;”（quote1）吗？' in row


def test_the_header_name_leads_to_the_account_page(login_as):
    html = login_as("inspector").get("/inspection/").get_data(as_text=True)
    assert 'href="/account" data-testid="whoami"' in html
