"""The pages people wait for, through gunicorn on loopback, each beside /healthz on the same server.

Used by bench/run.py after it has generated a database: `measure(url, round_id)` serves that database with
gunicorn, logs in an inspector and a district user, and times, with the same client and concurrency for each path:
  healthz    GET /healthz                          (the floor: the server and the client, no application work)
  scoring    GET /inspection/sheets/<id>           (the scoring page of a 20-to-25-indicator sheet)
  autosave   PUT /api/v1/sheets/<id>/scores/<code> (one indicator saved, as the tablet does on every change)
  results    GET /results/rounds/<id>              (the district's results page for the whole round)
and, reported beside them, not checked, two probes that only the bench serves (bench/probe.py):
  probe_read   GET  an authenticated request that runs one primary-key SELECT
  probe_write  PUT  an authenticated request that updates one row and commits
the least any page or API call costs on this stack and database: the part of a path's ratio no change to the path
can remove.
Returns p50/p95/p99 in milliseconds per path, each p50 as a ratio of the healthz p50 (`ratio_p50`, reported) and of
its probe's (`vs_probe`: the bars, since issue 16: the scoring and results pages against probe_read, the autosave
against probe_write; the ratio to /healthz moved by 2× from one processor to another for the same code, the ratio
to the probes held still).
Every request says what a browser says (`Accept-Encoding: gzip, deflate, br, zstd`) and gets what a browser gets.

`weight()` then fetches the scoring page as a browser's first visit does (the page and every stylesheet, script and
icon it names) and as a repeat visit does (the page, plus a conditional request for each asset the browser may not
keep without asking: no `immutable` with a max-age), and counts the bytes on the wire: status line, headers, body.

The bars are checked with one client in flight: the app's own cost per request, against the same server's floor.
Then (at the largest size) the same paths run again with one client per core ("load"), reported beside, not
checked: there, gunicorn's threaded workers keep each kept-alive connection in the worker that accepted it, and
when two busy connections land in the same worker they share its interpreter lock. Which happens is chance per
run, and it moved the scoring page's p50 between 11.9 and 21.9 ms (7.6× and 14.6×) for the same code on the same
data.
"""
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench-pass-2021"
# Clients in flight at once: one for the bars (BENCH_CONCURRENCY overrides), then one per core for the figures
# under load (BENCH_LOAD_CONCURRENCY; 0 leaves them out). The load generator shares the cores.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 1))
LOAD_CONCURRENCY = int(os.environ.get("BENCH_LOAD_CONCURRENCY", os.cpu_count() or 2))
# Which path each bar sets against which probe (bench/run.py names the bars after these).
PROBE_OF = {"scoring": "probe_read", "results": "probe_read", "autosave": "probe_write"}
REQUESTS = 512  # per path (in ROUNDS turns), after a warm-up of 3 per client; half as many under load
WARM_UP = 2


from loadtest import Client, free_port  # noqa: E402  (bench/ is on the path: run as bench/run.py)

ASSET = re.compile(rb'<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+)"')


def prepare(round_id: int, clients: int) -> dict:
    """In the bench database (app context open): an editable village sheet per client (as on tablets, each client
    works on its own unit), known passwords, a district user."""
    from sqlalchemy import select, update

    from evalapp.extensions import db
    from evalapp.models import Round, Sheet, User
    from evalapp.services.accounts import hash_password
    from evalapp.services.catalogues import indicators_of, load_tree

    round_ = db.session.get(Round, round_id)
    inspector = db.session.scalar(select(User).where(User.role == "inspector").order_by(User.id))
    sheets = db.session.scalars(select(Sheet).where(Sheet.round_id == round_id, Sheet.inspector_id == inspector.id)
                                .order_by(Sheet.id.desc()).limit(clients)).all()  # villages: the larger catalogue
    pw = hash_password(PASSWORD)
    inspector.password_hash = pw
    inspector.must_change_password = False
    district = db.session.scalar(select(User).where(User.username == "bench-district"))
    if district is None:
        # The bench logs in with the password alone (a district account gives a second factor otherwise).
        district = User(username="bench-district", display_name="区评估办", role="district", password_hash=pw,
                        totp_exempt=True)
        db.session.add(district)
    db.session.execute(update(Sheet).where(Sheet.id.in_([s.id for s in sheets])).values(status="draft"))
    round_.status = "inspection"  # scoring is open again, so the autosave is accepted
    codes = [i.code for i in indicators_of(load_tree(round_.catalogue_for(sheets[0].unit.level).id))]
    db.session.commit()
    return {"inspector": inspector.username, "sheet_ids": [s.id for s in sheets], "codes": codes}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)]


class Path:
    """One timed path: its own logged-in clients, how to make each request, what to do with each answer."""

    def __init__(self, port: int, username: str, make_request, after=None, concurrency: int = 1):
        self.concurrency = concurrency
        self.clients = [Client(port) for _ in range(concurrency)]  # loadtest's browser-like client
        for client in self.clients:
            if username:
                status, _ = client.login(username, PASSWORD)
                assert status == 302, f"log-in of {username} failed: {status}"
        self.make_request, self.after = make_request, after
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.sent = [0] * concurrency

    def batch(self, per_client: int, record: bool = True) -> None:
        """per_client requests from each of the clients at once."""
        lock = threading.Lock()

        def run(i: int) -> None:
            client = self.clients[i]
            for _ in range(per_client):
                status, payload, elapsed = client.request(*self.make_request(i, self.sent[i]))
                self.sent[i] += 1
                if self.after:
                    self.after(i, status, payload)
                if record:
                    with lock:
                        self.latencies.append(elapsed * 1000)
                        self.statuses[status] = self.statuses.get(status, 0) + 1

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def summary(self) -> dict:
        return {"p50_ms": round(statistics.median(self.latencies), 2),
                "p95_ms": round(_percentile(self.latencies, 95), 2),
                "p99_ms": round(_percentile(self.latencies, 99), 2), "requests": len(self.latencies),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


# The server as `make run` starts it (BENCH_GUNICORN overrides, e.g. "--workers 4" for sync workers).
WORKERS = os.environ.get("BENCH_GUNICORN", "--workers 2 --threads 4")
ROUNDS = 16  # the paths take turns, so a slow moment of the machine falls on all of them


@contextmanager
def serve(url: str, app: str = "probe:app", pythonpath: str = os.path.join(ROOT, "bench")):
    """gunicorn (WORKERS, as `make run`) serving `app` on the database `url` at a free loopback port, once it
    accepts connections; yields [port, tracebacks], the second filled in when the server has stopped. The default
    app is bench/probe.py: the app as wsgi.py builds it, plus the two probe routes."""
    port = free_port()
    env = dict(os.environ, EVALAPP_SECRET_KEY="bench", EVALAPP_ENV="development",
               EVALAPP_LOGIN_LIMIT_PER_ADDRESS="100000 per minute")
    env.pop("DATABASE_URL", None)
    env["EVALAPP_SQLALCHEMY_DATABASE_URI"] = url
    # The server's errors go to a file, read when it has stopped: a pipe read only then filled up with the
    # tracebacks of a failing page, and the workers stopped in the middle of writing one.
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log", delete=False)
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/gunicorn"), *WORKERS.split(),
                               "--bind", f"127.0.0.1:{port}", "--timeout", "300", "--keep-alive", "60",
                               "--pythonpath", pythonpath, app],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    served = [port, 0]
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield served
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.seek(0)
        served[1] = log.read().count("Traceback")
        log.close()
        if served[1]:
            print(f"  server errors: {served[1]} tracebacks in {log.name}", flush=True)
        else:
            os.remove(log.name)


def measure(url: str, round_id: int, kind: str, load: bool = True) -> dict:
    """Serve the database with gunicorn (2 workers × 4 threads, as `make run`) and time the paths: with one
    client (the bars), then with one client per core (reported under "load")."""
    from evalapp.extensions import db

    setup = prepare(round_id, max(CONCURRENCY, LOAD_CONCURRENCY))
    db.session.remove()
    db.engine.dispose()
    with serve(url) as served:
        report = _run_paths(served[0], round_id, setup, CONCURRENCY)
        report["weight"] = weight(served[0], setup)
        if load and LOAD_CONCURRENCY:
            report["load"] = _run_paths(served[0], round_id, setup, LOAD_CONCURRENCY)
    report["server_errors"] = served[1]
    return report


def _run_paths(port: int, round_id: int, setup: dict, concurrency: int) -> dict:
    """The paths taking turns, `concurrency` clients each; p50/p95/p99 and each p50 against healthz's."""
    sheets, codes = setup["sheet_ids"], setup["codes"]
    versions: dict[int, int] = {}  # client → the version of the indicator it saves, as it last saw it

    def autosave(i, n):  # client i saves one indicator of its own sheet
        return ("PUT", f"/api/v1/sheets/{sheets[i]}/scores/{codes[0]}",
                {"deductions": [], "note": f"bench {n}", "version": versions.get(i, 0)})

    def saved(i, status, payload):
        if status == 200:
            versions[i] = json.loads(payload)["version"]
        elif status == 409:  # not the version this client saw last (first save, or the other pass): take it
            versions[i] = (json.loads(payload).get("current") or {}).get("version", 0)

    paths = {
        "healthz": Path(port, "", lambda i, n: ("GET", "/healthz", None), concurrency=concurrency),
        "scoring": Path(port, setup["inspector"], lambda i, n: ("GET", f"/inspection/sheets/{sheets[i]}", None),
                        concurrency=concurrency),
        "autosave": Path(port, setup["inspector"], autosave, saved, concurrency=concurrency),
        "results": Path(port, "bench-district", lambda i, n: ("GET", f"/results/rounds/{round_id}", None),
                        concurrency=concurrency),
        "probe_read": Path(port, setup["inspector"], lambda i, n: ("GET", f"/bench/probe/read/{sheets[i]}", None),
                           concurrency=concurrency),
        "probe_write": Path(port, setup["inspector"], lambda i, n: ("PUT", f"/bench/probe/write/{sheets[i]}", {}),
                            concurrency=concurrency),
    }
    for path in paths.values():
        path.batch(WARM_UP + 1, record=False)  # the first autosave only learns the version
    per_client = (REQUESTS if concurrency == CONCURRENCY else REQUESTS // 2) // concurrency // ROUNDS
    for _ in range(ROUNDS):
        for path in paths.values():
            path.batch(per_client)
    for path in paths.values():
        for client in path.clients:
            if client.conn is not None:
                client.conn.close()
    report = {name: path.summary() for name, path in paths.items()}
    floor = report["healthz"]["p50_ms"]
    for name in paths.keys() - {"healthz"}:
        report[name]["ratio_p50"] = round(report[name]["p50_ms"] / floor, 2)
    for name, probe in PROBE_OF.items():
        report[name]["vs_probe"] = round(report[name]["p50_ms"] / report[probe]["p50_ms"], 2)
    report["concurrency"] = concurrency
    return report


def _kept_without_asking(cache_control: str) -> bool:
    """Whether a browser uses its copy on a later visit without a request: `immutable` with a max-age."""
    parts = {p.strip().split("=")[0]: p.strip() for p in cache_control.lower().split(",")}
    age = parts.get("max-age", "max-age=0").partition("=")[2]
    return "immutable" in parts and age.isdigit() and int(age) > 0 and "no-cache" not in parts


def weight(port: int, setup: dict) -> dict:
    """The scoring page's bytes on the wire for a first and a repeat visit by a logged-in inspector."""
    client = Client(port)
    status, _ = client.login(setup["inspector"], PASSWORD)
    assert status == 302, status
    page_url = f"/inspection/sheets/{setup['sheet_ids'][0]}"
    status, html, _ = client.request("GET", page_url)
    assert status == 200, status
    page = {"wire_bytes": client.last["wire_bytes"], "html_bytes": len(html),
            "encoding": client.last.get("content-encoding", "identity")}
    assets = []
    for url in dict.fromkeys(u.decode() for u in ASSET.findall(html)):
        status, body, _ = client.request("GET", url)
        assert status == 200, (url, status)
        cache = client.last.get("cache-control", "")
        asset = {"url": url, "wire_bytes": client.last["wire_bytes"], "bytes": len(body), "cache_control": cache,
                 "encoding": client.last.get("content-encoding", "identity"), "etag": client.last.get("etag")}
        assets.append(asset)
    status, _, _ = client.request("GET", page_url)  # the repeat visit: the page again, and what the cache asks
    repeat, asked = client.last["wire_bytes"], []
    for asset in assets:
        if _kept_without_asking(asset["cache_control"]):
            continue
        conditional = {"If-None-Match": asset["etag"]} if asset["etag"] else {}
        client.request("GET", asset["url"], headers=conditional)
        repeat += client.last["wire_bytes"]
        asked.append(asset["url"])
    if client.conn is not None:
        client.conn.close()
    return {"page": page, "assets": assets,
            "first_visit_bytes": page["wire_bytes"] + sum(a["wire_bytes"] for a in assets),
            "repeat_visit_bytes": repeat, "repeat_visit_asset_requests": len(asked), "repeat_visit_asked": asked}
