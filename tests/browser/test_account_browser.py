"""The account page at tablet size: the user sees their API tokens and revokes one (asked first; 取消 keeps it). On the
factories' people (make_round), not the demo's."""
import os

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import ApiToken, User
from evalapp.services import accounts
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import app_of_world, world  # noqa: F401 (fixtures)


def test_the_user_revokes_a_token_on_the_account_page(app, live_server, page):
    village = db.session.scalar(select(User).where(User.username == "village"))
    used, _ = accounts.issue_api_token(village)
    accounts.issue_api_token(village)
    assert accounts.load_token_user(used) is not None  # notes its last use
    used_id = db.session.scalar(select(ApiToken.id).where(ApiToken.last_used_at.is_not(None)))

    log_in(page, live_server, "village")
    page.goto(f"{live_server}/account")
    tokens = page.locator('[data-testid="api-tokens"]')
    assert tokens.locator("tbody tr").count() == 2
    row = tokens.locator(f'tr[data-token="{used_id}"]')
    assert "未使用" not in row.inner_text() and "未使用" in tokens.inner_text()  # the other one
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "account-tokens.png"), full_page=True)

    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    row.get_by_role("button", name="撤销").click()
    assert asked and "确定撤销这个令牌吗" in asked[0]
    assert tokens.locator("tbody tr").count() == 2  # 取消: nothing sent
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="撤销").click()
    assert "令牌已撤销" in page.locator(".alert-success").inner_text()
    assert page.locator('[data-testid="api-tokens"] tbody tr').count() == 1
    assert page.locator(f'tr[data-token="{used_id}"]').count() == 0
    db.session.expire_all()
    assert accounts.load_token_user(used) is None


def test_the_admin_revokes_a_users_tokens_from_the_user_list(app, live_server, page):
    village = db.session.scalar(select(User).where(User.username == "village"))
    token, _ = accounts.issue_api_token(village)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users?q=village")
    cell = page.locator('tr[data-user="village"] [data-testid="tokens"]')
    assert "有效1个" in cell.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "admin-user-tokens.png"), full_page=True)
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    with page.expect_navigation():
        cell.get_by_role("button", name="撤销全部令牌").click()
    assert "全部1个API令牌" in asked[0] and "网页登录不受影响" in asked[0]
    assert "已撤销 village 的全部API令牌（1个）" in page.locator(".alert-success").inner_text()
    db.session.expire_all()
    assert accounts.load_token_user(token) is None
