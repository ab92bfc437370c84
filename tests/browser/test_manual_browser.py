"""帮助 in Chromium: the header's entry opens the reader's own role, the pictures load, and the whole manual prints
on A4 without the navigation bar, each role from a new page (issue 29 point 8)."""
import io
import unicodedata

from pypdf import PdfReader

from .conftest import log_in
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

RADICALS = str.maketrans({"⻓": "长", "⻚": "页"})
ROLES = ["village", "township", "inspector", "leader", "district", "finance", "admin"]


def test_help_opens_the_readers_page_with_its_pictures(app, live_server, page):
    log_in(page, live_server, "leader")
    page.get_by_test_id("help").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/help/leader")
    assert page.locator("h1").inner_text().startswith("操作手册")
    images = page.locator(".manual-shot img")
    assert images.count() >= 2
    for i in range(images.count()):  # each picture loaded (a missing file has no natural width)
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth") == 768


def test_the_whole_manual_prints_a_role_a_page_without_the_navigation(app, live_server, page):
    log_in(page, live_server, "village")
    page.goto(live_server + "/help/all")
    page.emulate_media(media="print")
    assert page.locator("nav.navbar").is_hidden()
    assert page.locator("[data-action=print]").is_hidden()
    starts = page.eval_on_selector_all(
        ".manual-role", "els => els.map(e => getComputedStyle(e).breakBefore)")
    assert starts[1:] == ["page"] * (len(ROLES) - 1)
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=False)))
    # (the PDF's text spells some characters as radicals, ⼈ for 人 and ⻓ for 长: NFKC and RADICALS undo it)
    texts = [unicodedata.normalize("NFKC", p.extract_text()).translate(RADICALS).strip().splitlines()
             for p in pdf.pages]
    assert texts[0][0] == "操作手册" and texts[0][1] == "村(社区)协理员"
    first_lines = [t[0] for t in texts if t]
    # each other role's title heads a page of its own
    for title in ["镇(街道)负责人", "工作组成员", "工作组组长", "区级审核", "区财政局", "系统管理员"]:
        assert title in first_lines, (title, first_lines)
    page.emulate_media(media="screen")
