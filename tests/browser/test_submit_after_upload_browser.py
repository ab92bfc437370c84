"""提交自评表 tapped as soon as the page an upload returns to has loaded (the village's click that did nothing, seen
once in three or four parallel runs of test_round_e2e).

The upload's redirect lands at #documents, and the stylesheet makes scrolling smooth (Bootstrap's :root
scroll-behavior): the browser's jump to the fragment glided for about 1.5 s after the load event, through every card,
and in its first ~110 ms it carried the sticky bar with the submit button up from its place to the top. A tap begun
on the button (pointerdown) ended beside it (pointerup on a card or the page), so the click went to a common
ancestor: no question, no request, every card saved. static/js/app.js (every page) now arrives at the fragment at once."""
import os
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import rounds as round_service
from evalapp.services.moves import today_local
from tests import factories
from tests.browser.conftest import ARTIFACTS, CHROMIUM, Console  # noqa: F401 (CHROMIUM: skip marker)
from tests.files import PDF

TAP_MS = 120  # how long a finger rests on a tablet's screen in a tap


@pytest.fixture
def app(empty_app):
    return empty_app


@pytest.fixture
def sheet_id(app):
    units = factories.units({"清溪镇": ["荷塘村"]})
    admin = factories.user("admin", "admin", display_name="区民政局管理员")
    factories.user("village", "village", units["荷塘村"], "荷塘村协理员")
    today = today_local()
    round_ = factories.round_("2026年度试点评估验收（上传后提交）", [units["清溪镇"], units["荷塘村"]], admin,
                              self_due=today + timedelta(days=3), township_due=today + timedelta(days=6))
    round_service.advance(round_, admin)  # → self-assessment
    return db.session.scalar(db.select(Sheet.id).where(Sheet.unit_id == units["荷塘村"].id, Sheet.kind == "self"))


def tap(page, selector):
    """A finger's tap: down on the element's middle where it is now, up TAP_MS later at the same place."""
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(TAP_MS)
    page.mouse.up()


def upload(page, path):
    page.set_input_files("#document-input", str(path))
    with page.expect_navigation():
        page.click("[data-role=upload]")
    assert page.evaluate("location.hash") == "#documents"


def test_submit_tapped_at_once_after_an_upload_asks_and_submits(sheet_id, live_server, browser, tmp_path):
    document = tmp_path / "走访记录汇总.pdf"
    document.write_bytes(PDF)  # a real one-page PDF (services.filecheck opens it)
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    console = Console()
    page.on("console", console.record)
    page.on("pageerror", lambda exc: console.errors.append(str(exc)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    os.makedirs(ARTIFACTS, exist_ok=True)
    try:
        page.goto(live_server + "/login")
        page.fill("#username", "village")
        page.fill("#password", factories.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        page.goto(f"{live_server}/selfassess/sheets/{sheet_id}")
        for code in page.eval_on_selector_all(".indicator-card", "els => els.map(e => e.dataset.code)"):
            page.click(f"#ind-{code} [data-action=full]")
        page.wait_for_function("() => [...document.querySelectorAll('.indicator-card [data-role=state]')]"
                               ".every(e => e.textContent.startsWith('已保存'))")
        page.fill("#summary-text", "荷塘村工作总结。")
        page.wait_for_function("() => document.querySelector('[data-role=summary-state]').textContent"
                               ".startsWith('已保存')")

        # The page the upload returns to is at its documents when it has loaded, and stays there.
        upload(page, document)
        at_load = page.evaluate("scrollY")
        page.wait_for_timeout(400)
        assert page.evaluate("scrollY") == at_load > 0, "the page moved after it had loaded"
        top = page.evaluate("document.getElementById('documents').getBoundingClientRect().top")
        assert 0 <= top < 1024, f"#documents not in view ({top})"
        # Smooth scrolling is back for in-page jumps (the jump list's links) once the page has settled.
        page.wait_for_function("() => document.documentElement.style.scrollBehavior === ''"
                               " && getComputedStyle(document.documentElement).scrollBehavior === 'smooth'")
        page.screenshot(path=os.path.join(ARTIFACTS, "submit-after-upload-landed.png"))

        # Another document, and 提交自评表 tapped the moment the page is back: it asks, then submits.
        upload(page, document)
        try:
            with page.expect_navigation(timeout=10_000):
                tap(page, "[data-role=submit-form] button[type=submit]")
        except PlaywrightTimeout:
            page.screenshot(path=os.path.join(ARTIFACTS, "submit-after-upload-nothing.png"))
            pytest.fail(f"提交自评表 tapped after the upload led nowhere; dialogs: {dialogs}")
        assert len(dialogs) == 1 and "提交后由镇(街道)审核" in dialogs[0] and "100.00" in dialogs[0]
        assert page.locator("[data-testid=read-only]").count() == 1
        page.screenshot(path=os.path.join(ARTIFACTS, "submit-after-upload-submitted.png"))
        db.session.expire_all()
        assert db.session.get(Sheet, sheet_id).status == "submitted"
    finally:
        context.close()
    assert console.errors == [], f"console errors: {console.errors}"
