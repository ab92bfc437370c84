"""Scoring without a signal (issue 31, the browser's side) in headless Chromium at 768×1024, on a round of the test's
own: the inspector prepares the worklist's sheets (离线准备), loses the network (the browser offline and the server
stopped, so that the service worker's own requests fail too), opens the sheet from the device, scores five
indicators, closes and reopens the page, and when the network is back the server holds every change exactly once;
a queue left by one user is neither readable nor sent by another; a new service worker keeps the waiting changes;
a conflict ends with the inspector's choice. Screenshots of each state go to /tmp/shots-offline/."""
import os
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from evalapp.extensions import db
from evalapp.models import AuditEvent, Indicator, Score, SyncOperation
from tests.browser.conftest import _closed_before_sent, log_in
from tests.factories import PASSWORD, VILLAGE, app_of_world, make_score, make_sheet, world  # noqa: F401 (fixtures)

SHOTS = "/tmp/shots-offline"
CODES = ["A1", "A2", "A3", "B1", "B2"]


class Server:
    """The test's app on one port, stopped and started again on the same port (the origin the service worker and
    IndexedDB belong to)."""

    def __init__(self, app):
        self.wsgi = _closed_before_sent(app)
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def server(app):
    s = Server(app)
    yield s
    s.stop()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    ctx.errors = []
    ctx.allowed_statuses = set()  # statuses a test expects the server to answer

    def record(msg):
        # With no network, the browser reports the requests that failed: expected here, nothing else is.
        if msg.type == "error" and "net::ERR_" not in msg.text and "Failed to fetch" not in msg.text \
                and not any(f"status of {code}" in msg.text for code in ctx.allowed_statuses):
            ctx.errors.append(msg.text)

    ctx.on("console", record)
    ctx.on("weberror", lambda err: ctx.errors.append(str(err.error)))
    yield ctx
    ctx.close()
    assert ctx.errors == [], f"console errors: {ctx.errors}"


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    if hasattr(page, "goto"):
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))
    else:  # an element
        page.scroll_into_view_if_needed()
        page.page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def state(page, code):
    return page.inner_text(f"#ind-{code} [data-role=state]")


def wait_state(page, code, text):
    page.wait_for_function(
        "([code, text]) => document.querySelector('#ind-' + code + ' [data-role=state]').textContent.startsWith(text)",
        arg=[code, text])


def prepare(page, base):
    page.goto(base + "/inspection/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.click("#offline-panel [data-action=prepare]")
    page.wait_for_function("() => document.querySelector('#offline-panel [data-role=offline-status]')"
                           ".textContent.startsWith('本机已存')")


def go_offline(context, server):
    context.set_offline(True)
    server.stop()


def go_online(context, server):
    server.start()
    context.set_offline(False)


def scores(sheet):
    db.session.expire_all()
    return {code: (points, version) for code, points, version in db.session.execute(
        select(Indicator.code, Score.points, Score.version).join(Score.indicator).where(Score.sheet_id == sheet.id))}


def score_audits(sheet):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "score.save",
        AuditEvent.object_id.in_(select(Score.id).where(Score.sheet_id == sheet.id))))


def test_prepared_sheet_scored_offline_survives_closing_and_syncs_once(server, context, world):
    sheet = make_sheet(world, VILLAGE)
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    assert page.locator("#offline-panel [data-prepared]").count() >= 2  # 清溪镇 and 荷塘村
    assert "本机存储已用" in page.inner_text("#offline-panel [data-role=usage]")
    shot(page, "prepared-list")

    go_offline(context, server)
    page.goto(url)  # from the device: the server is down
    page.wait_for_selector("#ind-A1")
    page.wait_for_selector("[data-testid=offline-badge]", state="visible")
    for code in CODES:
        page.click(f"#ind-{code} [data-action=full]")
    for code in CODES:
        wait_state(page, code, "待同步")
    page.wait_for_function("() => document.querySelector('[data-role=queue-count]').textContent === '5'")
    shot(page, "offline-pending")
    assert scores(sheet) == {}

    page.close()  # the tab closed; opened again, still with no network
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#ind-A1")
    for code in CODES:
        wait_state(page, code, "待同步")
    assert page.inner_text("#ind-A1 [data-role=score]") != "—"

    go_online(context, server)
    for code in CODES:
        wait_state(page, code, "已同步")
    page.wait_for_function("() => document.querySelector('[data-role=queue-banner]').hidden")
    shot(page, "synced")
    saved = scores(sheet)
    assert sorted(saved) == CODES and all(version == 1 for _, version in saved.values())
    assert score_audits(sheet) == 5
    assert db.session.scalar(select(func.count()).select_from(SyncOperation)) == 5  # through POST /api/v1/sync
    page.reload()  # nothing left to send twice
    page.wait_for_selector("#ind-A1")
    page.evaluate("window.EvalappOffline.syncNow()")
    assert scores(sheet) == saved and score_audits(sheet) == 5


def ready(page):
    """Whether the page has its user's key (evaluate awaits the promise: wait_for_function would not)."""
    return page.evaluate("() => EvalappOffline.ready.then(r => r !== null)")


def queue_becomes(page, length, seconds=30):
    """Wait, in the page, until the user's queue holds `length` changes (False after `seconds`)."""
    return page.evaluate("""async ([length, seconds]) => {
        const r = await EvalappOffline.ready, end = Date.now() + seconds * 1000;
        while (Date.now() < end) {
            if ((await EvalappOffline.queue(r.user, r.key)).length === length) { return true; }
            await new Promise(done => setTimeout(done, 50));
        }
        return false;
    }""", [length, seconds])


def queued_records(page, user_id):
    """How many sealed records the device's queue holds for a user (read without any key)."""
    return page.evaluate("id => EvalappOffline.db().then(d => d.countFromIndex('queue', 'user', id))", user_id)


def test_a_queue_left_by_one_user_is_neither_read_nor_sent_by_another_and_syncs_for_its_owner(server, context,
                                                                                               world):
    """The inspector's session ends while changes wait (cookies gone: expired, or logged out elsewhere); the leader
    logs in on the same tablet: the queue stays sealed and unsent; the inspector logs in again and it syncs as them."""
    sheet = make_sheet(world, VILLAGE)
    inspector, leader = world.people["inspector"], world.people["leader"]
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(url)
    page.wait_for_selector("#ind-A1")
    for code in CODES[:2]:
        page.click(f"#ind-{code} [data-action=full]")
        wait_state(page, code, "待同步")
    page.close()
    context.clear_cookies()  # the session is gone
    go_online(context, server)

    page = context.new_page()
    log_in(page, server.url, "leader", PASSWORD)
    page.goto(server.url + "/inspection/")
    assert ready(page)
    page.evaluate("EvalappOffline.syncNow()")
    assert queued_records(page, inspector.id) == 2
    sealed = page.evaluate("""ids => EvalappOffline.ready.then(mine => Promise.all([
        EvalappOffline.getKey(ids[0]),
        EvalappOffline.queue(ids[0], mine.key).then(() => 'read', () => 'refused'),
        EvalappOffline.storedResponse(ids[1]),
        mine.user]))""", [inspector.id, f"/inspection/sheets/{sheet.id}"])
    assert sealed == [None, "refused", None, leader.id]
    assert scores(sheet) == {}
    page.click("text=退出")
    page.wait_for_url("**/login**")

    log_in(page, server.url, "inspector", PASSWORD)
    page.goto(url)
    for code in CODES[:2]:
        wait_state(page, code, "已同步")
    assert sorted(scores(sheet)) == CODES[:2] and score_audits(sheet) == 2
    assert queued_records(page, inspector.id) == 0


def test_a_new_service_worker_keeps_the_waiting_changes(server, context, world, monkeypatch):
    """A deploy while changes wait (sync refused meanwhile: the server answers 503): the new worker takes over and
    drops the old caches only; the queue is intact and goes out once the server takes it."""
    from flask import abort

    import evalapp.api.sync as sync_api

    refused = {"on": True}
    apply = sync_api.sync_service.apply

    def refusing(*args, **kwargs):
        if refused["on"]:
            abort(503)
        return apply(*args, **kwargs)

    monkeypatch.setattr(sync_api.sync_service, "apply", refusing)
    context.allowed_statuses.add(503)
    sheet = make_sheet(world, VILLAGE)
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(url)
    page.wait_for_selector("#ind-A1")
    for code in CODES[:3]:
        page.click(f"#ind-{code} [data-action=full]")
        wait_state(page, code, "待同步")
    go_online(context, server)
    old = page.evaluate("caches.keys()")

    import evalapp.offline as offline
    real = offline.fingerprint
    monkeypatch.setattr(offline, "fingerprint", lambda name: "0a0a0a0a0a0a" if name == "js/app.js" else real(name))
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.wait_for_function("old => caches.keys().then(k => k.length === 1 && k[0] !== old[0])", arg=old)
    page.reload()
    page.wait_for_selector("#ind-A1")
    for code in CODES[:3]:
        wait_state(page, code, "待同步")
    assert scores(sheet) == {}

    refused["on"] = False
    page.evaluate("EvalappOffline.syncNow()")
    for code in CODES[:3]:
        wait_state(page, code, "已同步")
    assert sorted(scores(sheet)) == sorted(CODES[:3]) and score_audits(sheet) == 3


def test_a_conflict_shows_both_values_and_ends_with_the_inspectors_choice(server, context, world):
    """Scored offline on the tablet while the same indicator was saved from another device: the sync answers a
    conflict, the card shows both values and who made the other; 保留我的 sends the tablet's on the new version."""
    sheet = make_sheet(world, VILLAGE)
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(url)
    page.wait_for_selector("#ind-A3")
    page.click("#ind-A3 [data-rule='A3-1'] [data-step='1']")
    page.click("#ind-A2 [data-action=full]")
    wait_state(page, "A3", "待同步")
    wait_state(page, "A2", "待同步")
    make_score(sheet, "A3", "5.00", by=world.people["inspector"])  # the other device
    go_online(context, server)
    wait_state(page, "A3", "保存冲突")
    wait_state(page, "A2", "已同步")
    assert page.is_visible("#ind-A3 [data-role=conflict]")
    assert page.inner_text("#ind-A3 [data-role=mine]") == "7.00"
    assert page.inner_text("#ind-A3 [data-role=theirs]") == "5.00"
    shot(page.locator("#ind-A3"), "conflict")
    page.click("#ind-A3 [data-action=keep-mine]")
    wait_state(page, "A3", "已同步")
    saved = scores(sheet)
    assert str(saved["A3"][0]) == "7.00" and saved["A3"][1] == 2


def test_a_change_refused_because_the_sheet_was_submitted_stays_visible_and_exportable(server, context, world):
    from evalapp.services import moves
    from evalapp.services.seed import fill_sheet

    sheet = make_sheet(world, VILLAGE)
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(url)
    page.wait_for_selector("#ind-A3")
    page.fill("#note-A3", "离线写的备注")
    wait_state(page, "A3", "待同步")
    fill_sheet(sheet, world.people["inspector"], "other-device")
    moves.submit_sheet(sheet, world.people["inspector"])
    go_online(context, server)
    wait_state(page, "A3", "被拒绝")
    page.wait_for_selector("[data-action=export-queue]:visible")
    shot(page, "rejected")
    with page.expect_download() as download:
        page.click("[data-action=export-queue]")
    import json
    with open(download.value.path(), encoding="utf-8") as f:
        exported = json.loads(f.read())
    assert exported["user"] == world.people["inspector"].id
    assert [(i["op"]["indicator"], i["state"], i["op"]["body"]["note"]) for i in exported["items"]] == [
        ("A3", "rejected", "离线写的备注")]


def test_a_photo_taken_offline_is_downscaled_waits_and_is_uploaded_once(server, context, world, tmp_path):
    import io

    from PIL import Image

    from evalapp.models import EvidenceFile as Evidence

    photo = tmp_path / "field.jpg"
    Image.new("RGB", (3000, 1500), (200, 120, 10)).save(photo, "JPEG")
    sheet = make_sheet(world, VILLAGE)
    url = f"{server.url}/inspection/sheets/{sheet.id}"
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(url)
    page.wait_for_selector("#ind-A3")
    page.click("#ind-A3 [data-action=full]")
    page.set_input_files("#ind-A3 [data-role=photo-input]", str(photo))
    page.wait_for_selector("#ind-A3 [data-queued-photo] img")
    assert "照片已缩小并加密保存在本机" in page.inner_text("#ind-A3 [data-role=photo-state]")
    shot(page.locator("#ind-A3 [data-role=photos]"), "photo-pending")
    page.close()

    go_online(context, server)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#ind-A3 [data-photo] img")
    assert page.locator("#ind-A3 [data-queued-photo]").count() == 0
    db.session.expire_all()
    stored = db.session.scalars(select(Evidence).where(Evidence.sheet_id == sheet.id)).all()
    assert len(stored) == 1 and stored[0].content_type == "image/jpeg"
    href = page.get_attribute("#ind-A3 [data-photo] a", "href")
    body = page.request.get(server.url + href).body()
    assert Image.open(io.BytesIO(body)).size == (2048, 1024)
    assert sorted(scores(sheet)) == ["A3"]


def test_a_queue_exported_on_one_tablet_and_imported_on_another_by_the_same_user_is_applied_once(server, browser,
                                                                                                 context, world):
    """The last resort: the waiting changes exported to a file on a tablet that cannot reach the server, imported on
    another by the same user, go through the same sync; when the first tablet comes back its copies are answered
    as duplicates: the server holds each change once."""
    import json

    sheet = make_sheet(world, VILLAGE)
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    prepare(page, server.url)
    go_offline(context, server)
    page.goto(f"{server.url}/inspection/sheets/{sheet.id}")
    page.wait_for_selector("#ind-A1")
    for code in CODES[:2]:
        page.click(f"#ind-{code} [data-action=full]")
        wait_state(page, code, "待同步")
    page.goto(server.url + "/inspection/")  # the worklist, from the device
    page.wait_for_selector("#offline-panel [data-action=export]:visible")
    with page.expect_download() as download:
        page.click("#offline-panel [data-action=export]")
    exported = download.value.path()
    with open(exported, encoding="utf-8") as f:
        assert len(json.loads(f.read())["items"]) == 2
    server.start()  # the server is back, this tablet still has no network

    other = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    try:
        tablet = other.new_page()
        log_in(tablet, server.url, "inspector", PASSWORD)
        tablet.goto(server.url + "/inspection/")
        assert ready(tablet)
        tablet.set_input_files("#offline-panel [data-role=import]", exported)
        tablet.wait_for_function("() => document.querySelector('#offline-panel [data-role=import-state]')"
                                 ".textContent.startsWith('已导入 2 项')")
        assert queue_becomes(tablet, 0)
    finally:
        other.close()
    saved = scores(sheet)
    assert sorted(saved) == CODES[:2] and score_audits(sheet) == 2

    context.set_offline(False)  # the first tablet comes back: its copies are duplicates
    page.evaluate("EvalappOffline.syncNow()")
    assert queue_becomes(page, 0)
    assert scores(sheet) == saved and score_audits(sheet) == 2


def test_entries_an_older_page_kept_in_local_storage_join_the_queue_and_sync(server, context, world):
    """Today's page kept unacknowledged entries in localStorage: they are carried into the queue, not dropped."""
    sheet = make_sheet(world, VILLAGE)
    page = context.new_page()
    log_in(page, server.url, "inspector", PASSWORD)
    page.goto(server.url + "/inspection/")
    page.evaluate("""id => localStorage.setItem('evalapp:pending:' + id + ':A1', JSON.stringify({
        entry: {note: '旧页面留下的', version: 0, reason: '', deductions: []}, version: 0, mode: 'deductions'}))""",
                  sheet.id)
    page.reload()
    assert queue_becomes(page, 0) and page.evaluate("localStorage.length") == 0
    db.session.expire_all()
    score = db.session.scalar(select(Score).join(Score.indicator).where(Score.sheet_id == sheet.id,
                                                                       Indicator.code == "A1"))
    assert score is not None and score.note == "旧页面留下的" and score.version == 1
