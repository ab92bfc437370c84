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


def prepare_database(kind: str, users: int) -> tuple[str, dict]:
    """A demo database with `users` inspectors on the first team, each with their own sheets."""
    from sqlalchemy import create_engine, select, text

    if kind == "postgresql":
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "evalapp_load" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "evalapp_load"'))
        engine.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/evalapp_load"
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
    the wire: the status line, the headers and the body as sent (compressed or not)."""

    def __init__(self, port):
        self.port = port
        self.cookie = ""
        self.csrf = ""
        self.conn = None
        self.last: dict = {}

    def request(self, method, path, body=None, form=False, headers=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                sent = {"Cookie": self.cookie, "X-CSRFToken": self.csrf, "Accept-Encoding": ACCEPT_ENCODING,
                        **(headers or {})}
                if form:
                    data = "&".join(f"{k}={v}" for k, v in body.items())
                    sent["Content-Type"] = "application/x-www-form-urlencoded"
                else:
                    data = json.dumps(body) if body is not None else None
                    sent["Content-Type"] = "application/json"
                start = time.perf_counter()
                self.conn.request(method, path, body=data, headers=sent)
                resp = self.conn.getresponse()
                raw = resp.read()
                elapsed = time.perf_counter() - start
                answer = resp.getheaders()
                for k, v in answer:
                    if k.lower() == "set-cookie" and v.startswith("session="):
                        self.cookie = v.split(";")[0]
                self.last = {k.lower(): v for k, v in answer}
                self.last["wire_bytes"] = (len(f"HTTP/1.1 {resp.status} {resp.reason}\r\n")
                                           + sum(len(k) + len(v) + 4 for k, v in answer) + 2 + len(raw))
                return resp.status, decode(raw, self.last.get("content-encoding")), elapsed
            except (ConnectionError, http.client.HTTPException, OSError):
                # a killed worker drops its connections: reconnect and retry (the save is idempotent by version)
                self.conn = None
                if attempt == 2:
                    return 0, b"", 0.0
                time.sleep(0.2)

    def login(self, username, password=PASSWORD):
        status, body, _ = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()
        status, _, elapsed = self.request("POST", "/login", {"csrf_token": token, "username": username,
                                                             "password": password}, form=True)
        status_csrf, body, _ = self.request("GET", "/api/v1/csrf")
        self.csrf = json.loads(body)["csrf_token"]
        return status, elapsed


def run(args) -> dict:
    url, sheets = prepare_database(args.db, args.users)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, EVALAPP_SECRET_KEY="load-test", EVALAPP_ENV="development",
               EVALAPP_LOGIN_LIMIT_PER_ADDRESS="100000 per minute")
    if args.db == "sqlite":
        env.pop("DATABASE_URL")
        env["EVALAPP_SQLALCHEMY_DATABASE_URI"] = url
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/gunicorn"), "--workers", "4", "--threads", "4",
                               "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    latencies, statuses, lock = [], {}, threading.Lock()
    acknowledged: dict[tuple[int, str], tuple[int, str]] = {}
    deadline = time.time() + args.seconds
    codes = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1"]

    def inspector(username):
        client = Client(port)
        client.login(username)
        versions = {}
        rng = random.Random(username)
        n = 0
        while time.time() < deadline:
            sheet_id = rng.choice(sheets[username])
            code = rng.choice(codes)
            n += 1
            note = f"{username}-{n}"
            status, body, elapsed = client.request(
                "PUT", f"/api/v1/sheets/{sheet_id}/scores/{code}",
                {"deductions": [], "note": note, "version": versions.get((sheet_id, code), 0)})
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)
            if status == 200:
                versions[(sheet_id, code)] = json.loads(body)["version"]
                with lock:
                    acknowledged[(sheet_id, code)] = (versions[(sheet_id, code)], note)
            elif status == 409:
                current = json.loads(body).get("current") or {}
                versions[(sheet_id, code)] = current.get("version", 0)
            time.sleep(rng.uniform(0.05, 0.3))  # a person taps, not a robot

    login_latencies = []

    def login_burst():
        for i in range(args.users):
            status, elapsed = Client(port).login(f"load{i:03d}")
            with lock:
                statuses[f"login {status}"] = statuses.get(f"login {status}", 0) + 1
                login_latencies.append(elapsed)

    threads = [threading.Thread(target=inspector, args=(u,)) for u in sorted(sheets)]
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
    server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
    ms = sorted(x * 1000 for x in latencies)
    report = {
        "db": args.db, "users": args.users, "seconds": args.seconds, "requests": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 1) if ms else None,
        "login_p50_ms": round(statistics.median(login_latencies) * 1000, 1) if login_latencies else None,
        "acknowledged_saves": len(acknowledged), "lost_saves": len(lost), "duplicated_scores": duplicates,
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
