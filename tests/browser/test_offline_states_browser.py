"""The worklist's offline panel in the two states the first offline tests left out (issue 31, point 2), in headless
Chromium at 768×1024: prepared data older than 5 days is flagged (the page's clock injected: static/js/offline.js
reads window.__now, set here by an init script from a shift the test keeps in sessionStorage), and a browser
without service workers (an in-app browser such as WeChat's) is told to open the page in the system browser.
Screenshots go to /tmp/shots-offline/."""
from tests.browser.conftest import log_in
from tests.browser.test_offline_browser import context, prepare, server, shot  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, app_of_world, world  # noqa: F401 (fixtures)

DAY_MS = 24 * 3600 * 1000
CLOCK = "window.__now = () => Date.now() + Number(sessionStorage.getItem('test-clock-shift') || 0);"
NO_SERVICE_WORKER = "delete Navigator.prototype.serviceWorker;"


def stale_shown(page) -> bool:
    page.wait_for_function("() => document.querySelector('#offline-panel [data-role=offline-status]')"
                           ".textContent.startsWith('本机已存')")
    return page.locator("#offline-panel [data-role=stale]").is_visible()


def days_later(page, base, days: float):
    page.evaluate("shift => sessionStorage.setItem('test-clock-shift', String(shift))", int(days * DAY_MS))
    page.goto(base + "/inspection/")


def test_prepared_data_older_than_five_days_is_flagged_until_prepared_again(server, context):
    context.add_init_script(CLOCK)
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    assert not stale_shown(page)

    days_later(page, server.url, 5 - 1 / 24)  # four days and 23 hours: not yet
    assert not stale_shown(page)
    days_later(page, server.url, 5 + 1 / 24)
    assert stale_shown(page)
    assert "离线数据已超过5天" in page.inner_text("#offline-panel [data-role=stale]")
    shot(page, "prepared-stale")

    prepare(page, server.url)  # prepared again, at the page's time: fresh
    assert not stale_shown(page)
    days_later(page, server.url, 5 + 1 / 24)  # the same clock as the preparing: under an hour since
    assert not stale_shown(page)


def test_a_browser_without_service_workers_is_told_to_open_the_system_browser(server, context):
    context.add_init_script(NO_SERVICE_WORKER)
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    page.goto(server.url + "/inspection/")
    assert page.evaluate("() => 'serviceWorker' in navigator") is False
    notice = page.locator("#offline-panel [data-role=no-sw]")
    notice.wait_for(state="visible")
    assert "在浏览器中打开" in notice.inner_text()
    assert page.locator("#offline-panel [data-action=prepare]").is_disabled()
    shot(page, "no-service-worker")
    # The rest of the app works without: a sheet opens and scores online.
    page.click("a[data-sheet]")
    page.wait_for_selector("#ind-A1")
