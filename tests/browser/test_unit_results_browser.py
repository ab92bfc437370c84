"""Issue 32, point 1 at tablet size: after publication the village lead follows the to-do to its unit's results,
sees the 问题清单 with the photo behind it, and opens the printable 问题清单 — A4, its head on every page, the version
and checksum at the foot; in English the pages read in English while the paper stays Chinese."""
import os
import re
import shutil
import subprocess

import pytest

from evalapp.services import publication, readmodel
from tests.browser.conftest import log_in
from tests.browser.test_axe_browser import _check, _tablet
from tests.browser.test_english_browser import walk
from tests.factories import TOWNSHIP, VILLAGE, make_round
from tests.test_unit_results import _round_ready

SHOTS = "/tmp/shots-units"


@pytest.fixture
def world(empty_app):
    w = _round_ready(make_round("inspection", self_assessed=True))
    publication.publish(w.round, w.people["district"], confirm_no_subsidy=True)
    return w


@pytest.fixture(name="app")
def app_of_published(empty_app, world):
    return empty_app


def _shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _pdf_pages(page, name) -> list[str]:
    page.emulate_media(media="print")
    path = os.path.join(SHOTS, f"{name}.pdf")
    with open(path, "wb") as f:
        f.write(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    page.emulate_media(media="screen")
    if shutil.which("pdftotext") is None:
        return []
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", path, "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


def test_the_village_lead_follows_the_todo_to_its_results_and_prints_the_problem_list(app, world, live_server,
                                                                                        page):
    w = world
    pub = readmodel.latest(w.round.id)
    log_in(page, live_server, "village")
    todo = page.locator(f'[data-round-todo="results-{w.round.id}"] a')
    assert todo.inner_text() == "第1版结果已公布：查看本单位评估结果和问题清单"
    _shot(page, "1-village-home-todo")
    todo.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/results/rounds/{w.round.id}/units/{w.units[VILLAGE].id}")
    assert page.locator('[data-testid="version"]').inner_text().startswith("第1版结果")
    unit = next(u for u in readmodel.unit_rows(pub.id) if u.name == VILLAGE)
    assert page.locator('[data-testid="total"]').inner_text() == f"{unit.final_total:.2f}"
    problems = page.locator('[data-testid="problems"] tbody tr')
    assert problems.count() >= 1
    # The photo behind a deducted indicator is shown: its thumbnail loads through the scope-checked route.
    thumbs = page.locator('[data-testid="photos"] img')
    assert thumbs.count() >= 1
    for i in range(thumbs.count()):
        thumbs.nth(i).scroll_into_view_if_needed()
        assert thumbs.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768  # no sideways scrolling
    _shot(page, "2-village-unit-page")

    page.click('[data-testid="print-problems"]')
    page.wait_for_load_state("load")
    assert page.url.endswith("/print")
    _shot(page, "3-village-problem-list-print")
    # A4, the table's head repeated on every printed page, no row split across two
    assert page.evaluate("() => getComputedStyle(document.querySelector('.problem-table thead')).display") \
        == "table-header-group"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.problem-table tbody tr')).breakInside") \
        == "avoid"
    pages = _pdf_pages(page, "3-village-problem-list")
    if pages:
        assert all("问题清单" in text and "第1版" in text for text in pages)  # the head on every page
        assert pub.sha256[:16] in pages[-1].replace(" ", "").replace("\n", "")
        assert "扣分原因" in pages[0]


def test_the_township_reads_its_pages_in_english_and_the_paper_stays_chinese(app, world, live_server, page):
    w = world
    log_in(page, live_server, "township")
    page.locator(".lang-switch button[value=en]").click()
    page.wait_for_load_state("load")
    start = f"{live_server}/results/rounds/{w.round.id}/units/{w.units[TOWNSHIP].id}"
    page.goto(start)
    _shot(page, "4-township-unit-page-en")
    found = walk(page, live_server, extra=[start, f"{live_server}/results/units"])
    assert found == {}
    page.goto(start + "/print")
    assert "问题清单" in page.content() and re.search(r"Problem list", page.content()) is None


def test_the_unit_pages_pass_axe_and_the_tablet_measures(app, world, live_server, browser):
    """axe-core and the walk's measures (touch targets, cells wrapped at 768 px, one h1, no sideways scrolling) on
    the pages a demo walk cannot reach published: a village's, a township's with its villages, the rounds list."""
    findings, errors = [], []
    for username, paths in (("village", [f"/results/rounds/{world.round.id}/units/{world.units[VILLAGE].id}",
                                         "/results/units"]),
                            ("township", [f"/results/rounds/{world.round.id}/units/{world.units[TOWNSHIP].id}"])):
        context, tab = _tablet(browser, errors)
        log_in(tab, live_server, username)
        for path in paths:
            assert tab.goto(live_server + path).ok, path
            _check(tab, live_server, findings)
        context.close()
    assert findings == [] and errors == []
