"""The scoring page mirrors the score contract (issue 15, points 2 and 9), at 768×1024 in Chromium: a note, a free
deduction of 0 or an emptied rejected direct score never score an indicator; 清除评分 unscored it; failed saves
retry by themselves when the browser is back online, with a banner counting what waits; submit asks first. On a round
of the test's own (factories.make_round: the inspector scores 荷塘村)."""
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Score, Sheet
from tests.browser.conftest import log_in
from tests.factories import VILLAGE, app_of_world, make_sheet, world  # noqa: F401 (fixtures)


def state(page, code):
    return page.inner_text(f"#ind-{code} [data-role=state]")


def wait_state(page, code, text):
    page.wait_for_function(
        "([code, text]) => document.querySelector('#ind-' + code + ' [data-role=state]').textContent.startsWith(text)",
        arg=[code, text])


def stored(sheet, code):
    db.session.expire_all()
    return db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == sheet.id,
                                                                       Score.indicator.has(code=code)))


def open_sheet(page, base, unit=VILLAGE):
    log_in(page, base, "inspector")
    page.click(f"text={unit}")
    page.wait_for_selector("#ind-A1")


def test_a_note_a_zero_free_deduction_or_an_emptied_direct_score_leave_the_indicator_unscored(live_server, page, world):
    page.console.allowed_statuses.add(422)
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    page.fill("#note-A3", "入户3户，台账待补")
    wait_state(page, "A3", "已保存（未评分）")
    page.fill("#free-A4", "0")
    page.fill("#note-A4", "暂不扣分")
    wait_state(page, "A4", "已保存（未评分）")
    page.fill("#direct-B2", "120")
    wait_state(page, "B2", "保存失败")
    assert "得分须在0到" in page.inner_text("#ind-B2 [data-error=score]")
    page.fill("#direct-B2", "")
    wait_state(page, "B2", "已保存（未评分）")
    assert page.inner_text("[data-role=scored]") == "0"
    assert page.inner_text("[data-role=unscored-count]") == "20"
    for code in ("A3", "A4", "B2"):
        assert page.get_attribute(f"#ind-{code}", "class").endswith("is-unscored")
        score = stored(sheet, code)
        assert score is None or score.points is None
    assert stored(sheet, "A3").note == "入户3户，台账待补"

    page.reload()
    page.wait_for_selector("#ind-A3")
    assert page.input_value("#note-A3") == "入户3户，台账待补"
    assert page.inner_text("#ind-A3 [data-role=score]") == "—"
    assert page.inner_text("[data-role=scored]") == "0"


def test_clear_returns_a_scored_indicator_to_unscored(live_server, page, world):
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    wait_state(page, "A3", "已保存")
    assert stored(sheet, "A3").points == 7
    assert page.is_visible("#ind-A3 [data-action=clear]")
    page.once("dialog", lambda d: d.dismiss())
    page.click("#ind-A3 [data-action=clear]")
    assert stored(sheet, "A3").points == 7  # dismissed: nothing sent
    page.once("dialog", lambda d: d.accept())
    page.click("#ind-A3 [data-action=clear]")
    wait_state(page, "A3", "已保存（未评分）")
    assert stored(sheet, "A3").points is None
    assert page.inner_text("#ind-A3 [data-rule='A3-1'] [data-role=count]") == "0"
    assert page.inner_text("[data-role=scored]") == "0"
    assert not page.is_visible("#ind-A3 [data-action=clear]")


def test_failed_saves_retry_when_the_browser_is_back_online(live_server, page, world):
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    page.context.set_offline(True)
    page.click("#ind-A1 [data-action=full]")
    page.click("#ind-A2 [data-action=full]")
    # Offline, the changes wait in the device's queue (issue 31: static/js/offline-store.js)
    wait_state(page, "A1", "待同步")
    wait_state(page, "A2", "待同步")
    page.wait_for_selector("[data-role=queue-banner]:not([hidden])")
    page.wait_for_function("() => document.querySelector('[data-role=queue-count]').textContent === '2'")
    page.screenshot(path="test-artifacts/scoring_offline_banner.png", full_page=False)
    assert stored(sheet, "A1") is None
    page.context.set_offline(False)  # the browser fires `online`: the queue goes out by itself
    wait_state(page, "A1", "已同步")
    wait_state(page, "A2", "已同步")
    page.wait_for_selector("[data-role=queue-banner]", state="hidden")
    assert stored(sheet, "A1").points == 3 and stored(sheet, "A2").points is not None
    # The browser logs each request refused while offline: expected here, nothing else may be.
    page.console.errors[:] = [e for e in page.console.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def test_submit_asks_first_with_the_total_and_a_dismissal_changes_nothing(live_server, page, world):
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click("text=提交评分表")
    page.wait_for_timeout(300)
    assert questions and f"确认提交{VILLAGE}的评分表" in questions[0] and "已评 0/20 项" in questions[0]
    assert page.url.endswith(f"/inspection/sheets/{sheet.id}")
    assert db.session.get(Sheet, sheet.id).status == "draft"


def test_a_free_deduction_typed_then_put_back_to_zero_is_not_a_score(live_server, page, world):
    page.console.allowed_statuses.add(422)
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    page.fill("#free-A3", "2")
    wait_state(page, "A3", "保存失败")  # a free deduction needs a reason
    page.fill("#free-A3", "0")
    wait_state(page, "A3", "已保存（未评分）")
    score = stored(sheet, "A3")
    assert score is None or score.points is None
    assert page.inner_text("[data-role=scored]") == "0"


def forgive_one_lost_answer(page) -> None:
    """The console's one "Failed to load resource: net::ERR_FAILED": the send whose answer the test dropped."""
    lost = [e for e in page.console.errors if "net::ERR_FAILED" in e]
    assert len(lost) <= 1, lost
    page.console.errors[:] = [e for e in page.console.errors if e not in lost]


def test_an_entry_kept_on_the_device_meets_a_conflict_if_the_indicator_changed_since(live_server, page, login_as, world):
    page.console.allowed_statuses.add(409)
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    page.route("**/api/v1/sheets/*/scores/*", lambda route: route.abort())  # the network drops the save
    page.route("**/api/v1/sync", lambda route: route.abort())  # and the queue's (issue 31)
    page.fill("#note-A3", "平板上的旧备注")
    wait_state(page, "A3", "待同步")
    # Meanwhile the indicator is scored from another device.
    other = login_as("inspector")
    assert other.put(f"/api/v1/sheets/{sheet.id}/scores/A3", json={
        "deductions": [{"code": "A3-1", "count": 2}], "note": "另一台设备的备注", "version": 0}).status_code == 200
    page.unroute("**/api/v1/sheets/*/scores/*")
    page.unroute("**/api/v1/sync")
    page.reload()
    page.wait_for_selector("#ind-A3 [data-role=conflict]:not([hidden])")
    assert page.inner_text("#ind-A3 [data-role=theirs]") == "6.00"
    score = stored(sheet, "A3")
    assert score.note == "另一台设备的备注" and score.points == 6  # nothing overwritten behind the inspector
    page.click("#ind-A3 [data-action=take-theirs]")
    assert page.input_value("#note-A3") == "另一台设备的备注"
    assert page.inner_text("#ind-A3 [data-rule='A3-1'] [data-role=count]") == "2"
    page.console.errors[:] = [e for e in page.console.errors if "ERR_FAILED" not in e]


def test_a_conflict_whose_answer_was_lost_is_a_conflict_when_the_change_is_sent_again(live_server, page, login_as,
                                                                                     world):
    """The queue's sync reached the server, which answered a conflict, but the answer was lost (the page closed
    while it came back). Sent again, the same operation is answered `duplicate` with that first answer: the page
    shows the conflict, never "已同步" over the other device's value."""
    page.console.allowed_statuses.add(409)
    sheet = make_sheet(world, VILLAGE)
    open_sheet(page, live_server)
    phase = {"now": "hold"}

    def sync(route):
        if phase["now"] == "hold":  # the network drops the queue's sends
            route.abort()
        elif phase["now"] == "lose":  # it reaches the server; the answer is lost on the way back
            route.fetch()
            phase["now"] = "lost"
            route.abort()
        else:
            route.continue_()

    page.route("**/api/v1/sheets/*/scores/*", lambda route: route.abort())  # the page's own save fails
    page.route("**/api/v1/sync", sync)
    page.fill("#note-A3", "平板上的旧备注")
    wait_state(page, "A3", "待同步")
    other = login_as("inspector")
    assert other.put(f"/api/v1/sheets/{sheet.id}/scores/A3", json={
        "deductions": [{"code": "A3-1", "count": 2}], "note": "另一台设备的备注", "version": 0}).status_code == 200
    phase["now"] = "lose"
    page.reload()  # the page sends its queue as it opens
    for _ in range(100):
        if phase["now"] == "lost":
            break
        page.wait_for_timeout(100)
    assert phase["now"] == "lost"
    page.unroute("**/api/v1/sheets/*/scores/*")
    phase["now"] = "through"
    page.reload()
    page.wait_for_selector("#ind-A3 [data-role=conflict]:not([hidden])")
    assert page.inner_text("#ind-A3 [data-role=theirs]") == "6.00"
    score = stored(sheet, "A3")
    assert score.note == "另一台设备的备注" and score.points == 6
    forgive_one_lost_answer(page)
