"""Cluster load and fault test on loopback (issue 34, point 3): two gunicorn instances behind nginx, sharing
PostgreSQL, Redis and an S3-compatible object store (moto's server), with a job worker. 50 inspectors autosave
through nginx while the district asks for the district workbook (a job) and waits for it; one app instance is
killed mid-load (SIGKILL of its master and workers). Then checks: no failure left after the clients' retries, every
acknowledged save present, no duplicated score, a photo stored through one instance shown (byte-identical) through
the other, every job done and its file downloaded.

    python bench/cluster.py [--seconds 60] [--users 50] [--workers 2] [--threads 4]   (make loadtest-cluster)

The district asks for workbooks one after another in the second and the fourth quarter of the run, and instance A is
killed at its half, so each save falls in one of four cells set side by side in the report: two instances or one,
a job running or none. CPU is measured per process group (/proc) beside the machine's: others may work on it too.

It makes its own PostgreSQL database (`evalapp_cluster`: the demo, 50 inspectors and, with --scale, a round of
`flask demo-scale`'s whose workbook the district asks for), a bucket on its own moto server, uses Redis database 11
(LOADTEST_REDIS to change) and talks only to 127.0.0.1. Needs nginx (Debian: apt-get install nginx-light).
"""
import argparse
import hashlib
import io
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtest import (ROOT, Client, Record, app_env, check_saves, free_port, inspector,  # noqa: E402
                      percentiles, prepare_database, serve, wait_for_port)

REDIS_URL = os.environ.get("LOADTEST_REDIS", "redis://127.0.0.1:6379/11")
RETRY = (502, 503, 504)  # what nginx answers when no app server did: the client sends the same request again
BUCKET = "evalapp-cluster"
CLK_TCK = os.sysconf("SC_CLK_TCK")

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format up '$status "$upstream_addr" "$upstream_status" $request_time $request_method $uri';
    access_log {tmp}/access.log up;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream app {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=5s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        # a request to a dead instance goes to the other (PUT, GET: idempotent; a POST only if it was not sent)
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 2;
        proxy_connect_timeout 2s;
        location / {{
            proxy_pass http://app;
        }}
    }}
}}
"""


def start_nginx(tmp: str, port: int, a: int, b: int) -> subprocess.Popen:
    """nginx in the foreground as this user, everything it writes under `tmp`."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""  # workers as this user too
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, user=user, port=port, a=a, b=b))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_port(port)
    return proc


def start_moto(tmp: str) -> tuple[subprocess.Popen, str]:
    """moto's standalone S3-compatible server, and a bucket on it."""
    import boto3

    port = free_port()
    proc = subprocess.Popen([os.path.join(ROOT, ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "moto.log"), "w"))
    wait_for_port(port)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                            aws_access_key_id="cluster", aws_secret_access_key="cluster")
    client.create_bucket(Bucket=BUCKET)
    client.close()
    return proc, endpoint


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU of one process so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class CpuMeter:
    """CPU used by groups of processes (a root and its children), sampled every half second, the last value seen
    of each process kept (a killed instance's CPU counts up to its death). Processes found at the start count from
    there."""

    def __init__(self, groups: dict):
        self.groups = groups  # name → root pid, or a callable giving pids
        self.first: dict = {}
        self.last: dict = {}
        self.series: list[tuple[float, float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _pids(self, root) -> list[int]:
        if callable(root):
            return root()
        children = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split()
        return [root] + [int(p) for p in children]

    def sample(self):
        for name, root in self.groups.items():
            for pid in self._pids(root):
                used = cpu_seconds(pid)
                if used is not None:
                    self.first.setdefault((name, pid), used)
                    self.last[(name, pid)] = used

    def _loop(self):
        while not self.stop.wait(0.5):
            self.sample()
            own = os.times()  # this process: the load generator (and this meter)
            self.series.append((time.time(), machine_cpu()[0],
                                sum(used - self.first[key] for key, used in self.last.items())
                                + own.user + own.system))

    def cores(self, inside) -> tuple[float, float]:
        """(machine's busy cores, this test's cores) over the sample intervals whose middle `inside(t)` accepts."""
        busy = ours = seconds = 0.0
        for (t0, b0, o0), (t1, b1, o1) in zip(self.series, self.series[1:]):
            if inside((t0 + t1) / 2):
                busy, ours, seconds = busy + b1 - b0, ours + o1 - o0, seconds + t1 - t0
        return (round(busy / seconds, 2), round(ours / seconds, 2)) if seconds else (None, None)

    def start(self):
        self.sample()
        self.thread.start()

    def snapshot(self) -> dict:
        self.sample()
        return dict(self.last)

    def totals(self, since: dict) -> dict:
        """CPU seconds of each group from the snapshot `since` (a process begun after it: from its first sample)."""
        self.stop.set()
        self.thread.join()
        out: dict = {}
        for (name, pid), used in self.last.items():
            out[name] = out.get(name, 0.0) + used - since.get((name, pid), self.first[(name, pid)])
        return {name: round(v, 1) for name, v in out.items()}


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


def postgres_backends() -> list[int]:
    """The PostgreSQL backends serving this test's database (their process titles name it)."""
    found = subprocess.run(["pgrep", "-f", "postgres: .* evalapp_cluster "], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def redis_server() -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True,
                                           text=True).stdout.split()]


def wait_for_worker(pid: int, seconds: float = 60) -> None:
    """The job worker (process `pid`) has started and listens on the queue (it loads the app first)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(REDIS_URL)
    for _ in range(int(seconds * 10)):
        if any(w.pid == pid for w in Worker.all(connection=connection)):
            return
        time.sleep(0.1)
    raise RuntimeError("the job worker did not start")


def sample_photo() -> bytes:
    """A photo as a tablet sends it: a JPEG (a gradient, so it is not trivially small)."""
    from PIL import Image

    image = Image.new("RGB", (1200, 900))
    image.putdata([(x * 255 // 1200, y * 255 // 900, 128) for y in range(900) for x in range(1200)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def warm(port: int, workers: int) -> None:
    """Every worker of an instance has loaded the app (gunicorn listens before its workers have imported it)."""
    clients = [Client(port, tries=20) for _ in range(workers * 2)]
    for c in clients:
        c.request("GET", "/login")


def photo_across(port_a: int, port_b: int, username: str, sheet_id: int) -> dict:
    """Upload a photo through instance A directly, fetch it through A and through B directly: the same bytes."""
    a = Client(port_a)
    a.login(username)
    boundary = "clusterboundary7d1f"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"site.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + sample_photo() + f"\r\n--{boundary}--\r\n".encode()
    status, answer, _ = a.request("POST", f"/api/v1/sheets/{sheet_id}/scores/A1/photos", body,
                                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    if status not in (200, 201):
        return {"uploaded": status, "same_bytes": False}
    url = json.loads(answer)["url"]
    b = Client(port_b)
    b.cookie, b.csrf = a.cookie, a.csrf  # the same session: the cookie is signed with the key both servers share
    status_a, via_a, _ = a.request("GET", url)
    status_b, via_b, _ = b.request("GET", url)
    return {"uploaded": status, "url": url, "via_a": status_a, "via_b": status_b, "bytes": len(via_b),
            "sha256": hashlib.sha256(via_b).hexdigest()[:16], "same_bytes": status_b == 200 and via_a == via_b,
            "client_b": b}


class District:
    """The district asks for the district workbook through nginx, again and again while asked to: each time a new
    job (the round's data changed just before: `changed`), its status polled until done, its file downloaded."""

    def __init__(self, port: int, round_id: int, url: str):
        from sqlalchemy import create_engine

        self.client = Client(port, retry_statuses=RETRY, tries=6)
        self.round_id = round_id
        self.engine = create_engine(url)
        self.jobs: list[dict] = []
        self.client.login("district")

    def changed(self) -> None:
        """The round's draft changed (as a reviewer's save of a final sheet would change it): the inspectors'
        autosaves do not (their sheets are not read by the results), and asked for the same draft the app answers
        with the job it has already done."""
        from sqlalchemy import text

        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO results_versions (round_id, n) VALUES (:r, 1) ON CONFLICT (round_id) "
                              "DO UPDATE SET n = results_versions.n + 1"), {"r": self.round_id})

    def one(self) -> dict:
        c = self.client
        self.changed()
        started = time.perf_counter()
        status, _, _ = c.request("POST", f"/jobs/rounds/{self.round_id}/workbook",
                                 {"csrf_token": c.csrf, "view": "draft"}, form=True)
        location = c.last.get("location", "")
        found = re.search(r"/jobs/(\d+)", location)
        if status != 303 or not found:
            return {"requested": status, "state": "not requested"}
        job_id = int(found.group(1))
        state = {}
        while time.perf_counter() - started < 120:
            status, body, _ = c.request("GET", f"/jobs/{job_id}/status")
            state = json.loads(body) if status == 200 else {"state": f"status {status}"}
            if state.get("state") in ("done", "failed", "expired"):
                break
            time.sleep(0.1)
        took = time.perf_counter() - started
        result = {"job": job_id, "state": state.get("state"), "seconds": round(took, 2),
                  "span": (time.time() - took, time.time())}
        if state.get("state") == "done":
            status, data, _ = c.request("GET", f"/jobs/{job_id}/file")
            result.update(downloaded=status == 200 and data[:2] == b"PK" and len(data) == state.get("size"),
                          bytes=len(data))
        return result

    def phases(self, *spans) -> None:
        """Jobs one after another within each (start, end) span: none begun after its end."""
        for start, end in spans:
            time.sleep(max(0.0, start - time.time()))
            while time.time() < end:
                self.jobs.append(self.one())


def run(args) -> dict:
    from redis import Redis
    from rq import Queue
    from sqlalchemy import create_engine, text

    tmp = tempfile.mkdtemp(prefix="evalapp-cluster-")
    os.chmod(tmp, 0o755)
    url, sheets = prepare_database("postgresql", args.users, name="evalapp_cluster")
    if args.scale:  # the district's workbook of a larger round (flask demo-scale): a job that takes a while
        townships, villages = (int(x) for x in args.scale.split("x"))
        subprocess.run([os.path.join(ROOT, ".venv/bin/flask"), "--app", "wsgi", "demo-scale", "--townships",
                        str(townships), "--villages-per-township", str(villages)], cwd=ROOT, env=app_env(url),
                       check=True, stdout=subprocess.DEVNULL)
    engine = create_engine(url)
    with engine.connect() as conn:
        from evalapp.services.seed import ROUND_2021

        round_id = (conn.execute(text("SELECT max(id) FROM rounds")).scalar() if args.scale else
                    conn.execute(text("SELECT id FROM rounds WHERE name = :n"), {"n": ROUND_2021}).scalar())
    engine.dispose()
    Queue("evalapp", connection=Redis.from_url(REDIS_URL)).empty()  # nothing left from an earlier run

    procs: dict[str, subprocess.Popen] = {}
    try:
        moto, endpoint = start_moto(tmp)
        procs["moto"] = moto
        env = app_env(url, EVALAPP_STORAGE_BACKEND="s3", EVALAPP_S3_BUCKET=BUCKET, EVALAPP_S3_PREFIX="cluster/",
                      EVALAPP_S3_ENDPOINT_URL=endpoint, EVALAPP_S3_REGION="us-east-1",
                      EVALAPP_S3_ACCESS_KEY_ID="cluster", EVALAPP_S3_SECRET_ACCESS_KEY="cluster",
                      REDIS_URL=REDIS_URL, EVALAPP_JOBS_RUNNER="rq", EVALAPP_PROXY_FIX="1")
        port_a, port_b, port = free_port(), free_port(), free_port()
        # each instance its own process group: the kill takes its master and workers at once
        for name, at in (("app_a", port_a), ("app_b", port_b)):
            procs[name] = serve(env, at, args.workers, args.threads, start_new_session=True,
                                stderr=open(os.path.join(tmp, f"{name}.log"), "w"))
        procs["worker"] = subprocess.Popen([os.path.join(ROOT, ".venv/bin/flask"), "--app", "wsgi", "jobs-worker"],
                                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                           stderr=open(os.path.join(tmp, "worker.log"), "w"))
        procs["nginx"] = start_nginx(tmp, port, port_a, port_b)
        warm(port_a, args.workers)
        warm(port_b, args.workers)

        first_user = sorted(sheets)[0]
        photo = photo_across(port_a, port_b, first_user, sheets[first_user][0])
        district = District(port, round_id, url)
        wait_for_worker(procs["worker"].pid)

        meter = CpuMeter({"app_a": procs["app_a"].pid, "app_b": procs["app_b"].pid,
                          "job_worker": procs["worker"].pid, "nginx": procs["nginx"].pid, "moto": moto.pid,
                          "postgres_backends": postgres_backends, "redis": redis_server})
        meter.start()
        record = Record()
        clock = {}
        ready = threading.Barrier(args.users + 1, action=lambda: clock.update(t0=time.time()))
        threads = [threading.Thread(target=inspector,
                                    args=(u, Client(port, retry_statuses=RETRY, tries=6), sheets[u],
                                          lambda: clock["t0"] + args.seconds, record, ready))
                   for u in sorted(sheets)]
        for t in threads:
            t.start()
        ready.wait()  # every tablet logged in: the clock starts
        t0 = clock["t0"]
        quarter = args.seconds / 4
        at_start, own_start = meter.snapshot(), os.times()
        # the district's jobs in the second and the fourth quarter; instance A killed at the half
        asking = threading.Thread(target=district.phases, args=((t0 + quarter, t0 + 2 * quarter),
                                                                (t0 + 3 * quarter, t0 + args.seconds)))
        asking.start()
        time.sleep(max(0.0, t0 + 2 * quarter - time.time()))
        killed_at = time.time()
        os.killpg(procs["app_a"].pid, signal.SIGKILL)  # its master and workers at once
        procs["app_a"].wait()
        for t in threads + [asking]:
            t.join()
        ended = time.time()
        district.engine.dispose()
        cpu = meter.totals(at_start)
        own = os.times()
        cpu["load_generator"] = round(own.user + own.system - own_start.user - own_start.system, 1)
        photo_after = photo["client_b"].request("GET", photo["url"]) if "client_b" in photo else (0, b"", 0)
        same_after_kill = (photo_after[0] == 200
                           and hashlib.sha256(photo_after[1]).hexdigest()[:16] == photo.get("sha256"))
        photo.pop("client_b", None)
    finally:
        for name, proc in procs.items():
            if proc.poll() is None:
                if name.startswith("app_"):
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    lost, duplicates = check_saves(url, record.acknowledged)
    wall = ended - t0
    final_failures = sum(n for s, n in record.statuses.items() if s == 0 or (isinstance(s, int) and s >= 500))
    with open(os.path.join(tmp, "access.log")) as f:
        log = [line.split() for line in f]
    passed_on = sum(1 for fields in log if "," in fields[1])  # nginx tried one instance, then the other
    nginx_5xx = sum(1 for fields in log if fields[0].startswith("5"))

    spans = [job["span"] for job in district.jobs if "span" in job]

    def job_running(t: float) -> bool:
        return any(a <= t < b for a, b in spans)

    def overlap(a: float, b: float) -> float:
        return sum(max(0.0, min(b, y) - max(a, x)) for x, y in spans)

    def cell(a: float, b: float, jobs: bool) -> dict:
        """The saves begun in [a, b) while a job ran (or while none did)."""
        seconds = overlap(a, b) if jobs else (b - a) - overlap(a, b)
        inside = [lat for started, lat in record.latencies if a <= started < b and job_running(started) == jobs]
        busy, ours = meter.cores(lambda t: a <= t < b and job_running(t) == jobs)
        return {"seconds": round(seconds, 1), "saves": len(inside),
                "saves_per_s": round(len(inside) / seconds, 1) if seconds else None, **percentiles(inside),
                # busy cores of the machine, and how many of them this test's processes took (the rest: others')
                "machine_cores_busy": busy, "ours_cores": ours}

    windows = {"both instances, no job": cell(t0, killed_at, False),
               "both instances, a job running": cell(t0, killed_at, True),
               "one instance (A killed), no job": cell(killed_at, ended, False),
               "one instance, a job running": cell(killed_at, ended, True)}
    for job in district.jobs:
        job.pop("span", None)
    app_cpu = cpu["app_a"] + cpu["app_b"]
    saves = len(record.latencies)
    jobs_done = [j for j in district.jobs if j.get("state") == "done" and j.get("downloaded")]
    report = {
        "users": args.users, "seconds": args.seconds,
        "per_instance": f"gunicorn --workers {args.workers} --threads {args.threads}",
        "saves": saves, "saves_per_s": round(saves / wall, 1), **percentiles([lat for _, lat in record.latencies]),
        "windows": windows,
        "statuses": {str(k): v for k, v in sorted(record.statuses.items(), key=str)},
        "failed_attempts_before_retry": {str(k): v for k, v in sorted(record.failures.items(), key=str)},
        "failures_after_retry": final_failures,
        "nginx_passed_on_to_other_instance": passed_on, "nginx_5xx_answered": nginx_5xx,
        "acknowledged_scores": len(record.acknowledged), "lost_saves": len(lost), "duplicated_scores": duplicates,
        "jobs": district.jobs, "jobs_done_and_downloaded": len(jobs_done),
        "job_seconds_median": sorted(j["seconds"] for j in jobs_done)[len(jobs_done) // 2] if jobs_done else None,
        "district_failed_attempts_before_retry": {str(k): v for k, v in district.client.failures.items()},
        "photo": photo, "photo_via_b_after_kill": same_after_kill,
        "cpu_seconds": cpu, "machine_and_ours_cores": meter.cores(lambda t: t0 <= t < ended),
        "killed_at_s": round(killed_at - t0, 1),
        "app_cores_used": round(app_cpu / wall, 2),
        "saves_per_app_cpu_second": round(saves / app_cpu, 1) if app_cpu else None,
        "logs": tmp,  # nginx's access and error logs, each instance's, the worker's, moto's
    }
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--scale", default="94x20", help="townships x villages of the round whose workbook the "
                        "district asks for (flask demo-scale; '' for the demo's 2021 round)")
    report = run(parser.parse_args())
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = (report["failures_after_retry"] == 0 and report["lost_saves"] == 0 and report["duplicated_scores"] == 0
          and report["photo"]["same_bytes"] and report["photo_via_b_after_kill"]
          and report["jobs"] and report["jobs_done_and_downloaded"] == len(report["jobs"]))
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
