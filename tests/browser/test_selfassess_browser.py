"""The self-assessment loop at tablet size: fill, submit, return with comments, fix, resubmit, approve."""
from tests.browser.conftest import log_in


def wait_all_saved(page):
    page.wait_for_function(
        "() => [...document.querySelectorAll('.indicator-card [data-role=state]')]"
        ".every(e => e.textContent === '已保存')")


def test_village_and_township_run_the_loop(live_server, browser, page):
    log_in(page, live_server, "village")
    page.click("table a:has-text('2022年度全面推行评估验收')")
    page.wait_for_selector("#ind-A1")
    for code in page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)"):
        page.click(f"#ind-{code} [data-action=full]")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    wait_all_saved(page)
    page.fill("#summary-text", "本村已实现党员联户全覆盖。")
    page.click("text=保存工作总结")
    page.wait_for_selector(".alert-success")
    page.click("text=提交评分表")
    page.wait_for_selector("text=自评表已提交镇(街道)审核")
    assert page.locator("[data-testid=read-only]").count() == 1

    lead = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()
    log_in(lead, live_server, "township")
    lead.click("[data-testid=todos] >> text=陆城村 · 自评表")
    lead.fill("#ind-A3 .comment-form input[name=comment]", "走访记录请补充到5户")
    lead.click("#ind-A3 .comment-form button")
    lead.wait_for_selector("text=意见已添加")
    lead.fill("#review-comment", "请按A3意见补充后重新提交")
    lead.click("text=退回修改")
    lead.wait_for_selector("text=陆城村的自评表已退回")

    page.reload()
    assert "走访记录请补充到5户" in page.inner_text("#ind-A3")
    assert "请按A3意见补充后重新提交" in page.inner_text("[data-testid=returned]")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='-1']")
    wait_all_saved(page)
    page.click("text=提交评分表")
    page.wait_for_selector("text=自评表已提交镇(街道)审核")

    lead.goto(live_server + "/selfassess/township")
    lead.click("[data-testid=todos] >> text=陆城村 · 自评表")
    lead.click("text=审核通过")
    lead.wait_for_selector("text=陆城村的自评表已审核通过")
    page.reload()
    history = page.inner_text("#history")
    assert history.count("已提交 → 已退回") == 1 and "已提交 → 已通过" in history
    lead.context.close()
