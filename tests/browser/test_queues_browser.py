"""At tablet size: 停用 asks before it acts (dismiss: nothing changes; accept: deactivated), and a leader walks from
the to-do to a final sheet an admin unlocked in a published round. On a round of the test's own in inspection
(factories.make_round)."""
import os

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import OrgUnit, User
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import (  # noqa: F401 (app_of_world, world: fixtures)
    LEADER_NAME, TOWNSHIP, VILLAGE, app_of_world, make_sheet, world,
)


def _active(model, **by) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(model.active).filter_by(**by))


def test_deactivating_a_user_or_a_unit_asks_first(live_server, page, world):
    log_in(page, live_server, "admin")
    page.goto(live_server + "/admin/users")
    asked = []
    # 新建用户: no role is chosen in advance, and the browser will not send the form without one
    form = page.locator("[data-testid=create-user]")
    assert form.locator("select[name=role]").input_value() == ""
    form.locator("input[name=username]").fill("zhao6")
    form.locator("button[type=submit]").click()
    assert form.locator("select[name=role]").evaluate("e => e.matches(':invalid')")
    assert page.url == live_server + "/admin/users" and not db.session.scalar(
        select(User.id).where(User.username == "zhao6"))
    page.screenshot(path=os.path.join(ARTIFACTS, "new-user-no-role.png"), full_page=False)

    def answer(accept):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        page.once("dialog", handle)

    button = "tr[data-user=village] button:has-text('停用')"
    answer(False)
    page.click(button)
    page.wait_for_timeout(300)  # a dismissed confirm sends nothing
    name = world.people["village"].display_name
    assert asked == [f"确定停用用户“{name}”（village）吗？停用后其登录会话将全部结束，且不能再登录。"]
    assert page.url == live_server + "/admin/users" and _active(User, username="village")
    page.screenshot(path=os.path.join(ARTIFACTS, "deactivate-dismissed.png"), full_page=False)

    answer(True)
    with page.expect_navigation():
        page.click(button)
    assert len(asked) == 2 and not _active(User, username="village")
    assert "village已停用" in page.inner_text(".alert")
    # 启用 does not ask
    with page.expect_navigation():
        page.click("tr[data-user=village] button:has-text('启用')")
    assert len(asked) == 2 and _active(User, username="village")

    page.goto(live_server + "/admin/units")
    code = world.units[TOWNSHIP].code
    button = f"tr[data-unit='{code}'] button:has-text('停用')"
    answer(False)
    page.click(button)
    page.wait_for_timeout(300)
    assert asked[-1].startswith(f"确定停用“{TOWNSHIP}”（{code}）吗？") and _active(OrgUnit, code=code)
    answer(True)
    with page.expect_navigation():
        page.click(button)
    assert len(asked) == 4 and not _active(OrgUnit, code=code)
    page.screenshot(path=os.path.join(ARTIFACTS, "deactivate-unit-accepted.png"), full_page=False)


def test_a_leader_walks_from_the_todo_to_an_unlocked_sheet(live_server, page, login_as, world):
    round_ = complete_round({}, round_=world.round)
    assert login_as("district").post(f"/results/rounds/{round_.id}/publish", data={"confirm_no_subsidy": "1"}).status_code == 302
    final = make_sheet(world, VILLAGE, "final")
    assert login_as("admin").post(f"/results/sheets/{final.id}/unlock",
                                  data={"reason": "A3 计分录入错误"}).status_code == 302

    log_in(page, live_server, "leader")
    assert f"{LEADER_NAME}（工作组组长）" in page.inner_text("[data-testid=whoami]")
    todos = page.locator("[data-testid=todos]")
    assert todos.locator("li", has_text="被退回").count() == 1
    item = todos.locator(f"li[data-todo='{final.id}']")
    assert f"{VILLAGE} · 工作组评分表" in item.inner_text() and "已解锁" in item.inner_text()
    section = page.locator(f"section[data-round='{round_.id}']")
    assert "有解锁的评分表待重新审核" in section.inner_text()
    assert section.locator(f"[data-final='{final.id}']").count() == 1
    page.screenshot(path=os.path.join(ARTIFACTS, "leader-todo-after-unlock.png"), full_page=True)
    with page.expect_navigation():
        item.locator("a").click()
    assert page.url.endswith(f"/inspection/sheets/{final.id}/reconcile")
    # the reconcile page is open for changes again
    assert page.locator("form[action$='/reconcile/submit']").count() == 1
    page.screenshot(path=os.path.join(ARTIFACTS, "leader-reconcile-after-unlock.png"), full_page=False)
