"""Real Chromium (Debian's /usr/bin/chromium) through Playwright, against the app served from a thread."""
import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def pytest_collection_modifyitems(items):
    if os.environ.get("TEST_DATABASE_URL"):
        # .ci/run: the browser walks run in the SQLite pass; the PostgreSQL pass holds the services and the HTTP
        # faces to the other engine, not the same pages again (the suite must stay under 30 minutes on two cores).
        skip = pytest.mark.skip(reason="browser tests run in the SQLite pass")
    elif os.path.exists(CHROMIUM):
        return
    else:
        skip = pytest.mark.skip(reason="Chromium not installed (/usr/bin/chromium); apt-get install chromium")
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):  # the tests that drive Chromium (page uses browser)
            item.add_marker(skip)


def _closed_before_sent(app):
    """Each response read whole and closed before werkzeug writes it.

    When the browser drops a connection mid-response (a reload while the favicon is on its way), werkzeug's
    development server can leave the response's file unclosed; the ResourceWarning then surfaces in whatever
    test runs next (CI, 2026-11-29). Buffering every response is fine for tests.
    """

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


@pytest.fixture
def live_server(app):
    """The test's app on 127.0.0.1 and a free port, in a thread."""
    server = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Console:
    """Console errors of a page; resource errors for statuses a test expects can be allowed."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed_statuses: set[int] = set()

    def record(self, msg):
        if msg.type != "error":
            return
        text = msg.text
        if any(f"status of {code}" in text for code in self.allowed_statuses):
            return
        self.errors.append(text)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    console = Console()
    page.on("console", console.record)
    page.on("pageerror", lambda exc: console.errors.append(str(exc)))
    page.console = console
    yield page
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=True)
    context.close()
    assert console.errors == [], f"console errors: {console.errors}"


def log_in(page, base: str, username: str, password: str = "demo-pass-2021") -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
