"""Issue 32, point 8: `flask notice-reminders` writes in-app reminders of what is due and posts them to the
configured group-robot webhook (a JSON POST, retried), carrying only unit names and what is due — tested against a
local receiver thread; no sleeps (the pause between attempts is recorded, not slept)."""
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from evalapp.extensions import db
from evalapp.models import Reminder
from evalapp.services import objections, reminders
from tests.factories import VILLAGE
from tests.test_objections import _lost_indicator, noticed  # noqa: F401  (the fixture)


class Receiver:
    """A webhook on 127.0.0.1 answering the statuses given in turn (then 200), keeping each body."""

    def __init__(self, statuses):
        self.statuses, self.bodies = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append((self.headers.get("Content-Type"),
                                        self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=test"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def pauses(monkeypatch):
    made = []
    monkeypatch.setattr(reminders, "_sleep", made.append)
    return made


def test_the_command_writes_reminders_and_posts_unit_names_and_what_is_due_retrying(empty_app, noticed, pauses):
    w = noticed
    reviewer = w.people["reviewer"]
    made = objections.file(w.round, w.units[VILLAGE], "indicator", _lost_indicator(w), "张三的台账齐全，扣分有误",
                           [], w.people["village"])
    objections.assign(made, [w.people["inspector2"].id, reviewer.id], reviewer.id, w.people["district"])
    with Receiver([500, 503]) as hook:
        empty_app.config["NOTICE_WEBHOOK_URL"] = hook.url
        result = empty_app.test_cli_runner().invoke(args=["notice-reminders", "--today", "2026-12-14"])
        assert result.exit_code == 0, result.output
        assert "已推送到群机器人" in result.output
        assert pauses == [2.0, 4.0] and len(hook.bodies) == 3  # two failures, retried, then delivered
        content_type, body = hook.bodies[-1]
        assert content_type.startswith("application/json")
        content = json.loads(body)["text"]["content"]
        # On the 14th: the notice ends tomorrow (the units' leads); the answer is not due until the 22nd.
        assert "荷塘村" in content and "公示将于2026-12-15 24:00结束" in content
        assert "张三" not in content and "复核员" not in content and "village" not in content
        rows = db.session.scalars(select(Reminder).where(Reminder.sent_on == date(2026, 12, 14))).all()
        assert {r.user_id for r in rows} >= {w.people["village"].id, w.people["township"].id}
        # A second run the same day writes and posts nothing new.
        again = empty_app.test_cli_runner().invoke(args=["notice-reminders", "--today", "2026-12-14"])
        assert "写入0条" in again.output and len(hook.bodies) == 3
        # On the 21st the answer is due tomorrow: its group's leader is reminded.
        empty_app.test_cli_runner().invoke(args=["notice-reminders", "--today", "2026-12-21"])
        leader = db.session.scalars(select(Reminder).where(Reminder.user_id == reviewer.id)).all()
        assert [r.key for r in leader] == [f"decide:{made.id}"] and "2026-12-22到期" in leader[0].text
    client = empty_app.test_client()
    client.post("/login", data={"username": "reviewer", "password": "demo-pass-2021"})
    page = client.get("/notice/").get_data(as_text=True)
    assert 'data-testid="reminders"' in page and "2026-12-22到期" in page


def test_a_webhook_that_keeps_failing_is_reported_and_the_reminders_stay(empty_app, noticed, pauses):
    w = noticed
    with Receiver([500, 500, 500]) as hook:
        empty_app.config["NOTICE_WEBHOOK_URL"] = hook.url
        result = empty_app.test_cli_runner().invoke(args=["notice-reminders", "--today", "2026-12-15"])
    assert result.exit_code == 1 and "推送失败" in result.output and len(hook.bodies) == 3
    assert db.session.scalar(select(Reminder.id).where(Reminder.user_id == w.people["village"].id)) is not None
