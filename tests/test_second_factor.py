"""Two-factor log-in for administrator, district and finance accounts (issue 28, point 9): enrolment with a QR code
and ten recovery codes, the code after the password (half logged in until then), wrong and reused codes refused and
throttled with wrong passwords, a recovery code once, an administrator's reset with a reason, API tokens only with
the code, every step audited; the demo's accounts have it switched off and the log-in page says so.
"""
import re
import time

import pytest
from sqlalchemy import func, select, update

from evalapp.domain import second_factor as rules
from evalapp.extensions import db
from evalapp.models import ApiToken, AuditEvent, RecoveryCode, User, UserSession
from evalapp.services import second_factor
from tests.conftest import DEMO_PASSWORD, AuthActions, make_user
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

SECRET_ATTR = re.compile(r'data-secret="([A-Z2-7]+)"')
CODES = re.compile(r'data-code="([a-z0-9-]+)"')


def now_code(secret: str, offset: int = 0) -> str:
    return rules.code_at(secret, rules.current_step(time.time()) + offset)


def wrong_code(secret: str) -> str:
    """Six digits that are not a code of the window."""
    return next(c for c in ("123456", "654321", "111111") if all(now_code(secret, d) != c for d in (-1, 0, 1)))


def actions(user: User) -> list[tuple[str, str]]:
    return [(a, d) for a, d in db.session.execute(
        select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.object_id == user.id,
                                                           AuditEvent.object_type == "User")
        .order_by(AuditEvent.id))]


def sessions_of(user: User) -> int:
    return db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id,
                                                                      UserSession.ended_at.is_(None)))


@pytest.fixture
def chief(app):
    """An administrator account as a deployment makes it: the second factor asked, not yet enrolled."""
    return make_user("chief", "admin", display_name="区民政局信息科", totp_exempt=False)


def enrolled(user: User) -> tuple[str, list[str]]:
    """Enrol the user through the service (the secret their app would hold); the secret and recovery codes."""
    secret = rules.new_secret()
    codes = second_factor.enrol(user, secret, now_code(secret, -1))  # a step already used: a login's is fresh
    db.session.refresh(user)
    return secret, codes


def password_step(client, username: str = "chief"):
    return AuthActions(client).login(username)


def test_an_admin_without_a_second_factor_is_led_to_enrol_before_anything_else(app, client, chief):
    response = password_step(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login/enrol"
    # Half logged in: no session of the user's, no page.
    assert sessions_of(chief) == 0
    assert client.get("/admin/").headers["Location"].startswith("/login")
    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "设置二次验证" in html and 'src="data:image/svg+xml' in html
    secret = SECRET_ATTR.search(html).group(1)
    assert client.get("/login/enrol").get_data(as_text=True).count(secret) >= 1  # the same secret on a reload

    wrong = client.post("/login/enrol", data={"code": wrong_code(secret)})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.get_data(as_text=True)
    db.session.refresh(chief)
    assert chief.totp_secret is None and sessions_of(chief) == 0

    done = client.post("/login/enrol", data={"code": now_code(secret)})
    html = done.get_data(as_text=True)
    codes = CODES.findall(html)
    assert done.status_code == 200 and len(codes) == 10 and "只显示这一次" in html
    db.session.refresh(chief)
    assert chief.totp_secret == secret and chief.totp_enrolled_at is not None and sessions_of(chief) == 1
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == chief.id)).all()
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)  # kept hashed
    assert client.get("/admin/").status_code == 200  # logged in now
    assert [a for a, _ in actions(chief)][-3:] == ["login.password_ok", "totp.failure", "totp.enrol"]


def test_log_in_asks_for_the_code_after_the_password(app, client, chief):
    secret, _ = enrolled(chief)
    response = password_step(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert sessions_of(chief) == 0 and client.get("/admin/").status_code == 302
    assert "6位动态验证码" in client.get("/login/code").get_data(as_text=True)
    ok = client.post("/login/code", data={"code": now_code(secret)})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert client.get("/admin/").status_code == 200 and sessions_of(chief) == 1
    assert [a for a, _ in actions(chief)][-2:] == ["login.password_ok", "totp.success"]


def test_the_next_page_asked_for_survives_the_second_step(app, client, chief):
    secret, _ = enrolled(chief)
    assert client.post("/login?next=/admin/users", data={"username": "chief", "password": DEMO_PASSWORD}
                       ).headers["Location"] == "/login/code"
    assert client.post("/login/code", data={"code": now_code(secret)}).headers["Location"] == "/admin/users"


def test_a_wrong_code_is_refused_and_audited(app, client, chief):
    secret, _ = enrolled(chief)
    password_step(client)
    wrong = wrong_code(secret)
    response = client.post("/login/code", data={"code": wrong})
    assert response.status_code == 401 and "验证码不正确或已使用" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302 and sessions_of(chief) == 0
    assert actions(chief)[-1] == ("totp.failure", "wrong")
    # The half log-in stays: the right code still gets in.
    assert client.post("/login/code", data={"code": now_code(secret)}).status_code == 302


def test_wrong_codes_count_with_wrong_passwords(app, client, chief):
    """Five failures per account in 15 minutes (LOGIN_LIMIT_PER_ACCOUNT): wrong passwords and wrong codes alike."""
    secret, _ = enrolled(chief)
    for _ in range(3):
        assert AuthActions(client).login("chief", "wrong-password").status_code == 401
    password_step(client)
    wrong = wrong_code(secret)
    assert client.post("/login/code", data={"code": wrong}).status_code == 401
    assert client.post("/login/code", data={"code": wrong}).status_code == 401
    refused = client.post("/login/code", data={"code": now_code(secret)})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert sessions_of(chief) == 0


def test_a_code_cannot_be_used_twice(app, client, chief):
    secret, _ = enrolled(chief)
    code = now_code(secret)
    password_step(client)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    other = app.test_client()
    password_step(other)
    again = other.post("/login/code", data={"code": code})
    assert again.status_code == 401 and sessions_of(chief) == 1
    assert actions(chief)[-1] == ("totp.failure", "reused")


def test_the_service_accepts_a_code_once_and_no_older_one_after_it(app, chief):
    secret, _ = enrolled(chief)  # the step before this one used
    here = rules.current_step(time.time())
    with pytest.raises(second_factor.WrongCode):
        second_factor.verify(chief, rules.code_at(secret, here - 1))
    assert second_factor.verify(chief, rules.code_at(secret, here + 1)) == "totp"
    with pytest.raises(second_factor.WrongCode):
        second_factor.verify(chief, rules.code_at(secret, here))  # older than the last accepted
    db.session.refresh(chief)
    assert chief.totp_last_step == here + 1


def test_a_recovery_code_logs_in_once(app, client, chief):
    _, codes = enrolled(chief)
    password_step(client)
    response = client.post("/login/code", data={"code": rules.display_recovery(codes[3]).upper()})
    assert response.status_code == 302
    assert "还剩9个" in client.get("/admin/").get_data(as_text=True)
    assert actions(chief)[-1][0] == "totp.recovery_used"
    AuthActions(client).logout()
    password_step(client)
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 401 and actions(chief)[-1] == ("totp.failure", "recovery_wrong")
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == chief.id, RecoveryCode.used_at.is_(None))) == 9


def test_the_half_log_in_expires(app, client, chief):
    secret, _ = enrolled(chief)
    password_step(client)
    app.config["TWO_FACTOR_PENDING_SECONDS"] = -1
    response = client.post("/login/code", data={"code": now_code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sessions_of(chief) == 0


def test_a_password_reset_meanwhile_ends_the_half_log_in(app, client, chief):
    secret, _ = enrolled(chief)
    password_step(client)
    db.session.execute(update(User).where(User.id == chief.id).values(password_hash=chief.password_hash + "x"))
    db.session.commit()
    assert client.post("/login/code", data={"code": now_code(secret)}).headers["Location"] == "/login"


def test_an_administrator_resets_another_users_second_factor_with_a_reason(app, login_as, chief):
    _, codes = enrolled(chief)
    chief_web = app.test_client()
    admin = login_as("admin")
    refused = admin.post(f"/admin/users/{chief.id}/second-factor/reset", data={"reason": "  "})
    assert refused.status_code == 422 and "请填写重置原因" in refused.get_data(as_text=True)
    db.session.refresh(chief)
    assert chief.totp_secret is not None

    secret = chief.totp_secret
    password_step(chief_web)
    chief_web.post("/login/code", data={"code": now_code(secret)})
    assert sessions_of(chief) == 1
    done = admin.post(f"/admin/users/{chief.id}/second-factor/reset", data={"reason": "手机丢失（本人来电）"})
    assert done.status_code == 302
    db.session.refresh(chief)
    assert chief.totp_secret is None and chief.totp_last_step is None and sessions_of(chief) == 0
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == chief.id)) == 0
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "totp.reset"))
    assert row.detail == "手机丢失（本人来电）" and row.object_id == chief.id and row.old["enrolled"] is True
    assert row.user_id == db.session.scalar(select(User.id).where(User.username == "admin"))
    # The next log-in enrols again.
    assert password_step(app.test_client()).headers["Location"] == "/login/enrol"


def test_an_administrator_cannot_reset_their_own_second_factor(app, chief):
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    with pytest.raises(second_factor.NotAllowed):
        second_factor.reset(admin, "自己重置", admin)


def test_a_reset_switches_the_factor_on_for_a_demo_account(app, login_as):
    finance = db.session.scalar(select(User).where(User.username == "finance"))
    assert finance.totp_exempt and AuthActions(app.test_client()).login("finance").headers["Location"] == "/"
    assert login_as("admin").post(f"/admin/users/{finance.id}/second-factor/reset",
                                  data={"reason": "正式启用"}).status_code == 302
    assert AuthActions(app.test_client()).login("finance").headers["Location"] == "/login/enrol"


def test_the_demo_log_in_page_says_the_second_factor_is_off(app, client):
    html = client.get("/login").get_data(as_text=True)
    assert 'data-testid="second-factor-off"' in html and "二次验证" in html


def test_a_deployment_log_in_page_says_nothing_of_it(empty_app):
    make_user("chief", "admin", totp_exempt=False)
    html = empty_app.test_client().get("/login").get_data(as_text=True)
    assert 'data-testid="second-factor-off"' not in html


def test_a_session_from_before_the_factor_was_asked_is_led_to_enrol(app, client, chief):
    db.session.execute(update(User).where(User.id == chief.id).values(totp_exempt=True))
    db.session.commit()
    assert password_step(client).status_code == 302 and sessions_of(chief) == 1  # the password alone, then
    db.session.execute(update(User).where(User.id == chief.id).values(totp_exempt=False))
    db.session.commit()
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/login/enrol"
    assert sessions_of(chief) == 0
    assert client.get("/login/enrol").status_code == 200


def test_a_token_from_before_the_factor_was_asked_is_refused(app, chief):
    db.session.execute(update(User).where(User.id == chief.id).values(totp_exempt=True))
    db.session.commit()
    token = app.test_client().post("/api/v1/auth/token", json={"username": "chief", "password": DEMO_PASSWORD}
                                   ).get_json()["token"]
    db.session.execute(update(User).where(User.id == chief.id).values(totp_exempt=False))
    db.session.commit()
    response = app.test_client().get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.get_json()["code"] == "auth.second_factor_first"


class TestApiToken:
    def post(self, app, **body):
        return app.test_client().post("/api/v1/auth/token", json={"username": "chief", "password": DEMO_PASSWORD,
                                                                  **body})

    def test_an_account_not_enrolled_gets_no_token(self, app, chief):
        response = self.post(app, code="123456")
        assert response.status_code == 403 and response.get_json()["code"] == "token.second_factor_enrol_first"
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0

    def test_the_token_request_carries_the_code(self, app, chief):
        secret, _ = enrolled(chief)
        missing = self.post(app)
        assert missing.status_code == 401 and missing.get_json()["code"] == "token.second_factor_required"
        assert "code" in missing.get_json()["fields"]
        wrong = self.post(app, code=wrong_code(secret))
        assert wrong.status_code == 401 and wrong.get_json()["code"] == "second_factor.wrong_code"
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        code = now_code(secret)
        ok = self.post(app, code=code)
        assert ok.status_code == 200 and ok.get_json()["token"]
        assert self.post(app, code=code).status_code == 401  # not twice
        assert actions(chief)[-1] == ("totp.failure", "reused")
        assert ("totp.success", "") in actions(chief) and ("api_token.issue", "") in actions(chief)

    def test_a_demo_account_gets_its_token_with_the_password(self, app):
        response = app.test_client().post("/api/v1/auth/token", json={"username": "finance",
                                                                      "password": DEMO_PASSWORD})
        assert response.status_code == 200

    def test_an_inspector_never_gives_a_code(self, app):
        make_user("insp9", "inspector", totp_exempt=False)
        response = app.test_client().post("/api/v1/auth/token", json={"username": "insp9",
                                                                      "password": DEMO_PASSWORD})
        assert response.status_code == 200


def _race(app, monkeypatch, user_id: int, code: str, hook: tuple) -> list[str]:
    """Two log-ins send the same code at once, each on its own connection, and both have checked it (`hook`: the
    function each calls just before writing, made to wait for the other) before either writes. What each got:
    "totp", "recovery" or "refused"."""
    import threading

    barrier = threading.Barrier(2, timeout=10)
    module, name = hook
    real = getattr(module, name)

    def then_wait(*args, **kwargs):
        result = real(*args, **kwargs)
        barrier.wait()
        return result

    monkeypatch.setattr(module, name, then_wait)
    outcomes = []

    def attempt():
        with app.app_context():
            try:
                outcomes.append(second_factor.verify(db.session.get(User, user_id), code))
            except second_factor.WrongCode:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_two_log_ins_racing_with_one_code_let_one_in(app, chief, monkeypatch):
    secret, _ = enrolled(chief)
    outcomes = _race(app, monkeypatch, chief.id, now_code(secret), (rules, "matching_step"))
    assert outcomes == ["refused", "totp"]
    events = [a for a, _ in actions(chief)]
    assert events.count("totp.success") == 1 and events[-2:].count("totp.failure") == 1


def test_two_log_ins_racing_with_one_recovery_code_let_one_in(app, chief, monkeypatch):
    _, codes = enrolled(chief)
    outcomes = _race(app, monkeypatch, chief.id, codes[0], (second_factor, "_key"))  # (the hash, then the write)
    assert outcomes == ["recovery", "refused"]
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == chief.id, RecoveryCode.used_at.is_not(None))) == 1


def test_wrong_codes_to_the_token_endpoint_are_throttled_like_passwords(app, chief):
    secret, _ = enrolled(chief)
    client = app.test_client()
    wrong = wrong_code(secret)
    for _ in range(5):
        response = client.post("/api/v1/auth/token", json={"username": "chief", "password": DEMO_PASSWORD,
                                                           "code": wrong})
        assert response.status_code == 401
    refused = client.post("/api/v1/auth/token", json={"username": "chief", "password": DEMO_PASSWORD,
                                                      "code": now_code(secret, 1)})
    assert refused.status_code == 429 and refused.get_json()["code"] == "auth.throttled"


def test_the_command_line_resets_a_locked_out_administrator(app, runner, chief):
    enrolled(chief)
    refused = runner.invoke(args=["reset-second-factor", "chief", "--reason", " "])
    assert refused.exit_code != 0 and "请填写重置原因" in refused.output
    done = runner.invoke(args=["reset-second-factor", "chief", "--reason", "唯一的管理员手机丢失"])
    assert done.exit_code == 0, done.output
    db.session.refresh(chief)
    assert chief.totp_secret is None
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "totp.reset"))
    assert row.user_id is None and row.detail == "唯一的管理员手机丢失"
