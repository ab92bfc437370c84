"""Two-factor log-in walked in Chromium at tablet size (issue 28, point 9): an administrator account enrols (QR
code drawn by the server, the key, ten recovery codes shown once), logs in with a code after the password, is
refused a wrong code, and gets in with a recovery code, once. The same pages in English hold no Chinese."""
import os

import pytest
from sqlalchemy import select

from evalapp.domain import second_factor as rules
from evalapp.extensions import db
from evalapp.models import User
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.conftest import make_user
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def shot(page, name: str) -> None:
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"second-factor-{name}.png"), full_page=True)


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= 768


T0 = 1_796_000_000.0  # a fixed moment (2026-11-30): the codes below never race the wall clock's 30 s steps


@pytest.fixture
def clock(monkeypatch):
    """The live server's clock for codes (services.second_factor._now; it runs in this process), moved by hand."""
    from evalapp.services import second_factor

    now = [T0]
    monkeypatch.setattr(second_factor, "_now", lambda: now[0])
    return now


def submit_code(page, code: str) -> None:
    page.fill("#code", code)
    with page.expect_navigation():
        page.click("button[type=submit]")


def log_out(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()


def test_enrol_log_in_a_wrong_code_and_a_recovery_code(app, live_server, page, clock):
    page.console.allowed_statuses.add(401)  # a refused code answers 401 with the page again
    chief = make_user("chief", "admin", display_name="区民政局信息科", totp_exempt=False)

    # The password, then the enrolment before anything else.
    log_in(page, live_server, "chief")
    assert page.url.endswith("/login/enrol")
    assert "设置二次验证" in page.locator("h1").inner_text()
    qr = page.locator('[data-testid="qr"]')
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")  # the SVG drawn by the server, decoded
    secret = page.locator('[data-testid="secret"]').get_attribute("data-secret")
    assert page.locator('[data-testid="secret"]').inner_text().replace(" ", "") == secret
    assert fits(page)
    shot(page, "enrol")
    page.goto(f"{live_server}/admin/")  # nothing else is open to a half log-in
    assert "/login" in page.url and "/admin/" not in page.url.split("?")[0]
    page.goto(f"{live_server}/login/enrol")

    here = rules.current_step(clock[0])
    submit_code(page, rules.code_at(secret, here - 1))  # the app's previous code, still in the window
    codes = page.locator('[data-testid="recovery-codes"] [data-code]').all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "只显示这一次" in page.locator(".alert-warning").inner_text()
    assert fits(page)
    shot(page, "recovery-codes")
    with page.expect_navigation():
        page.get_by_role("link", name="我已保存恢复码，继续").click()
    assert page.url.endswith("/admin/")
    log_out(page)

    # The password, then the code: in.
    log_in(page, live_server, "chief")
    assert page.url.endswith("/login/code")
    assert fits(page)
    shot(page, "code")
    clock[0] += 30  # the next step: a code not used before
    submit_code(page, rules.code_at(secret, rules.current_step(clock[0])))
    assert page.url.endswith("/admin/")
    log_out(page)

    # A wrong code: the page again, saying so, and still not in.
    log_in(page, live_server, "chief")
    wrong = "000000"
    while any(rules.code_at(secret, rules.current_step(clock[0]) + d) == wrong for d in (-1, 0, 1)):
        wrong = f"{int(wrong) + 1:06d}"
    submit_code(page, wrong)
    assert page.url.endswith("/login/code")
    assert "验证码不正确或已使用" in page.locator(".alert-danger").inner_text()
    assert page.input_value("#code") == ""  # the refused code is not typed back
    shot(page, "wrong-code")

    # A recovery code, as printed: in, told how many are left; the same one again is refused.
    submit_code(page, codes[0].upper())
    assert page.url.endswith("/admin/")
    assert "还剩9个" in page.locator(".alert-warning").inner_text()
    log_out(page)
    log_in(page, live_server, "chief")
    submit_code(page, codes[0])
    assert page.url.endswith("/login/code") and page.locator(".alert-danger").count() == 1
    db.session.expire_all()
    assert db.session.scalar(select(User.totp_secret).where(User.id == chief.id)) == secret


def test_the_second_factor_pages_in_english_hold_no_chinese(app, live_server, page, clock):
    make_user("chief", "admin", display_name="chief", totp_exempt=False)
    page.goto(f"{live_server}/login")
    assert page.locator('[data-testid="second-factor-off"]').count() == 1  # the demo's accounts: said so
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("domcontentloaded")
    page.fill("#username", "chief")
    page.fill("#password", "demo-pass-2021")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/login/enrol") and page.locator("html").get_attribute("lang") == "en"
    data = data_strings()
    assert untranslated(page.evaluate(COLLECT), data) == [], untranslated(page.evaluate(COLLECT), data)
    secret = page.locator('[data-testid="secret"]').get_attribute("data-secret")
    submit_code(page, rules.code_at(secret, rules.current_step(clock[0]) - 1))
    assert untranslated(page.evaluate(COLLECT), data) == [], untranslated(page.evaluate(COLLECT), data)
    shot(page, "recovery-codes-en")
    # In English the menu bar folds at 768 px (its words are longer): log-out is inside the menu, as a user finds it.
    page.locator(".navbar-toggler").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="English").click()  # (log-out clears the session, its language too)
    page.wait_for_load_state("domcontentloaded")
    page.fill("#username", "chief")
    page.fill("#password", "demo-pass-2021")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/login/code")
    assert untranslated(page.evaluate(COLLECT), data) == [], untranslated(page.evaluate(COLLECT), data)


def test_an_administrator_resets_a_users_second_factor_from_the_user_list(app, live_server, page, clock):
    from evalapp.services import second_factor

    chief = make_user("chief", "district", display_name="区委组织部审核", totp_exempt=False)
    secret = rules.new_secret()
    second_factor.enrol(chief, secret, rules.code_at(secret, rules.current_step(clock[0])))
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users?q=chief")
    cell = page.locator('tr[data-user="chief"] [data-testid="second-factor"]')
    assert "已启用" in cell.inner_text()
    assert fits(page)
    shot(page, "admin-reset")
    cell.get_by_placeholder("重置原因").fill("手机丢失，本人电话申请")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    with page.expect_navigation():
        cell.get_by_role("button", name="重置二次验证").click()
    assert asked and "二次验证" in asked[0]
    assert "已重置 chief 的二次验证" in page.locator(".alert-success").inner_text()
    page.goto(f"{live_server}/admin/users?q=chief")
    assert "待设置" in page.locator('tr[data-user="chief"] [data-testid="second-factor"]').inner_text()
    db.session.expire_all()
    assert db.session.scalar(select(User.totp_secret).where(User.id == chief.id)) is None
