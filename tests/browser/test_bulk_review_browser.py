"""The district approves the clean final sheets of its queue in one confirmation, on a tablet at 768×1024 (issue 29,
point 7); the leader and finance find them approved. The flagged sheet (a veto) has no box, says why, and stays
waiting. In English, the queue and the confirmation hold no Chinese but the data's."""
import os

from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, Sheet
from tests.browser.conftest import ARTIFACTS, Console, log_in
from tests.browser.test_axe_browser import _check as axe_check
from tests.browser.test_english_browser import COLLECT, data_strings, untranslated
from tests.factories import OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world  # noqa: F401 (fixture)
from tests.test_bulk_review import finals, world  # noqa: F401 (fixtures)

CLEAN = (TOWNSHIP, VILLAGE, OTHER_VILLAGE)


def person(browser, base, username, locale="zh-CN", bypass_csp=False):
    """A tablet of one's own, logged in. `bypass_csp`: axe-core is injected (the app's script runs under the policy
    in the English test, whose boxes it ticks)."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale=locale, bypass_csp=bypass_csp)
    page = context.new_page()
    console = Console()
    page.on("console", console.record)
    page.on("pageerror", lambda exc: console.errors.append(str(exc)))
    log_in(page, base, username)
    return context, page, console


def test_the_district_approves_the_clean_sheets_at_once_and_the_next_people_see_them_approved(
        app, finals, live_server, browser):
    os.makedirs(ARTIFACTS, exist_ok=True)
    ids = {unit: sheet.id for unit, sheet in finals.items()}
    codes = {unit: sheet.unit.code for unit, sheet in finals.items()}
    round_id = db.session.scalar(select(Round.id))
    context, page, console = person(browser, live_server, "district", bypass_csp=True)
    review = page.goto(f"{live_server}/inspection/sheets/{ids[VILLAGE]}")
    assert review.status == 200
    village_total = page.inner_text("[data-testid=review-total]").strip()

    page.goto(f"{live_server}/results/")
    queue = page.locator("[data-testid=review-queue]")
    vetoed = queue.locator(f"[data-sheet='{ids[OTHER_TOWNSHIP]}']")
    assert "一票否决" in vetoed.inner_text()
    assert page.locator(f"input[name=sheet][value^='{ids[OTHER_TOWNSHIP]}:']").count() == 0
    page.get_by_text("全选无异常的评分表").click()
    assert page.inner_text("[data-bulk-count]") == "3"
    for unit in CLEAN:
        assert page.locator(f"input[name=sheet][value^='{ids[unit]}:']").is_checked()
    problems = []  # axe-core, touch targets, no sideways scrolling (the walk's checks; it finds no clean sheet)
    axe_check(page, live_server, problems)
    page.screenshot(path=os.path.join(ARTIFACTS, "bulk-01-queue.png"), full_page=True)

    with page.expect_navigation():
        page.click("button:has-text('批量审核通过所选')")
    ready = page.locator("[data-testid=bulk-ready]")
    assert ready.locator("tbody tr").count() == 3
    row = ready.locator(f"tr[data-sheet='{ids[VILLAGE]}']")
    assert VILLAGE in row.inner_text() and row.locator("[data-total]").inner_text().strip() == village_total
    axe_check(page, live_server, problems)
    assert problems == []
    page.screenshot(path=os.path.join(ARTIFACTS, "bulk-02-confirm.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('确认审核通过3份')")
    assert "已审核通过3份评分表" in page.inner_text(".alert-success")
    queue = page.locator("[data-testid=review-queue]")
    assert queue.locator(f"[data-sheet='{ids[OTHER_TOWNSHIP]}']").count() == 1
    assert all(queue.locator(f"[data-sheet='{ids[u]}']").count() == 0 for u in CLEAN)
    page.screenshot(path=os.path.join(ARTIFACTS, "bulk-03-done.png"), full_page=True)
    context.close()
    assert console.errors == []
    db.session.expire_all()
    assert {u: db.session.get(Sheet, ids[u]).status for u in finals} == {
        TOWNSHIP: "approved", VILLAGE: "approved", OTHER_VILLAGE: "approved", OTHER_TOWNSHIP: "submitted"}

    # The leader finds the team's final sheets approved; finance finds the units with a result, not 未完成.
    context, page, console = person(browser, live_server, "leader")
    for unit in (TOWNSHIP, VILLAGE):
        assert "已通过" in page.inner_text(f"[data-final='{ids[unit]}']")
    context.close()
    context, page, console = person(browser, live_server, "finance")
    page.goto(f"{live_server}/results/rounds/{round_id}")
    for unit in CLEAN:
        assert "未完成" not in page.inner_text(f"tr[data-unit='{codes[unit]}']")
    assert "未完成" in page.inner_text(f"tr[data-unit='{codes[OTHER_TOWNSHIP]}']")
    context.close()
    assert console.errors == []


def test_the_queue_and_the_confirmation_in_english(app, finals, live_server, browser):
    context, page, console = person(browser, live_server, "district", "en-US")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("domcontentloaded")
    data = data_strings()
    page.goto(f"{live_server}/results/")
    assert untranslated(page.evaluate(COLLECT), data) == []
    page.click("[data-bulk-all]")
    with page.expect_navigation():
        page.click("#bulk-form button[type=submit]")
    page.goto(page.url + f"&sheet={finals[OTHER_TOWNSHIP].id}")  # and one left out, with its reason
    assert page.locator("[data-testid=bulk-left-out] [data-reason]").inner_text() == "Veto"
    assert untranslated(page.evaluate(COLLECT), data) == []
    context.close()
    assert console.errors == []
