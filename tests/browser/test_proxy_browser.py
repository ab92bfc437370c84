"""代填 at tablet size: 清溪镇's lead fills in and submits the self-assessment of its village without an account,
approves it, and the district sees the sheet — and, once inspection opens, the team's printed 评分表 — marked 代填."""
import pytest

from tests.browser.conftest import log_in
from tests.factories import (  # noqa: F401 (app_of_world: fixture)
    OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, app_of_world, make_round, make_sheet,
)

ROUND = "2031年度代填测试自评"
BARE = "清溪1村"  # no village account


@pytest.fixture
def world(empty_app):
    return make_round("self_assessment", ROUND, townships={TOWNSHIP: [VILLAGE, BARE],
                                                           OTHER_TOWNSHIP: [OTHER_VILLAGE]})


def test_the_township_fills_in_and_submits_for_a_village_without_an_account(world, live_server, browser, page):
    from evalapp.services import rounds

    sheet_id = make_sheet(world, BARE, "self").id
    page.on("dialog", lambda d: d.accept())  # the submit's and the approval's confirmations
    log_in(page, live_server, "township")
    row = page.locator(f"[data-testid=proxy-list] tr[data-proxy='{sheet_id}']")
    assert BARE in row.inner_text()
    assert page.locator(f"[data-testid=proxy-list] >> text={VILLAGE}").count() == 0  # it has an account
    row.get_by_role("link", name="代填").click()
    page.wait_for_selector("#ind-A1")
    assert BARE in page.inner_text("[data-testid=proxy-filling]")
    for code in page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)"):
        page.click(f"#ind-{code} [data-action=full]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.indicator-card [data-role=state]')]"
        ".every(e => e.textContent === '已保存')")
    page.fill("#summary-text", "该村暂无协理员账号，由镇里代为填报。")
    page.click("text=保存工作总结")
    page.wait_for_function(
        "() => document.querySelector('[data-role=summary-state]').textContent.startsWith('已保存')")
    page.click("[data-role=submit-form] button[type=submit]")
    page.wait_for_selector("text=自评表已提交镇(街道)审核")
    assert page.inner_text("[data-testid=proxy-mark]") == f"由{TOWNSHIP}（township）代填"
    assert page.locator("[data-testid=read-only]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.click("text=审核通过")  # the township reviews it as any village's
    page.wait_for_selector(f"text={BARE}的自评表已审核通过")

    district = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()
    log_in(district, live_server, "district")
    district.goto(f"{live_server}/selfassess/sheets/{sheet_id}")
    assert district.inner_text("[data-testid=proxy-mark]") == f"由{TOWNSHIP}（township）代填"
    assert "已通过" in district.inner_text("body")
    assert district.locator("[data-testid=proxy-filling]").count() == 0

    rounds.advance(world.round, world.people["admin"], confirm=True)  # inspection opens: the team's sheets
    final = make_sheet(world, BARE, "final")
    district.goto(f"{live_server}/results/sheets/{final.id}/print")
    note = district.inner_text("[data-testid=signatures] [data-testid=proxy-note]")
    assert f"本单位自评表由{TOWNSHIP}（township）代填" in note
    district.screenshot(path="/tmp/proxy-print.png", full_page=True)
    district.context.close()
