"""Autosave answers that arrive out of order (issue 16 review): each answer carries the sheet's total as its own
transaction left it; the page applies figures only going forwards (figures_version), so an older answer arriving last
never shows a total that misses a later save. At 768×1024 in Chromium, with the first answer held back on purpose."""
from decimal import Decimal

from tests.browser.conftest import log_in
from tests.factories import VILLAGE, app_of_world, world  # noqa: F401 (fixtures: a round of the test's own)


def test_an_older_answer_arriving_last_does_not_roll_the_total_back(live_server, page):
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    held = []

    def hold_first_a1(route):
        if route.request.method == "PUT" and not held:
            held.append((route, route.fetch()))  # the server has saved A1 and answered; the page waits
        else:
            route.continue_()

    page.route("**/api/v1/sheets/*/scores/A1", hold_first_a1)
    page.click("#ind-A1 [data-action=full]")
    page.wait_for_function("() => true")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "A1's save was not sent"
    page.click("#ind-A2 [data-action=full]")  # saved after A1, answered first
    page.wait_for_function("() => document.querySelector('#ind-A2 [data-role=state]').textContent.startsWith('已保存')")
    expected = sum(Decimal(page.get_attribute(f"#ind-{c}", "data-max")) for c in ("A1", "A2"))
    assert Decimal(page.inner_text("[data-role=total]")) == expected

    route, response = held[0]
    answer = response.json()
    assert Decimal(answer["sheet_total"]) < expected  # the held answer is the older one: it knows A1 only
    route.fulfill(response=response)
    page.wait_for_function("() => document.querySelector('#ind-A1 [data-role=state]').textContent.startsWith('已保存')")
    page.screenshot(path="/tmp/answer-order.png")
    assert Decimal(page.inner_text("[data-role=total]")) == expected
    assert page.inner_text("[data-role=scored]") == "2"
