"""Chromium on a repeat visit asks for the page alone: the stylesheets and scripts come from its cache, unasked
(fingerprinted and immutable, issue 16 point 7); and what it does ask for comes compressed. On a round of the
test's own (make_round)."""
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from evalapp.extensions import db
from evalapp.models import Sheet, User
from tests.browser.conftest import _closed_before_sent, log_in
from tests.factories import app_of_world, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def counted_server(app):
    """The app served from a thread, every request it receives recorded: (path with query, Content-Encoding)."""
    seen: list[tuple[str, str]] = []
    inner = _closed_before_sent(app)

    def wsgi(environ, start_response):
        path = environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")

        def recording(status, headers, exc_info=None):
            seen.append((path, dict(headers).get("Content-Encoding", "")))
            return start_response(status, headers, exc_info)

        return inner(environ, recording)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    thread.join(5)


def test_a_repeat_visit_to_the_scoring_page_asks_for_the_page_alone(counted_server, page):  # server outlives page
    base, seen = counted_server
    inspector = db.session.scalar(select(User).where(User.role == "inspector").order_by(User.id))
    sheet = db.session.scalar(select(Sheet).where(Sheet.inspector_id == inspector.id).order_by(Sheet.id))
    log_in(page, base, inspector.username)
    url = f"{base}/inspection/sheets/{sheet.id}"
    del seen[:]
    page.goto(url)
    page.wait_for_load_state("load")
    first = list(seen)
    assets = [(path, enc) for path, enc in first if path.startswith("/static/")]
    # the stylesheets came with the log-in page already, and were not asked for again; the page's own script too
    # when the service worker (issue 31), installed on the log-in page, cached it then
    assert all("?v=" in path for path, _ in assets), assets
    assert not any(".css" in path for path, _ in assets), assets
    assert all(enc in ("zstd", "br", "gzip") for path, enc in assets if not path.startswith("/static/favicon")), assets
    [(_, page_encoding)] = [(p, e) for p, e in first if p.startswith("/inspection/")]
    assert page_encoding in ("zstd", "br", "gzip")

    page.goto(f"{base}/")  # away and back, as an inspector moves between sheets
    page.wait_for_load_state("load")
    del seen[:]
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_selector(".indicator-card")
    assert [path for path, _ in seen if path.startswith("/static/")] == []
    assert [path for path, _ in seen] == [f"/inspection/sheets/{sheet.id}"]
    # the page works from its cached scripts: a step on a deduction chip is counted
    card = page.locator(".indicator-card", has=page.locator(".rule-chip")).first
    card.locator(".rule-chip [data-step='1']").first.click()
    assert card.locator(".rule-chip [data-role='count']").first.inner_text() == "1"
    state = card.locator("[data-role='state']").element_handle()
    page.wait_for_function("el => el.textContent.includes('已保存')", arg=state)  # saved before the server stops
