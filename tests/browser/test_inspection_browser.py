"""The inspector's day on a 768×1024 tablet, in real Chromium, on a round of the test's own (factories.make_round:
the inspector's team has 清溪镇 and 荷塘村)."""
from PIL import Image

from tests.browser.conftest import log_in
from tests.factories import VILLAGE, app_of_world, world  # noqa: F401 (fixtures)


def jpeg(path):
    Image.new("RGB", (64, 48), (10, 120, 200)).save(path, "JPEG")
    return path


def wait_saved(page, code):
    page.wait_for_function(
        "code => document.querySelector('#ind-' + code + ' [data-role=state]').textContent === '已保存'", arg=code)


def test_inspector_scores_a_village_adds_a_photo_and_a_reload_keeps_everything(live_server, page, tmp_path):
    log_in(page, live_server, "inspector")
    assert page.url.endswith("/inspection/")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    # two occurrences of A3-1 (1 point each) and the void switch of B1
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    assert page.inner_text("#ind-A3 [data-role=score]") == "6.00"  # shown at once, before the server answers
    page.click("#ind-B1 [data-rule='B1-1'] input")
    page.fill("#note-A3", "抽查5户，2户走访不足")
    wait_saved(page, "A3")
    wait_saved(page, "B1")
    assert page.inner_text("[data-role=total]") == "6.00"
    page.set_input_files("#ind-A3 [data-role=photo-input]", jpeg(tmp_path / "visit.jpg"))
    page.wait_for_selector("#ind-A3 [data-photo] img")

    page.reload()
    page.wait_for_selector("#ind-A3")
    assert page.inner_text("#ind-A3 [data-rule='A3-1'] [data-role=count]") == "2"
    assert page.inner_text("#ind-A3 [data-role=score]") == "6.00"
    assert page.input_value("#note-A3") == "抽查5户，2户走访不足"
    assert page.is_checked("#ind-B1 [data-rule='B1-1'] input")
    assert page.inner_text("#ind-B1 [data-role=score]") == "0.00"
    assert page.locator("#ind-A3 [data-photo] img").count() == 1
    assert page.inner_text("[data-role=scored]") == "2"


def test_submit_is_refused_until_every_indicator_is_scored(live_server, page):
    questions = []
    page.on("dialog", lambda d: (questions.append(d.message), d.accept()))
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    page.click("#ind-A1 [data-action=full]")
    wait_saved(page, "A1")
    page.click("text=提交评分表")
    page.wait_for_selector(".alert-danger")
    message = page.inner_text(".alert-danger")
    assert "尚有19项指标未评分" in message and "A2" in message
    codes = page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)")
    for code in codes:
        if code != "A1":
            page.click(f"#ind-{code} [data-action=full]")
    for code in codes:
        wait_saved(page, code)
    assert page.inner_text("[data-role=total]") == "100.00"
    assert page.is_visible("[data-role=reached]") and not page.is_visible("[data-role=missing]")
    assert page.inner_text("[data-role=reached]") == "已达合格线95.00分"
    page.click("text=提交评分表")
    page.wait_for_url("**/inspection/")
    assert f"{VILLAGE}的评分表已提交" in page.inner_text(".alert-success")
    assert "当前得分 100.00 分" in questions[-1] and "已评 20/20 项" in questions[-1]
    assert "提交后由组长汇总定分" in questions[-1]


def test_bad_direct_score_shows_a_field_error_and_keeps_the_saved_value(live_server, page):
    page.console.allowed_statuses.add(422)
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    page.click("#ind-A1 [data-rule='A1-1'] [data-step='1']")
    wait_saved(page, "A1")
    page.fill("#direct-A1", "2.3")
    page.wait_for_function("() => document.querySelector('#ind-A1 [data-role=state]').textContent.startsWith('保存失败')")
    assert "0.5的整数倍" in page.inner_text("#ind-A1 [data-error=score]")
    page.reload()
    page.wait_for_selector("#ind-A1")
    # the bad value is still on this tablet (kept locally, not lost) and the server still has 2.00
    assert page.input_value("#direct-A1") == "2.3"


def test_no_horizontal_scrolling_on_tablets_and_tap_targets_are_large(live_server, page):
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    for width, height in ((768, 1024), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    sizes = page.eval_on_selector_all(
        ".stepper .btn, [data-action=full]",
        "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])")
    assert sizes and all(w >= 44 and h >= 44 for w, h in sizes)


def test_an_expired_csrf_token_never_throws_away_what_was_entered(app, live_server, page):
    app.config["WTF_CSRF_ENABLED"] = True  # the real protection, as in production
    page.console.allowed_statuses.add(400)
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A1")
    # the page's token expires (as after a long day offline); the next save is refused, renewed and retried
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    page.wait_for_timeout(2100)
    saves = []
    page.on("response", lambda r: saves.append(r.status) if r.request.method == "PUT" else None)
    page.click("#ind-A2 [data-rule='A2-1'] [data-step='1']")
    page.fill("#note-A2", "第3户未在名册中")
    wait_saved(page, "A2")
    assert saves[0] == 400 and saves[-1] == 200  # refused for the stale token, then saved with a fresh one
    page.reload()
    page.wait_for_selector("#ind-A2")
    assert page.inner_text("#ind-A2 [data-role=score]") == "5.50"
    assert page.input_value("#note-A2") == "第3户未在名册中"


def test_a_stale_version_shows_both_values_and_the_inspector_chooses(live_server, browser, page):
    page.console.allowed_statuses.add(409)
    log_in(page, live_server, "inspector")
    page.click(f"text={VILLAGE}")
    page.wait_for_selector("#ind-A3")
    url = page.url
    other = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()  # the same inspector, 2nd tablet
    log_in(other, live_server, "inspector")
    other.goto(url)
    other.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    wait_saved(other, "A3")  # saved 7.00 as version 1
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")  # this tablet still holds version 0: 6.00
    page.wait_for_selector("#ind-A3 [data-role=conflict]:not([hidden])")
    assert page.inner_text("#ind-A3 [data-role=mine]") == "6.00"
    assert page.inner_text("#ind-A3 [data-role=theirs]") == "7.00"
    page.click("#ind-A3 [data-action=keep-mine]")
    wait_saved(page, "A3")
    other.reload()
    other.wait_for_selector("#ind-A3")
    assert other.inner_text("#ind-A3 [data-role=score]") == "6.00"  # chosen, never silently overwritten
    other.context.close()


def test_worklist_pages_and_filters_by_status_on_a_tablet(app, live_server, page):
    app.config["WORKLIST_PAGE_SIZE"] = 1  # the inspector has two sheets (清溪镇, 荷塘村): two pages
    log_in(page, live_server, "inspector")
    page.goto(live_server + "/inspection/")
    sheets = "els => els.map(e => e.dataset.sheet)"
    first = page.eval_on_selector_all(".worklist [data-sheet]", sheets)
    assert len(first) == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("[data-testid=pager-page] >> text=下一页")
    page.wait_for_selector(".worklist [data-sheet]")
    assert "page=2" in page.url
    second = page.eval_on_selector_all(".worklist [data-sheet]", sheets)
    assert second and not set(first) & set(second)
    pill = page.locator("[data-status]").first  # a status some of the sheets have, with their count
    status, count = pill.get_attribute("data-status"), int(pill.locator(".badge").inner_text())
    pill.click()
    page.wait_for_selector(f"[data-status={status}][aria-current=page]")
    assert f"status={status}" in page.url and "page=" not in page.url  # a filter starts at its first page
    assert len(page.eval_on_selector_all(".worklist [data-sheet]", sheets)) == min(count, 1)
