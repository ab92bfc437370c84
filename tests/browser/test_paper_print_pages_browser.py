"""Issue 30, point 4: pages printed from the browser — the results page, the dashboard and 变更明细 — are A4 whatever
the browser's default paper (their CSS sets @page), and the printed dashboard holds its tables' numbers (its tables
sit in <details>, closed on screen). Printed by Chromium to PDF without a paper size, read back with pdftotext."""
import os
import re
import shutil
import subprocess

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import PASSWORD
from tests.test_publication_snapshot import published  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
SHOTS = "/tmp/shots-paper"


@pytest.fixture
def app(empty_app):
    return empty_app


def _print(page, url, name) -> tuple[str, str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"paper-page-{name}.pdf")
    with open(path, "wb") as f:  # no format: the page's @page decides (Chromium's default is Letter)
        f.write(page.pdf(print_background=True, prefer_css_page_size=True))
    os.makedirs(SHOTS, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-l", "2", path, os.path.join(SHOTS, f"page-{name}")], check=True)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    return size, text


def _a4(size: str) -> bool:
    w, h = (float(x) for x in re.findall(r"([\d.]+) x ([\d.]+)", size)[0])
    return abs(w - 595.3) < 2 and abs(h - 841.9) < 2


def test_results_dashboard_and_changes_print_on_a4_and_the_dashboard_with_its_tables(published, live_server, page):
    w = published
    log_in(page, live_server, "district", PASSWORD)
    for name, url in (("results", f"/results/rounds/{w.round.id}"), ("changes", f"/results/rounds/{w.round.id}/changes")):
        size, _text = _print(page, live_server + url, name)
        assert _a4(size), (name, size)
    size, text = _print(page, f"{live_server}/results/rounds/{w.round.id}/dashboard", "dashboard")
    assert _a4(size), size
    flat = re.sub(r"\s+", "", text)
    assert "表格视图" not in flat  # the toggles do not print, the tables do
    assert "清溪镇0/1" in flat and "白沙街道1/1100.00%" in flat  # the pass rates' table (荷塘村 failed)…
    assert re.search(r"A1[^0-9]+\d+\.\d\d", flat)  # …the points lost per indicator
