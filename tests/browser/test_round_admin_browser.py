"""A round's administration page at tablet size: advancing with member drafts asks first and lists them; a published
round's set-up reads as read-only. On a round of the test's own in inspection (factories.make_round: two teams)."""
import os

import pytest
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import Sheet
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import INSPECTOR_NAME, OTHER_VILLAGE, app_of_world, make_round  # noqa: F401 (fixture)


@pytest.fixture
def world(empty_app):
    return make_round("inspection")


def _no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768


def test_advancing_with_member_drafts_lists_them_and_closes_them_once_confirmed(app, live_server, page, world):
    round_ = world.round
    open_count = db.session.scalar(select(func.count(Sheet.id)).where(
        Sheet.round_id == round_.id, Sheet.kind == "inspector", Sheet.status == "draft"))
    page.console.allowed_statuses.add(409)  # the confirmation comes back as 409: nothing was changed yet
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/rounds/{round_.id}")
    assert f"尚有{open_count}份成员评分表未提交" in page.locator('[data-testid="open-member-sheets"]').inner_text()
    page.get_by_role("button", name="进入审核阶段").click()
    confirm = page.locator('[data-testid="confirm"]')
    confirm.wait_for()
    assert confirm.locator("tbody tr").count() == open_count
    assert INSPECTOR_NAME in confirm.inner_text() and "关闭为“未提交”" in confirm.inner_text()
    assert page.get_by_role("button", name="进入审核阶段", exact=True).count() == 0  # only the confirmation's
    _no_sideways_scroll(page)
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "round-advance-confirm.png"), full_page=True)
    page.get_by_role("button", name="确认关闭并进入审核阶段").click()
    page.wait_for_load_state("domcontentloaded")
    assert "批次已进入下一阶段" in page.content()
    assert page.locator("h1 .badge").first.inner_text() == "审核阶段"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Sheet.id)).where(
        Sheet.round_id == round_.id, Sheet.status == "closed")) == open_count


def test_a_published_rounds_set_up_is_read_only(app, live_server, page, world):
    from evalapp.models import User
    from evalapp.services.publication import publish

    round_ = complete_round({}, leave_out={OTHER_VILLAGE}, round_=world.round)
    publish(round_, db.session.scalar(select(User).where(User.username == "district")), confirm_incomplete=True, confirm_no_subsidy=True)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/rounds/{round_.id}")
    assert "已冻结" in page.locator('[data-testid="frozen"]').inner_text()
    for field in ("#threshold", "#tolerance", "#self_due", "#inspection_end"):
        assert page.locator(field).is_disabled(), field
    assert page.locator('[data-testid="scope"] input[type=checkbox]').first.is_disabled()
    assert page.locator('[data-testid="assign"] select').first.is_disabled()
    for label in ("保存设置", "保存参评单位", "保存分配", "新建工作组", "加入", "移出"):
        assert page.get_by_role("button", name=label, exact=True).count() == 0, label
    # a leader can still change: the first team picks among its other members; the second has none to pick
    assert page.get_by_role("button", name="设为组长").count() == 1
    assert page.locator('[data-testid="no-leader-candidates"]').count() == 1
    _no_sideways_scroll(page)
    page.screenshot(path=os.path.join(ARTIFACTS, "round-published-read-only.png"), full_page=True)
