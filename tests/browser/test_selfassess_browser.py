"""The self-assessment loop at tablet size: fill, submit, return with comments, fix, resubmit, approve. On a round of
the test's own in self-assessment (factories.make_round: the village user is 荷塘村's, the township user 清溪镇's)."""
import pytest

from tests.browser.conftest import log_in
from tests.factories import VILLAGE, app_of_world, make_round, make_sheet  # noqa: F401 (app_of_world: fixture)
from tests.files import PDF

ROUND = "2031年度测试自评"


@pytest.fixture
def world(empty_app):
    return make_round("self_assessment", ROUND)


def wait_all_saved(page):
    page.wait_for_function(
        "() => [...document.querySelectorAll('.indicator-card [data-role=state]')]"
        ".every(e => e.textContent === '已保存')")


def test_village_and_township_run_the_loop(live_server, browser, page):
    log_in(page, live_server, "village")
    page.click(f"table a:has-text('{ROUND}')")
    page.wait_for_selector("#ind-A1")
    for code in page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)"):
        page.click(f"#ind-{code} [data-action=full]")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    wait_all_saved(page)
    page.fill("#summary-text", "本村已实现党员联户全覆盖。")
    page.click("text=保存工作总结")  # saves at once, on the page (no reload)
    wait_summary_saved(page)
    page.on("dialog", lambda d: d.accept())  # "提交后不能再修改" and the like
    page.click("[data-role=submit-form] button[type=submit]")
    page.wait_for_selector("text=自评表已提交镇(街道)审核")
    assert page.locator("[data-testid=read-only]").count() == 1

    lead = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()
    lead.on("dialog", lambda d: d.accept())
    log_in(lead, live_server, "township")
    lead.click(f"[data-testid=todos] >> text={VILLAGE} · 自评表")
    lead.fill("#ind-A3 .comment-form input[name=comment]", "走访记录请补充到5户")
    lead.click("#ind-A3 .comment-form button")
    lead.wait_for_selector("text=意见已添加")
    lead.fill("#review-comment", "请按A3意见补充后重新提交")
    lead.click("text=退回修改")
    lead.wait_for_selector(f"text={VILLAGE}的自评表已退回")

    page.reload()
    assert "走访记录请补充到5户" in page.inner_text("#ind-A3")
    assert "请按A3意见补充后重新提交" in page.inner_text("[data-testid=returned]")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='-1']")
    wait_all_saved(page)
    page.click("[data-role=submit-form] button[type=submit]")
    page.wait_for_selector("text=自评表已提交镇(街道)审核")

    lead.goto(live_server + "/selfassess/township")
    lead.click(f"[data-testid=todos] >> text={VILLAGE} · 自评表")
    lead.click("text=审核通过")
    lead.wait_for_selector(f"text={VILLAGE}的自评表已审核通过")
    page.reload()
    history = page.inner_text("#history")
    assert history.count("已提交 → 已退回") == 1 and "已提交 → 已通过" in history
    lead.context.close()


# -- the 工作总结 and the documents -------------------------------------------------------------------------------

def open_own_sheet(page, live_server):
    log_in(page, live_server, "village")
    page.click(f"table a:has-text('{ROUND}')")
    page.wait_for_selector("#summary-text")


def wait_summary_saved(page):
    page.wait_for_function(
        "() => document.querySelector('[data-role=summary-state]').textContent.startsWith('已保存')")


def own_sheet_summary(world):
    from evalapp.extensions import db

    db.session.expire_all()
    return make_sheet(world, VILLAGE, "self").summary


def test_summary_autosaves_survives_a_reload_and_an_upload(app, live_server, page, tmp_path, world):
    import os

    from tests.browser.conftest import ARTIFACTS

    app.config["WTF_CSRF_ENABLED"] = True  # the real protection, as in production
    open_own_sheet(page, live_server)
    first = "一、组织建设：已建立四级联系结对。\n"
    page.fill("#summary-text", first)
    wait_summary_saved(page)
    assert own_sheet_summary(world) == first
    page.reload()
    assert page.input_value("#summary-text") == first

    # more text, and at once a document: the upload saves the text first, and the page it returns shows it
    page.focus("#summary-text")
    page.keyboard.press("Control+End")
    page.keyboard.type("二、走访联系：党员每两个月走访联系户。")
    pdf = tmp_path / "走访台账.pdf"
    pdf.write_bytes(PDF)  # a real one-page PDF (services.filecheck opens it)
    page.set_input_files("#document-input", str(pdf))
    with page.expect_navigation():
        page.click("[data-role=upload]")
    page.wait_for_selector("text=材料已上传")
    full = first + "二、走访联系：党员每两个月走访联系户。"
    assert page.input_value("#summary-text") == full
    assert "走访台账.pdf" in page.inner_text("[data-testid=documents]")
    assert own_sheet_summary(world) == full
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.locator("#summary-section").screenshot(path=os.path.join(ARTIFACTS, "summary-after-upload.png"))

    # the connection drops while typing: the text stays on the tablet and is saved once it is back
    page.focus("#summary-text")
    page.keyboard.press("Control+End")
    page.context.set_offline(True)
    page.keyboard.type("三、")
    page.wait_for_function(
        "() => document.querySelector('[data-role=summary-state]').textContent.startsWith('保存失败，内容已保留在本机')")
    page.locator("#summary-section").screenshot(path=os.path.join(ARTIFACTS, "summary-offline.png"))
    page.context.set_offline(False)
    wait_summary_saved(page)
    page.locator("#summary-section").screenshot(path=os.path.join(ARTIFACTS, "summary-saved.png"))
    assert own_sheet_summary(world) == full + "三、"
    page.console.errors[:] = [e for e in page.console.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def test_text_typed_before_the_pages_script_arrives_is_saved(live_server, page, world):
    """On a slow link the page shows before its scripts arrive: what the person types then is saved once the
    script starts, not taken for the text the server holds (CI, 2026-12-01: a test typing at once saw no save)."""
    log_in(page, live_server, "village")
    page.route("**/static/js/summary.js*", lambda route: route.abort())  # the script has not arrived yet
    page.click(f"table a:has-text('{ROUND}')")
    page.wait_for_selector("#summary-text")
    src = page.get_attribute("script[src*='summary.js']", "src")
    typed = "二、阵地建设：村部设立党建+社会救助服务窗口。"
    page.fill("#summary-text", typed)
    assert make_sheet(world, VILLAGE, "self").summary != typed
    page.console.errors.clear()  # the aborted request above, on purpose
    page.unroute("**/static/js/summary.js*")
    page.add_script_tag(url=src)  # and now it arrives
    wait_summary_saved(page)
    assert own_sheet_summary(world) == typed
    page.reload()
    assert page.input_value("#summary-text") == typed


def test_summary_typed_with_an_expired_token_is_saved_after_renewal(app, live_server, page, world):
    app.config["WTF_CSRF_ENABLED"] = True
    page.console.allowed_statuses.add(400)
    open_own_sheet(page, live_server)
    app.config["WTF_CSRF_TIME_LIMIT"] = 1  # the page's token expires (an hour of typing)
    page.wait_for_timeout(2100)
    puts = []
    page.on("response", lambda r: puts.append(r.status) if r.request.method == "PUT" else None)
    page.fill("#summary-text", "一个小时写下的总结")
    wait_summary_saved(page)
    assert puts[0] == 400 and puts[-1] == 200
    assert own_sheet_summary(world) == "一个小时写下的总结"


def test_text_not_acknowledged_before_leaving_comes_back(live_server, page, world):
    open_own_sheet(page, live_server)
    page.route("**/api/v1/sheets/*/summary", lambda route: route.abort())  # the saves never reach the server
    page.fill("#summary-text", "断网时写的总结")
    page.wait_for_function(
        "() => document.querySelector('[data-role=summary-state]').textContent.startsWith('保存失败，内容已保留在本机')")
    assert own_sheet_summary(world) == ""
    page.unroute("**/api/v1/sheets/*/summary")
    page.reload()  # the tab is left before any retry, and opened again: the text is put back and saved
    assert page.input_value("#summary-text") == "断网时写的总结"
    wait_summary_saved(page)
    assert own_sheet_summary(world) == "断网时写的总结"
    page.console.errors[:] = [e for e in page.console.errors if "net::ERR_FAILED" not in e]


def test_upload_error_lands_at_the_field_with_the_message_and_a_summary_at_the_top(live_server, page, tmp_path, world):
    import os

    from tests.browser.conftest import ARTIFACTS

    page.console.allowed_statuses.add(422)
    open_own_sheet(page, live_server)
    page.fill("#summary-text", "上传失败也不能丢的总结")
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode.")
    page.set_input_files("#document-input", str(exe))
    with page.expect_navigation():
        page.click("[data-role=upload]")
    page.wait_for_selector("#document-error")
    assert "只接受PDF" in page.inner_text("#document-error")
    assert page.evaluate("document.activeElement.id") == "document-input"
    box = page.locator("#document-input").bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 1024  # the page opened at the field
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "upload-error-at-field.png"))
    assert page.input_value("#summary-text") == "上传失败也不能丢的总结"
    # the summary at the top names the problem and leads to the field
    page.evaluate("window.scrollTo(0, 0)")
    summary = page.locator("[data-testid=error-summary]")
    assert "只接受PDF" in summary.inner_text()
    page.screenshot(path=os.path.join(ARTIFACTS, "upload-error-summary.png"))
    page.evaluate("document.activeElement.blur()")
    summary.locator("a[href='#document-input']").click()
    page.wait_for_function("() => document.activeElement.id === 'document-input'")
    page.wait_for_function("() => { const r = document.getElementById('document-input').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert own_sheet_summary(world) == "上传失败也不能丢的总结"


def test_village_deletes_a_document_after_confirming(live_server, page, tmp_path):
    open_own_sheet(page, live_server)
    pdf = tmp_path / "旧台账.pdf"
    pdf.write_bytes(PDF)  # a real one-page PDF (services.filecheck opens it)
    page.set_input_files("#document-input", str(pdf))
    with page.expect_navigation():
        page.click("[data-role=upload]")
    page.wait_for_selector("[data-testid=documents] >> text=旧台账.pdf")
    import os

    from tests.browser.conftest import ARTIFACTS

    page.click("[data-document] summary:has-text('删除')")
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.locator("#documents").screenshot(path=os.path.join(ARTIFACTS, "document-delete-confirm.png"))
    page.click("[data-document] button:has-text('确认删除')")
    page.wait_for_selector("text=材料“旧台账.pdf”已删除")
    assert "旧台账.pdf" not in page.inner_text("[data-testid=documents]")
