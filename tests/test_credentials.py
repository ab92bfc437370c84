"""Every credential event ends every credential: API tokens and other web sessions (issue 18, point 1).

A password reset (page or `flask set-password`), the user's own password change (their current session stays),
deactivation and reactivation, and a new role or unit revoke the user's API tokens and end their other sessions.
A user with a temporary password gets no token. Users see and revoke their tokens; an administrator revokes a
user's tokens.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from evalapp.extensions import db
from evalapp.models import ApiToken, AuditEvent, OrgUnit, User
from evalapp.models.base import utcnow
from tests.conftest import DEMO_PASSWORD, AuthActions
from tests.factories import OTHER_VILLAGE, app_of_world, world  # noqa: F401 (fixtures: a round of its own)
from tests.test_performance_guards import counting

NEW_PASSWORD = "Qv7-lantern-Orchid-58"
HOMES = {"village": "/selfassess/", "finance": "/finance/", "inspector": "/inspection/"}


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def token_for(app, username: str, password: str = DEMO_PASSWORD) -> str:
    response = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def api_status(app, token: str, url: str = "/api/v1/rounds") -> int:
    return app.test_client().get(url, headers={"Authorization": f"Bearer {token}"}).status_code


def logged_in(app, username: str):
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def session_alive(client, home: str) -> bool:
    response = client.get(home)
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def village_creds(app):
    """The village user's API token and a logged-in web session, both working."""
    token = token_for(app, "village")
    web = logged_in(app, "village")
    assert api_status(app, token) == 200 and session_alive(web, HOMES["village"])
    return token, web


def _ended(app, token, web, home=HOMES["village"]):
    assert api_status(app, token) == 401
    assert not session_alive(web, home)
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == user("village").id)) is not None


# --- each credential event ends the token and the sessions ---------------------------------------------------------

def test_admin_password_reset_revokes_the_token_and_ends_the_sessions(app, admin, village_creds):
    token, web = village_creds
    response = admin.post(f"/admin/users/{user('village').id}/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    _ended(app, token, web)
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.credentials_end"))
    assert event_.detail == "user.reset_password" and event_.new == {"api_tokens": 1, "sessions": 1}
    assert event_.user_id == user("admin").id


def test_flask_set_password_revokes_the_token_and_ends_the_sessions(app, runner, village_creds):
    token, web = village_creds
    result = runner.invoke(args=["set-password", "village"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "API令牌" in result.output
    _ended(app, token, web)


def test_own_password_change_ends_other_sessions_and_tokens_but_keeps_this_one(app, village_creds):
    token, other = village_creds
    this = logged_in(app, "village")
    response = this.post("/account/password", data={"current": DEMO_PASSWORD, "password": NEW_PASSWORD,
                                                    "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert session_alive(this, HOMES["village"])  # the session the change was made in stays
    _ended(app, token, other)
    assert token_for(app, "village", NEW_PASSWORD)  # a new token with the new password works


def test_deactivation_then_reactivation_leaves_the_old_token_and_sessions_dead(app, admin, village_creds):
    token, web = village_creds
    target = user("village")
    admin.post(f"/admin/users/{target.id}/active", data={"active": "0"})
    assert api_status(app, token) == 401
    admin.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    db.session.refresh(target)
    assert target.active
    _ended(app, token, web)


def test_reactivation_itself_revokes_a_token_left_from_before(app, admin, village_creds):
    """A token that survived a deactivation (made before this fix) does not come back with the account."""
    token, _web = village_creds
    target = user("village")
    target.active = False  # deactivated the old way: nothing revoked
    db.session.commit()
    admin.post(f"/admin/users/{target.id}/active", data={"active": "1"})
    assert api_status(app, token) == 401


def test_role_change_revokes_the_token_so_it_never_carries_the_new_rights(app, admin):
    token = token_for(app, "finance")
    web = logged_in(app, "finance")
    target = user("finance")
    admin.post(f"/admin/users/{target.id}", data={"display_name": "财政", "role": "district", "unit_code": ""})
    db.session.refresh(target)
    assert target.role == "district"
    assert api_status(app, token, "/api/v1/rounds") == 401
    assert not session_alive(web, HOMES["finance"])


def test_unit_change_revokes_the_token_and_ends_the_sessions(app, admin, village_creds):
    token, web = village_creds
    target = user("village")
    other = db.session.scalar(select(OrgUnit).where(OrgUnit.name == OTHER_VILLAGE))
    assert other.id != target.unit_id
    admin.post(f"/admin/users/{target.id}", data={"display_name": target.display_name, "role": "village",
                                                  "unit_code": other.code})
    db.session.refresh(target)
    assert target.unit_id == other.id
    _ended(app, token, web)


def test_a_new_display_name_alone_ends_nothing(app, admin, village_creds):
    token, web = village_creds
    target = user("village")
    admin.post(f"/admin/users/{target.id}", data={"display_name": "新名字", "role": "village",
                                                  "unit_code": target.unit.code})
    assert api_status(app, token) == 200 and session_alive(web, HOMES["village"])


# --- a temporary password is no credential of its own -------------------------------------------------------------

def test_a_user_with_a_temporary_password_gets_no_token_but_a_403_with_the_reason(app, admin):
    response = admin.post("/admin/users", data={"username": "newcomer", "display_name": "新人", "role": "inspector",
                                                "unit_code": "", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert user("newcomer").must_change_password
    response = app.test_client().post("/api/v1/auth/token", json={"username": "newcomer", "password": NEW_PASSWORD})
    assert response.status_code == 403
    body = response.get_json()
    assert "修改密码" in body["error"] and body["fields"]
    assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == user("newcomer").id)) == 0


def test_a_wrong_password_for_a_must_change_user_still_reads_as_a_wrong_password(app, admin):
    """The reason is told only to whoever knows the password: no probing which accounts await a change."""
    admin.post("/admin/users", data={"username": "newcomer", "display_name": "新人", "role": "inspector",
                                     "unit_code": "", "password": NEW_PASSWORD})
    response = app.test_client().post("/api/v1/auth/token", json={"username": "newcomer", "password": "wrong-one"})
    assert response.status_code == 401


def test_a_token_from_before_the_password_was_set_by_an_admin_is_refused(app):
    token = token_for(app, "village")
    target = user("village")
    target.must_change_password = True  # set outside the services, which would have revoked the token too
    db.session.commit()
    assert api_status(app, token) == 403  # refused, with the reason (auth.routes.require_password_change)


# --- last use, written at most once a minute ----------------------------------------------------------------------

def token_updates(statements: list[str]) -> list[str]:
    """The UPDATE statements on api_tokens among these."""
    return [s for s in statements if s.lstrip().upper().startswith("UPDATE") and "api_tokens" in s]


def test_last_use_is_written_once_within_a_minute_however_many_calls(app):
    token = token_for(app, "village")
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user("village").id))
    assert row.last_used_at is None
    with counting() as statements:
        for _ in range(4):
            assert api_status(app, token) == 200
    assert len(token_updates(statements)) == 1
    db.session.refresh(row)
    first = row.last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    # A minute later the next call notes the use again.
    db.session.execute(update(ApiToken).where(ApiToken.id == row.id)
                       .values(last_used_at=first - timedelta(seconds=61)))
    db.session.commit()
    with counting() as statements:
        assert api_status(app, token) == 200
        assert api_status(app, token) == 200
    assert len(token_updates(statements)) == 1
    db.session.refresh(row)
    assert row.last_used_at > first - timedelta(seconds=1)


def test_a_call_within_the_minute_costs_no_more_statements_than_before(app):
    """Authenticating a Bearer call is one SELECT while the last use is fresh."""
    token = token_for(app, "village")
    assert api_status(app, token) == 200  # notes the use
    from evalapp.services.accounts import load_token_user

    with counting() as statements:
        assert load_token_user(token).username == "village"
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


# --- the user sees and revokes their tokens; the admin revokes a user's --------------------------------------------

def test_the_account_page_lists_the_users_live_tokens_only(app, village_creds):
    token, web = village_creds
    token_for(app, "village")
    token_for(app, "inspector")  # someone else's
    expired = token_for(app, "village")
    db.session.execute(update(ApiToken).where(ApiToken.id == db.session.scalar(select(func.max(ApiToken.id))))
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert api_status(app, expired) == 401
    html = web.get("/account").get_data(as_text=True)
    assert html.count("data-token=") == 2
    assert "创建时间" in html and "最近使用" in html and "到期时间" in html and "未使用" in html
    assert 'data-confirm="' in html and "撤销" in html


def test_the_user_revokes_their_own_token(app, village_creds):
    token, web = village_creds
    keep = token_for(app, "village")
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user("village").id).order_by(ApiToken.id))
    response = web.post(f"/account/tokens/{row.id}/revoke", follow_redirects=True)
    assert response.request.path == "/account" and "令牌已撤销" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count("data-token=") == 1
    assert api_status(app, token) == 401
    assert api_status(app, keep) == 200  # only the one chosen
    assert session_alive(web, HOMES["village"])
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")) is not None


def test_a_user_cannot_revoke_someone_elses_token(app, login_as):
    token = token_for(app, "inspector")
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user("inspector").id))
    village = login_as("village")
    assert village.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert api_status(app, token) == 200


@pytest.mark.parametrize("token_id", ["0", str(2**63), "9" * 30])
def test_odd_token_ids_are_a_404(login_as, token_id):
    assert login_as("village").post(f"/account/tokens/{token_id}/revoke").status_code == 404


def test_revoking_needs_a_post(login_as):
    assert login_as("village").get("/account/tokens/1/revoke").status_code == 405


def test_the_admin_revokes_all_tokens_of_a_user_whose_web_session_stays(app, admin, village_creds):
    token, web = village_creds
    second = token_for(app, "village")
    other = token_for(app, "inspector")
    target = user("village")
    row = admin.get("/admin/users").get_data(as_text=True)
    assert "撤销全部令牌" in row and "有效2个" in row
    response = admin.post(f"/admin/users/{target.id}/tokens/revoke")
    assert response.status_code == 302
    assert api_status(app, token) == 401 and api_status(app, second) == 401
    assert api_status(app, other) == 200
    assert session_alive(web, HOMES["village"])
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke_all"))
    assert event_.new == {"api_tokens": 2} and event_.object_id == target.id


@pytest.mark.parametrize("username", ["district", "inspector", "village", "finance"])
def test_only_the_admin_revokes_a_users_tokens(app, login_as, username):
    token = token_for(app, "village")
    response = login_as(username).post(f"/admin/users/{user('village').id}/tokens/revoke")
    assert response.status_code == 403
    assert api_status(app, token) == 200


@pytest.mark.parametrize("user_id", [str(2**63), "9" * 30, "999999"])
def test_revoking_the_tokens_of_no_user_is_a_404(admin, user_id):
    assert admin.post(f"/admin/users/{user_id}/tokens/revoke").status_code == 404
