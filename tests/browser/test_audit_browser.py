"""The audit log at 768×1024, on a round of the test's own (make_round): its wide table scrolls sideways inside a
named region a keyboard reaches and scrolls (axe scrollable-region-focusable; test_axe_browser checks the page)."""
import os

from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import PASSWORD, app_of_world, world  # noqa: F401 (fixtures)


def test_the_audit_table_scrolls_sideways_from_the_keyboard(live_server, page):
    log_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server + "/admin/audit")
    region = page.get_by_role("region", name="操作日志")
    assert region.get_attribute("data-testid") == "audit-region"
    width, inner = region.evaluate("el => [el.clientWidth, el.scrollWidth]")
    assert inner > width, "the table fits: nothing to scroll"
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # the region scrolls, not the page
    # reached by Tab from the filters' last control (the export; a pager's links may come between), then scrolled
    page.focus("[data-testid=audit-export]")
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "audit-region":
            break
    assert page.evaluate("document.activeElement.dataset.testid") == "audit-region"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    page.screenshot(path=os.path.join(ARTIFACTS, "audit-scrolled.png"))
