"""A long export as a job in Chromium at 768×1024 (issue 34, point 2): the district asks for the workbook, the job
(run by a thread of the app, the embedded default) is held mid-way by a test hook, the page's bar shows it running;
released, the page offers the file and the download is the workbook."""
import io
import threading

import openpyxl
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Round
from evalapp.services import export
from tests.browser.conftest import log_in
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


def test_the_district_sees_the_workbook_job_progress_then_the_file(app, live_server, browser, monkeypatch):
    reached, released = threading.Event(), threading.Event()

    def hold(job_id, done, total):  # the first progress the job tells: wait for the test (a barrier, no sleep)
        if not released.is_set():
            reached.set()
            assert released.wait(60)

    monkeypatch.setattr(export, "PROGRESS_ROWS", 1)
    app.config.update(JOBS_RUNNER="thread", JOBS_TEST_HOOK=hold, JOBS_POLL_MS=200)
    round_id = db.session.scalar(select(Round.id).order_by(Round.id))
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, live_server, "district")
        page.goto(f"{live_server}/results/rounds/{round_id}")
        page.click("[data-testid=workbook-job]")
        page.wait_for_url(f"{live_server}/jobs/*")
        assert reached.wait(60)
        page.wait_for_selector("#job[data-state=running]")
        bar = page.locator("[data-testid=job-progress]")
        assert bar.is_visible() and page.get_by_text("正在生成…").is_visible()
        assert int(bar.get_attribute("aria-valuenow")) < 100
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        assert not page.locator("[data-testid=job-file]").is_visible()
        released.set()
        link = page.locator("[data-testid=job-file]")
        link.wait_for(state="visible")
        assert bar.get_attribute("aria-valuenow") == "100"
        with page.expect_download() as info:
            link.click()
        assert info.value.suggested_filename.endswith(".xlsx")
        with open(info.value.path(), "rb") as f:
            assert openpyxl.load_workbook(io.BytesIO(f.read())).sheetnames
    finally:
        released.set()
        app.config.update(JOBS_RUNNER="sync", JOBS_TEST_HOOK=None)
        context.close()
    assert errors == []
