"""Issue 19 point 1: the printed 评分表 names its unit, round and version (or 草稿) on every page and numbers the
pages, its sign-off rows never wrap — printed by Chromium to PDF and read back page by page (pdftotext)."""
import os
import shutil
import subprocess

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Sheet
from evalapp.services import publication, rounds as rounds_service
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import (  # noqa: F401  (app_of_world, world: fixtures)
    OTHER_TOWNSHIP, OTHER_VILLAGE, PASSWORD, TOWNSHIP, VILLAGE, app_of_world, world,
)
from tests.test_publication_snapshot import _score_final

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")


def _pages(pdf_path: str) -> list[str]:
    info = subprocess.run(["pdfinfo", pdf_path], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", pdf_path, "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


def _print(page, url, name):
    page.goto(url)
    page.emulate_media(media="print")
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"print-sheet-{name}.pdf")
    with open(path, "wb") as f:
        f.write(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    page.emulate_media(media="screen")
    return _pages(path)


def test_every_page_of_the_printed_sheet_names_its_unit_and_version(app, world, live_server, page):
    w = world
    for name, total in ((TOWNSHIP, "97"), (VILLAGE, "80"), (OTHER_TOWNSHIP, "95"), (OTHER_VILLAGE, "99")):
        _score_final(w, name, total)
    final = db.session.scalar(select(Sheet).where(Sheet.round_id == w.round.id, Sheet.kind == "final",
                                                  Sheet.unit_id == w.units[VILLAGE].id))
    log_in(page, live_server, "district", PASSWORD)
    draft = _print(page, f"{live_server}/results/sheets/{final.id}/print", "draft")
    assert len(draft) >= 2, "a village's sheet with its sign-off runs over two pages"
    for n, text in enumerate(draft, start=1):
        assert VILLAGE in text and w.round.name in text and "草稿" in text, f"page {n}"
        assert f"第{n}页/共{len(draft)}页" in text.replace(" ", ""), f"page {n}"
    last = draft[-1]
    assert "工作组组长" in last and "被评单位代表" in last and "区级审核" in last
    rounds_service.advance(w.round, w.people["admin"], confirm=True)
    pub = publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    official = _print(page, f"{live_server}/results/sheets/{final.id}/print", "official")
    for n, text in enumerate(official, start=1):
        assert VILLAGE in text and f"第{pub.version}版" in text and "草稿" not in text, f"page {n}"
    assert pub.sha256 in "".join(official).replace("\n", "").replace(" ", "")
    assert "admin" in official[-1] and "审核通过" in official[-1]  # the approval the version was published on
