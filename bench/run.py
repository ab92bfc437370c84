"""Benchmarks of the hot paths, each beside its floor measured in the same run (ratios hold on a noisy machine).

    python bench/run.py --db sqlite|postgresql --sizes 94x20,375x20,1500x20 [--runs 5] [--no-http]

For each size (townships × villages per township) it builds a database with `demo-scale`, then times each path and
its floor as pairs, a warm-up pair first, and reports the median times of --runs pairs and the median of the pairs'
ratios (see paired()):
  results   round_report(): totals, results, ranks, township roll-ups    vs  one SQL scan summing points by sheet
            (and, reported: the seconds the cyclic collector ran inside it, its share and the growth outside it)
  subsidy   the eligibility workbook (奖补资格表), all units               vs  the same cells written as constants
  workbook  the district results workbook (unit × indicator)             vs  the same cells written as constants
  http      scoring page GET, results page GET (gunicorn)  vs  an authenticated one-row SELECT (probe_read)
            autosave PUT                                     vs  an authenticated one-row UPDATE + COMMIT (probe_write)
            (one client for the bars, each p50 against its probe's, same server and client; each also against
            GET /healthz, reported; then one client per core, reported, not checked: see bench/web.py)
  bytes     the scoring page on the wire, as a browser asks for it: first visit (page and assets), repeat visit
  publish   what publishing does in its transaction: lock the round, build the read model once, freeze version N+1
            (rolled back after each run)  vs  building the read model once and inserting the same rows with one
            executemany per table
  verify    verify-publication of that version (checksum, every unit recomputed, today's differences)  vs  reading
            the version's rows and hashing their canonical form
"The same cells as constants": the export runs once with its cell writes recorded (sheet, position, kind, value,
formatted or not); the floor replays those values as constants into a fresh constant_memory workbook, so it writes
the very same cells (the same text lengths, the same compressed size) and does none of the reading or computing.
Results go to bench/results/<date>-<db>.json; `--check` exits non-zero when a bar is missed.
"""
import argparse
import datetime
import gc
import io
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))
PG_ADMIN = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# The HTTP bars set each path against its probe (bench/probe.py) from the same run, named after it (issue 16): the
# ratio to /healthz moved with the processor (the same code measured 6.8× and 9.5× on two machines), the ratio to
# the probe held still. The scoring page's bytes on the wire (bench/web.py weight()): first and repeat visit.
BARS = {"results": 2.0, "subsidy": 1.5, "workbook": 1.5, "publish": 1.5, "verify": 1.5, "growth": 1.5,
        "subsidy_peak_mb": 200,
        "scoring_vs_probe_read": 5.0, "results_page_vs_probe_read": 3.0, "autosave_vs_probe_write": 3.0,
        "scoring_first_visit_kb": 120, "scoring_repeat_visit_kb": 15, "scoring_repeat_visit_asset_requests": 0}
# The HTTP bars: the path as web.py names it, and its bar.
HTTP_BARS = {"scoring": "scoring_vs_probe_read", "results": "results_page_vs_probe_read",
             "autosave": "autosave_vs_probe_write"}


def paired(fn, floor, runs: int, warm: bool = True) -> tuple[float, float, float]:
    """Median seconds of fn and of floor, and the median of their ratios pair by pair. They run as pairs (a warm-up
    pair first), each pair back to back and in alternating order, so a slow moment of the machine falls on both
    members of a pair: on this VM the same export took 1.96 to 3.2 s in consecutive runs, and the ratio of a pair
    moves far less than either time. `warm=False`: the caller has run both once already (the exports' recording
    run is their warm-up)."""
    if warm:
        fn(), floor()
    times, floors, ratios = [], [], []
    for i in range(runs):
        first, second = (floor, fn) if i % 2 == 0 else (fn, floor)
        start = time.perf_counter()
        first()
        middle = time.perf_counter()
        second()
        end = time.perf_counter()
        t, f = (end - middle, middle - start) if i % 2 == 0 else (middle - start, end - middle)
        times.append(t)
        floors.append(f)
        ratios.append(t / f)
    return statistics.median(times), statistics.median(floors), statistics.median(ratios)


class CollectorTime:
    """Wraps a timed path: the seconds CPython's cyclic collector ran inside each of its calls (gc.callbacks).

    Reported beside the results' growth, not checked: the report's objects (three per unit) promote into the
    collector's oldest generation, and each full pass walks every object of the process (some 150,000 of the app's
    own besides the report's), so the collector's share of a unit's time rises from the smallest size to the larger
    ones (issue 16: with the collector off, the same code grew 1.16× per unit from 94x20 to 1500x20; with it on,
    1.92×, on the same loaded machine)."""

    def __init__(self, fn):
        self.fn, self.calls, self._started, self._inside = fn, [], 0.0, False

    def _callback(self, phase, info):
        if not self._inside:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.calls[-1][0] += time.perf_counter() - self._started
            self.calls[-1][1] += info["generation"] == 2

    def __call__(self):
        self.calls.append([0.0, 0])
        self._inside = True
        gc.callbacks.append(self._callback)
        try:
            return self.fn()
        finally:
            gc.callbacks.remove(self._callback)
            self._inside = False

    def summary(self) -> dict:
        """Median seconds in the collector per call and full passes per call (the warm-up call left out)."""
        timed = self.calls[1:] or self.calls
        return {"collector_s": round(statistics.median(c[0] for c in timed), 4),
                "full_collections": round(statistics.median(c[1] for c in timed), 1)}


def record_cells(export) -> list[tuple]:
    """Run an export once and record every cell it writes: (sheet, row, col, "n"/"s"/"b"/"f", value, formatted)."""
    from xlsxwriter import worksheet

    cells: list[tuple] = []
    sheets: dict[int, int] = {}
    originals = {}

    def recorder(name, kind):
        original = getattr(worksheet.Worksheet, name)
        originals[name] = original

        def write(self, row, col, value, cell_format=None, *rest):
            cells.append((sheets.setdefault(id(self), len(sheets)), row, col, kind, value, cell_format is not None))
            return original(self, row, col, value, cell_format, *rest)
        return write

    for name, kind in (("_write_number", "n"), ("_write_string", "s"), ("_write_blank", "b"),
                       ("_write_formula", "f")):
        setattr(worksheet.Worksheet, name, recorder(name, kind))
    try:
        export()
    finally:
        for name, original in originals.items():
            setattr(worksheet.Worksheet, name, original)
    return cells


def replay_floor(cells: list[tuple]) -> None:
    """The least work that writes those cells: the recorded values as constants, one format, constant_memory."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
    fmt = wb.add_format({"num_format": "0.00"})
    sheets = {}
    for sheet, row, col, kind, value, formatted in cells:
        ws = sheets.get(sheet)
        if ws is None:
            ws = sheets[sheet] = wb.add_worksheet()
        f = fmt if formatted else None
        if kind == "n":
            ws.write_number(row, col, value, f)
        elif kind == "s":
            ws.write_string(row, col, value, f)
        elif kind == "b":
            ws.write_blank(row, col, None, f)
        else:
            ws.write_formula(row, col, value, f, 0)
    wb.close()


def database(kind: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        path = os.path.join(ROOT, "bench", "data", f"{name}.sqlite3")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite:///{path}"
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def bench_size(kind: str, townships: int, villages: int, runs: int, http: bool, load: bool = True) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.models import Round, Score, User
    from evalapp.services import readmodel
    from evalapp.services.downloads import eligibility_workbook, results_workbook
    from evalapp.services.results import round_report
    from evalapp.services.scale import generate

    url = database(kind, f"evalapp_bench_{townships}x{villages}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENV": "development",
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}})
    gc.freeze()  # as wsgi.py does in the served process, once the app is built (before any data is read)
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        rid = generate(townships, villages, seed=1).id
        generate_s = time.perf_counter() - start
        units = townships * (villages + 1)
        score_rows = db.session.scalar(select(func.count(Score.id)))
        user = db.session.scalar(select(User).where(User.role == "inspector"))
        floor_sql = text("SELECT s.sheet_id, SUM(s.points) FROM scores s JOIN sheets sh ON sh.id = s.sheet_id "
                         "WHERE sh.round_id = :r GROUP BY s.sheet_id")

        def fresh(fn):
            def run():
                db.session.expire_all()
                return fn(db.session.get(Round, rid))
            return run

        out = {"size": f"{townships}x{villages}", "units": units, "score_rows": score_rows,
               "generate_s": round(generate_s, 1)}

        def figure(name, fn, floor, warm=True, **extra):
            s, f, ratio = paired(fn, floor, runs, warm)
            out[name] = {"s": round(s, 4), "floor_s": round(f, 4), "ratio": round(ratio, 2),
                         "per_unit_ms": round(s / units * 1000, 4), "bar": BARS[name], **extra}
            print(f"  {out['size']} {name}: {s:.3f} s vs floor {f:.3f} s, {ratio:.2f}× (median of pairs)", flush=True)

        results_path = CollectorTime(fresh(round_report))
        figure("results", results_path, fresh(lambda r: db.session.execute(floor_sql, {"r": r.id}).all()))
        out["results"].update(results_path.summary())
        subsidy = fresh(lambda r: eligibility_workbook(r, user))
        # The peak of a cold export: the round's report is computed within it (the timed runs reuse the report
        # the first one computed, as the app does while nothing changes).
        readmodel.clear_cache()
        tracemalloc.start()
        subsidy()
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        cells = record_cells(subsidy)  # also the path's warm-up
        replay_floor(cells)            # and the floor's
        figure("subsidy", subsidy, lambda: replay_floor(cells), warm=False, cells=len(cells),
               peak_mb=round(peak_mb, 1))
        workbook = fresh(lambda r: results_workbook(r, user))
        cells = record_cells(workbook)
        replay_floor(cells)
        figure("workbook", workbook, lambda: replay_floor(cells), warm=False, cells=len(cells))
        if http:
            import web

            out["http"] = web.measure(url, rid, kind, load=load)
            h = out["http"]
            print(f"  {out['size']} http p50 ms: probes: read {h['probe_read']['p50_ms']}, write"
                  f" {h['probe_write']['p50_ms']}; scoring {h['scoring']['p50_ms']} ({h['scoring']['vs_probe']}×"
                  f" the read), results {h['results']['p50_ms']} ({h['results']['vs_probe']}× the read), autosave"
                  f" {h['autosave']['p50_ms']} ({h['autosave']['vs_probe']}× the write); healthz"
                  f" {h['healthz']['p50_ms']}", flush=True)
            w = h["weight"]
            print(f"  {out['size']} scoring page on the wire: first visit {w['first_visit_bytes'] / 1024:.1f} KB"
                  f" (page {w['page']['wire_bytes'] / 1024:.1f} KB {w['page']['encoding']}, HTML"
                  f" {w['page']['html_bytes'] / 1024:.1f} KB), repeat visit {w['repeat_visit_bytes'] / 1024:.1f} KB"
                  f" with {w['repeat_visit_asset_requests']} asset requests", flush=True)
            if h.get("load"):
                g = h["load"]
                print(f"  {out['size']} http p50 ms with {g['concurrency']} clients: healthz {g['healthz']['p50_ms']},"
                      f" scoring {g['scoring']['p50_ms']} ({g['scoring']['ratio_p50']}×), autosave"
                      f" {g['autosave']['p50_ms']} ({g['autosave']['ratio_p50']}×), results {g['results']['p50_ms']}"
                      f" ({g['results']['ratio_p50']}×)", flush=True)
        publish_figures(figure, rid, user)
        db.session.remove()
        db.engine.dispose()
    return out


def publish_figures(figure, rid: int, user) -> None:
    """Publish and verify against their floors (issue 26). Each publish runs in a transaction rolled back at its
    end, so every run writes the same version; one version is committed first for verify to check."""
    from datetime import datetime, timezone

    from sqlalchemy import insert

    from evalapp.extensions import db
    from evalapp.models import PublishedScore, PublishedUnit, Round
    from evalapp.services import locks, readmodel, snapshots

    at = datetime(2026, 12, 7, tzinfo=timezone.utc)

    def publish(commit=False):
        round_ = db.session.get(Round, rid)
        locks.lock_round(round_)
        pub = snapshots.freeze(round_, user, at, readmodel.build(round_, draft=True, extras=True))
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        return pub

    version = publish(commit=True)
    pub_id = version.id
    units = [dict(r._mapping, id=None) for r in readmodel.unit_rows(pub_id)]
    scores = [dict(r._mapping, id=None) for r in readmodel.score_rows(pub_id)]
    for rows in (units, scores):
        for row in rows:
            row.pop("id")
            row["publication_id"] = pub_id

    def publish_floor():
        readmodel.build(db.session.get(Round, rid), draft=True, extras=True)
        db.session.execute(insert(PublishedUnit.__table__), [dict(u, code=u["code"] + "_") for u in units])
        db.session.execute(insert(PublishedScore.__table__), [dict(s, unit_code=s["unit_code"] + "_")
                                                               for s in scores])
        db.session.rollback()

    def verify():
        db.session.expire_all()
        snapshots.verify(db.session.get(snapshots.Publication, pub_id))
        db.session.rollback()

    def verify_floor():
        db.session.expire_all()
        pub = db.session.get(snapshots.Publication, pub_id)
        snapshots.checksum(pub, readmodel.unit_rows(pub_id), readmodel.score_rows(pub_id))
        db.session.rollback()

    figure("publish", publish, publish_floor)
    figure("verify", verify, verify_floor)


def growth(per_unit: list[float]) -> float:
    """How much a time per unit rises from a smaller size to a larger one (the largest such rise; 1.0 when it never
    rises). A fixed cost spread over more units, or PostgreSQL's parallel scans that start only on larger tables,
    make it fall, which is not growth."""
    return round(max([1.0] + [later / earlier for i, earlier in enumerate(per_unit)
                              for later in per_unit[i + 1:]]), 2)


def growth_figures(sizes: list[dict], name: str) -> dict:
    """A path's growth across sizes (smallest first). Checked: its time per unit at the largest size against the
    smallest ("growth from 1/16 to full size"; over 16× the units a super-linear step shows, while the noise of one
    size does not decide). Reported beside: the largest rise between any two sizes, and the floor's own growth from
    the smallest to the largest (the plain scan that floors the round results costs up to 1.4× more per unit at
    7,875 units than at 1,974 on this machine: the data outgrows the CPU's caches)."""
    per_unit = [s[name]["s"] / s["units"] for s in sizes]
    floor = [s[name]["floor_s"] / s["units"] for s in sizes]
    out = {"end_to_end": round(per_unit[-1] / per_unit[0], 2), "largest_rise": growth(per_unit),
           "floor_end_to_end": round(floor[-1] / floor[0], 2)}
    if all("collector_s" in s[name] for s in sizes):  # reported, not checked (CollectorTime)
        outside = [(s[name]["s"] - s[name]["collector_s"]) / s["units"] for s in sizes]
        out["end_to_end_outside_collector"] = round(outside[-1] / outside[0], 2)
        out["collector_share"] = [round(s[name]["collector_s"] / s[name]["s"], 2) for s in sizes]
    return out


def vs_probe(http: dict, name: str) -> float | None:
    """A path's p50 against its probe's (bench/web.py PROBE_OF); None in reports from before the probes."""
    probe = {"scoring": "probe_read", "results": "probe_read", "autosave": "probe_write"}[name]
    if "vs_probe" in http[name]:
        return http[name]["vs_probe"]
    if probe not in http:
        return None
    return round(http[name]["p50_ms"] / http[probe]["p50_ms"], 2)


def misses(report: dict) -> list[str]:
    """Every bar the figures do not reach."""
    found = []
    for size in report["sizes"]:
        for name in ("results", "subsidy", "workbook", "publish", "verify"):
            if name in size and size[name]["ratio"] > BARS[name]:
                found.append(f"{size['size']} {name} {size[name]['ratio']}× > {BARS[name]}×")
        if size["subsidy"]["peak_mb"] > BARS["subsidy_peak_mb"]:
            found.append(f"{size['size']} subsidy peak {size['subsidy']['peak_mb']} MB")
        http = size.get("http")
        if http:
            for name, bar in HTTP_BARS.items():
                ratio = vs_probe(http, name)
                if ratio is not None and ratio > BARS[bar]:
                    found.append(f"{size['size']} {bar} {ratio}× > {BARS[bar]}×")
            weight = http.get("weight")
            if weight:
                first, repeat = weight["first_visit_bytes"] / 1024, weight["repeat_visit_bytes"] / 1024
                if first > BARS["scoring_first_visit_kb"]:
                    found.append(f"{size['size']} scoring first visit {first:.1f} KB > "
                                 f"{BARS['scoring_first_visit_kb']} KB")
                if repeat > BARS["scoring_repeat_visit_kb"]:
                    found.append(f"{size['size']} scoring repeat visit {repeat:.1f} KB > "
                                 f"{BARS['scoring_repeat_visit_kb']} KB")
                if weight["repeat_visit_asset_requests"] > BARS["scoring_repeat_visit_asset_requests"]:
                    found.append(f"{size['size']} scoring repeat visit asks for "
                                 f"{weight['repeat_visit_asset_requests']} assets")
            failed = [k for figures in (http, http.get("load") or {}) for path in figures.values()
                      if isinstance(path, dict) and "statuses" in path  # every path timed, whatever its name
                      for k in path["statuses"] if int(k) >= 400 or int(k) == 0]  # 0: no answer at all
            if http["server_errors"] or failed:
                found.append(f"{size['size']} http errors")
    for name, figures in report["growth"].items():
        if figures["end_to_end"] > BARS["growth"]:
            found.append(f"growth of {name} per unit {figures['end_to_end']}× > {BARS['growth']}×")
    return found


def summarise(report: dict) -> None:
    """Growth across sizes and the bars missed, from the measured figures (also run again by --recheck)."""
    for old in ("growth_per_unit", "spread_per_unit"):  # earlier reports' forms
        report.pop(old, None)
    report["bars"] = BARS
    report["growth"] = {}
    if len(report["sizes"]) > 1:  # smallest size first
        report["growth"] = {name: growth_figures(report["sizes"], name)
                            for name in ("results", "subsidy", "workbook", "publish", "verify")
                            if all(name in size for size in report["sizes"])}
    report["misses"] = misses(report)


def write_report(path: str, report: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2)


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's model name: the HTTP ratios to /healthz depend on it (docs/performance.md)."""
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="94x20,375x20,1500x20")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-http", dest="http", action="store_false")
    parser.add_argument("--check", action="store_true", help="exit 1 when a bar is missed")
    parser.add_argument("--recheck", nargs="+", metavar="JSON",
                        help="recompute growth and missed bars of stored results (after a change of the checks)")
    args = parser.parse_args()
    if args.recheck:
        for path in args.recheck:
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            summarise(report)
            write_report(path, report)
            print(f"{path}: bars missed: {report['misses'] or 'none'}")
        return
    started = time.perf_counter()
    report = {"date": datetime.date.today().isoformat(), "db": args.db, "cpu": cpu_model(), "cores": os.cpu_count(),
              "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
              "python": platform.python_version(), "runs": args.runs, "bars": BARS, "sizes": []}
    sizes = args.sizes.split(",")
    for size in sizes:
        t, v = (int(x) for x in size.split("x"))  # the pass under load at the largest size only (time)
        report["sizes"].append(bench_size(args.db, t, v, args.runs, args.http, load=size == sizes[-1]))
    report["seconds"] = round(time.perf_counter() - started)
    summarise(report)
    out = os.path.join(ROOT, "bench", "results", f"{report['date']}-{args.db}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_report(out, report)
    print(f"written {out} in {report['seconds']} s; bars missed: {report['misses'] or 'none'}")
    if args.check and report["misses"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
