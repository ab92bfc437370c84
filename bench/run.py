"""Benchmarks of the hot paths, each beside its floor measured in the same run (ratios hold on a noisy machine).

    python bench/run.py --db sqlite|postgresql --sizes 94x20,375x20,1500x20 [--runs 5]

For each size it builds a database with `demo-scale`, then times (median of --runs after a warm-up):
  results   round_results() (totals, results, roll-up input)  vs  one plain SQL scan summing points by sheet
  subsidy   the eligibility workbook                          vs  xlsxwriter constant_memory, same cells, constants
  workbook  the district results workbook                     vs  the same floor for its cells
and reports time per unit across sizes. Results go to bench/results/<date>-<db>.json.
"""
import argparse
import datetime
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
PG_ADMIN = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floor_workbook(rows: int, cols: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
    ws = wb.add_worksheet()
    for r in range(rows):
        for c in range(cols):
            ws.write_number(r, c, 95.5) if c % 2 else ws.write_string(r, c, "测试村")
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


def bench_size(kind: str, townships: int, villages: int, runs: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.models import Score, User
    from evalapp.services.export import results_workbook
    from evalapp.services.results import round_results
    from evalapp.services.scale import generate
    from evalapp.services.subsidy import eligibility_workbook

    url = database(kind, f"evalapp_bench_{townships}x{villages}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENV": "development",
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}})
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        round_ = generate(townships, villages, seed=1)
        generate_s = time.perf_counter() - start
        units = townships * (villages + 1)
        score_rows = db.session.scalar(select(func.count(Score.id)))
        user = db.session.scalar(select(User).where(User.role == "inspector"))
        rid = round_.id
        floor_sql = text("SELECT s.sheet_id, SUM(s.points) FROM scores s JOIN sheets sh ON sh.id = s.sheet_id "
                         "WHERE sh.round_id = :r GROUP BY s.sheet_id")

        def fresh(fn):
            def run():
                db.session.expire_all()
                return fn()
            return run

        floor = median_time(fresh(lambda: db.session.execute(floor_sql, {"r": rid}).all()), runs)
        results = median_time(fresh(lambda: round_results(db.session.get(type(round_), rid))), runs)
        detail_cells = (units + 1) * 12
        floor_xlsx = median_time(lambda: floor_workbook(units + 1, 12), runs)
        subsidy = median_time(fresh(lambda: eligibility_workbook(db.session.get(type(round_), rid), user)), runs)
        tracemalloc.start()
        eligibility_workbook(db.session.get(type(round_), rid), user)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        wb_cols = 7 + 25  # the wider of the two sheets
        floor_wb = median_time(lambda: floor_workbook(units + 1, wb_cols), runs)
        workbook = median_time(fresh(lambda: results_workbook(db.session.get(type(round_), rid))), runs)
        db.session.remove()
        db.engine.dispose()
    return {
        "size": f"{townships}x{villages}", "units": units, "score_rows": score_rows, "generate_s": round(generate_s, 1),
        "results": {"s": round(results, 4), "floor_s": round(floor, 4), "ratio": round(results / floor, 2),
                    "per_unit_ms": round(results / units * 1000, 4)},
        "subsidy": {"s": round(subsidy, 4), "floor_s": round(floor_xlsx, 4), "ratio": round(subsidy / floor_xlsx, 2),
                    "cells": detail_cells, "peak_mb": round(peak_mb, 1)},
        "workbook": {"s": round(workbook, 4), "floor_s": round(floor_wb, 4), "ratio": round(workbook / floor_wb, 2)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="94x20,375x20,1500x20")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report = {"date": datetime.date.today().isoformat(), "db": args.db, "cores": os.cpu_count(),
              "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
              "python": platform.python_version(), "sizes": []}
    for size in args.sizes.split(","):
        t, v = (int(x) for x in size.split("x"))
        result = bench_size(args.db, t, v, args.runs)
        report["sizes"].append(result)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    per_unit = [s["results"]["per_unit_ms"] for s in report["sizes"]]
    report["growth_results_per_unit"] = round(max(per_unit) / min(per_unit), 2) if per_unit else None
    out = os.path.join(ROOT, "bench", "results", f"{report['date']}-{args.db}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2)
    print(f"written {out}")


if __name__ == "__main__":
    main()
