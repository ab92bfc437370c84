"""Issue 30, rest of point 2: the printed 通报 carries its 文号 from the sequence, the version's SHA-256 in the running
foot of every page (not in the body), and its closing — issuer, seal, 版记 (抄送, 印发) — whole on one page with the
body's last lines. Printed by Chromium to PDF, read back page by page (pdftotext)."""
import re
import shutil
import subprocess

import pytest

from tests.browser.test_notice_print_browser import _print, published_notice
from tests.factories import PILOT_DISTRICT, app_of_world, make_round  # noqa: F401 (app_of_world: fixture)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
SHOTS = "/tmp/shots-paper"
CLOSING = ("区委组织部", "盖章", "抄送", "印发", "年", "SHA-256", "评估验收结果通报", "第")


@pytest.fixture
def world(empty_app):
    return make_round("inspection", townships=PILOT_DISTRICT)


def test_the_notice_numbers_itself_and_keeps_its_checksum_in_the_foot_and_its_closing_whole(app, live_server,
                                                                                               page, world):
    _round, pub = published_notice(page, live_server, world)
    assert page.locator('[data-testid="doc-no"]').inner_text() == pub.doc_number
    assert re.fullmatch(r"云溪民发〔\d{4}〕1号", pub.doc_number)
    body = page.locator('.notice-doc').inner_text()
    assert pub.sha256 not in body  # the body names the version, the foot its checksum
    _pdf, path = _print(page, "paper-official")
    subprocess.run(["pdftoppm", "-png", "-r", "60", path, f"{SHOTS}/notice-official"], check=True)
    out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in out.split("\f") if p.strip()]
    for n, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert text.count("SHA-256") == 1, n
        foot = " ".join(lines[-3:]).replace(" ", "")
        assert pub.sha256[:32] in foot, (n, lines[-3:])  # at the foot of the page, the page number below it
    closing = [n for n, text in enumerate(pages) if "抄送" in text]
    assert len(closing) == 1
    last = pages[closing[0]]
    assert "印发" in last and "区委组织部" in last and "盖章" in last
    others = [line for line in last.splitlines() if line.strip() and not any(w in line for w in CLOSING)]
    assert others, "the closing has a page of its own"
