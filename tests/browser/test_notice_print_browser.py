"""The 通报 printed from Chromium to A4 PDF (issue 19, point 2): sections 合格 / 不合格 / 未完成 / 一票否决 per level,
units never evaluated under 未完成 with why, numbers never split across lines, the round and 草稿 or the version on
every page, the issuing offices, date, seal box and 抄送. The PDFs are written to test-artifacts/."""
import os
import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round, User
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import complete_round
from tests.factories import PILOT_DISTRICT, app_of_world, make_round  # noqa: F401 (app_of_world: fixture)

# A round of the test's own over factories.PILOT_DISTRICT: 柳湾社区 94.99 and 白沙镇 93.5 fail, 荷塘村 passes at
# 95.00 and 石桥村 at 100, 梅溪社区 is vetoed, 枫林村 is never completed.
FAILED, TOWNSHIP_FAILED, PASSED, VETOED, INCOMPLETE = "柳湾社区", "白沙镇", "石桥村", "梅溪社区", "枫林村"
TOTALS = {FAILED: "94.99", TOWNSHIP_FAILED: "93.5", "荷塘村": "95.00"}
# Every number on the page ("95.00", "失3.00分") as drawn: those whose characters sit on more than one line.
WHOLE = """() => {
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/失?\\d+\\.\\d{2}分?/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) split.push(m[0]);
    }
  }
  return split;
}"""


@pytest.fixture
def world(empty_app):
    return make_round("inspection", townships=PILOT_DISTRICT)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _page_texts(path: str) -> list[str] | None:
    if not shutil.which("pdftotext"):
        return None
    out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def _print(page, name: str) -> tuple[bytes, str]:
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"notice-{name}.pdf")
    with open(path, "wb") as f:
        f.write(pdf)
    page.emulate_media(media="screen")
    return pdf, path


def test_the_notice_prints_its_sections_whole_numbers_and_the_parts_of_an_official_notice(app, live_server, page,
                                                                                          world):
    round_ = complete_round(TOTALS, vetoes={VETOED: "V3"}, leave_out={INCOMPLETE}, round_=world.round)
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}/notice")
    passed = page.locator('[data-level="village"].pass-list').inner_text()
    assert PASSED in passed and FAILED not in passed and INCOMPLETE not in passed
    villages = page.locator('table[data-level="village"]')
    assert FAILED in villages.locator('tbody[data-section="fail"]').inner_text()
    incomplete = villages.locator('tbody[data-section="incomplete"]').inner_text()
    assert INCOMPLETE in incomplete and "无审核通过的工作组评分表" in incomplete
    assert INCOMPLETE not in villages.locator('tbody[data-section="fail"]').inner_text()
    assert VETOED in villages.locator('tbody[data-section="veto"]').inner_text()
    assert TOWNSHIP_FAILED in page.locator('table[data-level="township"] tbody[data-section="fail"]').inner_text()
    assert "（盖章）" in page.locator('[data-testid="seal"]').inner_text()
    assert "抄送" in page.locator('[data-testid="cc"]').inner_text()
    assert "区委组织部" in page.locator('[data-testid="issuer"]').inner_text()
    assert "〔" in page.locator('[data-testid="doc-no"]').inner_text()
    page.emulate_media(media="print")
    # A4 portrait less 12 mm margins each side is 186 mm ≈ 703 CSS px; numbers are never split across lines.
    assert page.evaluate("() => document.body.scrollWidth") <= 703
    assert page.evaluate(WHOLE) == []
    pdf, path = _print(page, "draft")
    pages = _pages(pdf)
    assert pages >= 1
    texts = _page_texts(path)
    if texts is not None:  # poppler-utils installed (.ci/run installs it)
        assert len(texts) == pages
        for text in texts:
            assert round_.name in text and "草稿" in text and re.search(r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页", text)


def published_notice(page, live_server, world):
    """The round completed (TOTALS, 梅溪社区 vetoed, 枫林村 left out), moved to review and published as version 1;
    the district's tablet on its 通报. Returns the round and the publication."""
    from evalapp.services import publication, rounds as rounds_service

    round_ = complete_round(TOTALS, vetoes={VETOED: "V3"}, leave_out={INCOMPLETE}, round_=world.round)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    while db.session.get(Round, round_.id).status != "review":
        rounds_service.advance(round_, admin, confirm=True)
    pub = publication.publish(round_, db.session.scalar(select(User).where(User.username == "district")),
                              confirm_incomplete=True, confirm_no_subsidy=True)
    log_in(page, live_server, "district")
    page.goto(f"{live_server}/results/rounds/{round_.id}/notice")
    return round_, pub


def test_the_published_notice_names_the_version_and_its_date_on_every_page(app, live_server, page, world):
    round_, pub = published_notice(page, live_server, world)
    assert "草稿" not in page.locator("body").inner_text()
    from zoneinfo import ZoneInfo

    day = pub.published_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert page.locator('[data-testid="issue-date"]').inner_text() == f"{day.year}年{day.month}月{day.day}日"
    assert f"〔{day.year}〕" in page.locator('[data-testid="doc-no"]').inner_text()
    page.emulate_media(media="print")
    assert page.evaluate(WHOLE) == []
    pdf, path = _print(page, "official")
    texts = _page_texts(path)
    if texts is not None:
        assert len(texts) == _pages(pdf)
        for text in texts:
            assert round_.name in text and f"第{pub.version}版" in text
