"""Bounded load and fault test on loopback: 50 inspectors autosaving through gunicorn, a burst of log-ins, and a
gunicorn worker killed mid-load. Then checks: zero 5xx, every acknowledged save present, no duplicated score.

    python bench/loadtest.py --db postgresql   (or sqlite)  [--seconds 60] [--users 50]

It creates its own database (PostgreSQL: `evalapp_load` on the local server; SQLite: a temporary file), serves it
with gunicorn on 127.0.0.1, and talks only to that address.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PASSWORD = "load-test-pass-2021"
PG_ADMIN = os.environ.get("LOADTEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(kind: str, users: int, name: str = "evalapp_load") -> tuple[str, dict]:
    """A demo database with `users` inspectors on the first team, each with their own sheets (PostgreSQL: the
    database `name`, made afresh)."""
    from sqlalchemy import create_engine, select, text

    if kind == "postgresql":
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="evalapp-load-"), "load.sqlite3")
    from flask_migrate import upgrade

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.models import Round, Sheet, Team, TeamMember, User
    from evalapp.services import rounds
    from evalapp.services.accounts import hash_password
    from evalapp.services.seed import ROUND_2021, seed_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "ENV": "development",
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}})
    with app.app_context():
        upgrade()
        seed_demo(PASSWORD)
        round_ = db.session.scalar(select(Round).where(Round.name == ROUND_2021))
        team = db.session.scalar(select(Team).where(Team.round_id == round_.id, Team.name == "第一工作组"))
        pw = hash_password(PASSWORD)
        for i in range(users):
            user = User(username=f"load{i:03d}", display_name=f"压测评估员{i}", role="inspector", password_hash=pw)
            db.session.add(user)
            db.session.flush()
            db.session.add(TeamMember(round_id=round_.id, team_id=team.id, user_id=user.id))
        db.session.commit()
        rounds.create_inspection_sheets(round_)
        db.session.commit()
        sheets = {}
        for username, sheet_id in db.session.execute(
                select(User.username, Sheet.id).join(Sheet, Sheet.inspector_id == User.id)
                .where(User.username.like("load%"), Sheet.round_id == round_.id)):
            sheets.setdefault(username, []).append(sheet_id)
        db.engine.dispose()
    return url, sheets


# What Chromium sends: the app (and a proxy) compress what they answer as a browser would receive it.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def decode(body: bytes, encoding: str | None) -> bytes:
    """A response body as the browser reads it, from the bytes that came over the wire."""
    if not encoding or encoding == "identity":
        return body
    if encoding == "gzip":
        import gzip

        return gzip.decompress(body)
    if encoding == "deflate":
        import zlib

        return zlib.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(body)
    raise ValueError(f"unknown Content-Encoding {encoding!r}")


class Client:
    """A browser-like client: a cookie and a CSRF token, one keep-alive connection, compressed answers accepted.

    After each request, `last` holds the answer's headers (lower-case names) and `wire_bytes`, the bytes it took on
    the wire: the status line, the headers and the body as sent (compressed or not).

    A request that meets a dropped connection (a killed worker) is sent again, as is one answered with a status in
    `retry_statuses` (behind a proxy: 502/503/504 when no app server answered), up to `tries` times with the same
    payload (saves are idempotent by version); `failures` counts each failed attempt by what it met ("connection"
    or the status). The elapsed time returned runs from the first attempt to the answer: what the user waited."""

    def __init__(self, port, retry_statuses=(), tries=3):
        self.port = port
        self.cookie = ""
        self.csrf = ""
        self.conn = None
        self.last: dict = {}
        self.retry_statuses = tuple(retry_statuses)
        self.tries = tries
        self.failures: dict = {}

    def _failed(self, what, attempt) -> bool:
        """Count a failed attempt; True when another may follow (after a short wait)."""
        self.failures[what] = self.failures.get(what, 0) + 1
        if attempt == self.tries - 1:
            return False
        time.sleep(0.2 * (attempt + 1))
        return True

    def request(self, method, path, body=None, form=False, headers=None):
        first = time.perf_counter()
        for attempt in range(self.tries):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                sent = {"Cookie": self.cookie, "X-CSRFToken": self.csrf, "Accept-Encoding": ACCEPT_ENCODING}
                if isinstance(body, bytes):  # a body made by the caller (a multipart upload): its headers name it
                    data = body
                elif form:
                    data = "&".join(f"{k}={v}" for k, v in body.items())
                    sent["Content-Type"] = "application/x-www-form-urlencoded"
                else:
                    data = json.dumps(body) if body is not None else None
                    sent["Content-Type"] = "application/json"
                sent.update(headers or {})
                self.conn.request(method, path, body=data, headers=sent)
                resp = self.conn.getresponse()
                raw = resp.read()
                answer = resp.getheaders()
            except (ConnectionError, http.client.HTTPException, OSError):
                # a killed worker drops its connections: reconnect and retry (the save is idempotent by version)
                self.conn = None
                if self._failed("connection", attempt):
                    continue
                return 0, b"", time.perf_counter() - first
            if resp.status in self.retry_statuses and self._failed(resp.status, attempt):
                self.conn = None
                continue
            elapsed = time.perf_counter() - first
            for k, v in answer:
                if k.lower() == "set-cookie" and v.startswith("session="):
                    self.cookie = v.split(";")[0]
            self.last = {k.lower(): v for k, v in answer}
            self.last["wire_bytes"] = (len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n")
                                       + sum(len(k) + len(v) + 4 for k, v in answer) + 2 + len(raw))
            return resp.status, decode(raw, self.last.get("content-encoding")), elapsed

    def login(self, username, password=PASSWORD):
        status, body, _ = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()
        status, _, elapsed = self.request("POST", "/login", {"csrf_token": token, "username": username,
                                                             "password": password}, form=True)
        status_csrf, body, _ = self.request("GET", "/api/v1/csrf")
        self.csrf = json.loads(body)["csrf_token"]
        return status, elapsed


def app_env(url: str, kind: str = "postgresql", **settings) -> dict:
    """The environment of an app server (or job worker) on the load test's database; `settings`: more EVALAPP_*."""
    env = dict(os.environ, DATABASE_URL=url, EVALAPP_SECRET_KEY="load-test", EVALAPP_ENV="development",
               EVALAPP_LOGIN_LIMIT_PER_ADDRESS="100000 per minute", **settings)
    if kind == "sqlite":
        env.pop("DATABASE_URL")
        env["EVALAPP_SQLALCHEMY_DATABASE_URI"] = url
    return env


def wait_for_port(port: int, seconds: float = 10) -> None:
    for _ in range(int(seconds * 10)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def serve(env: dict, port: int, workers: int = 4, threads: int = 4, **popen) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:port, once it listens (its log: a pipe unless `stderr` is given)."""
    popen.setdefault("stderr", subprocess.PIPE)
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/gunicorn"), "--workers", str(workers),
                               "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
                               "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, text=True, **popen)
    wait_for_port(port)
    return server


CODES = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1"]


class Record:
    """What the inspectors saw: statuses, each save's (start, latency), the last acknowledged save of each score,
    and the failed attempts their clients retried."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict = {}
        self.latencies: list[tuple[float, float]] = []
        self.acknowledged: dict[tuple[int, str], tuple[int, str]] = {}
        self.failures: dict = {}

    def count(self, status) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def inspector(username: str, client: "Client", sheet_ids: list, deadline, record: Record,
              ready: threading.Barrier | None = None) -> None:
    """One tablet: log in, then autosave a random score of its sheets with a person's pauses until the deadline
    (a time, or a function giving it once `ready` — a barrier all tablets pass once logged in — lets them start)."""
    client.login(username)
    if ready is not None:
        ready.wait()
    deadline = deadline() if callable(deadline) else deadline
    versions = {}
    rng = random.Random(username)
    n = 0
    while time.time() < deadline:
        sheet_id = rng.choice(sheet_ids)
        code = rng.choice(CODES)
        n += 1
        note = f"{username}-{n}"
        started = time.time()
        status, body, elapsed = client.request(
            "PUT", f"/api/v1/sheets/{sheet_id}/scores/{code}",
            {"deductions": [], "note": note, "version": versions.get((sheet_id, code), 0)})
        with record.lock:
            record.statuses[status] = record.statuses.get(status, 0) + 1
            record.latencies.append((started, elapsed))
        if status == 200:
            versions[(sheet_id, code)] = json.loads(body)["version"]
            with record.lock:
                record.acknowledged[(sheet_id, code)] = (versions[(sheet_id, code)], note)
        elif status == 409:
            current = json.loads(body).get("current") or {}
            versions[(sheet_id, code)] = current.get("version", 0)
        time.sleep(rng.uniform(0.05, 0.3))  # a person taps, not a robot
    with record.lock:
        for what, n in client.failures.items():
            record.failures[what] = record.failures.get(what, 0) + n


def check_saves(url: str, acknowledged: dict) -> tuple[list, int]:
    """(lost saves, duplicated scores) in the database after the load."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    lost = []
    with engine.connect() as conn:
        for (sheet_id, code), (version, note) in acknowledged.items():
            row = conn.execute(text("SELECT s.version, s.note FROM scores s JOIN indicators i ON i.id = s.indicator_id"
                                    " WHERE s.sheet_id = :s AND i.code = :c"), {"s": sheet_id, "c": code}).all()
            # A newer version than the last acknowledged one is fine: a save whose answer was lost when the worker
            # died (the client then saw its own write as a 409). An older one, or the same with other data, is loss.
            if len(row) != 1 or row[0][0] < version or (row[0][0] == version and row[0][1] != note):
                lost.append((sheet_id, code, version, row))
        duplicates = conn.execute(text("SELECT count(*) FROM (SELECT sheet_id, indicator_id FROM scores "
                                       "GROUP BY sheet_id, indicator_id HAVING count(*) > 1) d")).scalar()
    engine.dispose()
    return lost, duplicates


def percentiles(seconds: list[float]) -> dict:
    """p50 and p95 in milliseconds."""
    ms = sorted(x * 1000 for x in seconds)
    return {"p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 1) if ms else None}


def run(args) -> dict:
    url, sheets = prepare_database(args.db, args.users)
    port = free_port()
    server = serve(app_env(url, args.db), port)
    record = Record()
    deadline = time.time() + args.seconds
    login_latencies = []

    def login_burst():
        for i in range(args.users):
            status, elapsed = Client(port).login(f"load{i:03d}")
            record.count(f"login {status}")
            with record.lock:
                login_latencies.append(elapsed)

    threads = [threading.Thread(target=inspector, args=(u, Client(port), sheets[u], deadline, record))
               for u in sorted(sheets)]
    for t in threads:
        t.start()
    time.sleep(args.seconds / 4)
    burst = threading.Thread(target=login_burst)
    burst.start()
    time.sleep(args.seconds / 4)
    workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    killed = workers[0] if workers else None
    if killed:
        os.kill(int(killed), signal.SIGKILL)  # a worker dies mid-load
    for t in threads + [burst]:
        t.join()
    server.send_signal(signal.SIGTERM)
    _, err = server.communicate(timeout=30)

    lost, duplicates = check_saves(url, record.acknowledged)
    statuses = record.statuses
    server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
    report = {
        "db": args.db, "users": args.users, "seconds": args.seconds, "requests": len(record.latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        **percentiles([elapsed for _, elapsed in record.latencies]),
        "login_p50_ms": round(statistics.median(login_latencies) * 1000, 1) if login_latencies else None,
        "acknowledged_saves": len(record.acknowledged), "lost_saves": len(lost), "duplicated_scores": duplicates,
        "server_errors_5xx": server_errors, "killed_worker": killed,
        "database_locked_errors": err.count("database is locked"),
    }
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    report = run(parser.parse_args())
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = (report["server_errors_5xx"] == 0 and report["lost_saves"] == 0 and report["duplicated_scores"] == 0
          and report["database_locked_errors"] == 0)
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
