"""The sync call against single autosaves (issue 31, speed): a batch of 100 score operations (four sheets' worth)
applied by one POST /api/v1/sync, against the same 100 changes sent as 100 PUT /api/v1/sheets/<id>/scores/<code>,
both through the Flask test client in process (no server, no network: the request handling, the save and its
transaction are what is measured). Bar: the batch in at most 0.5× the time of the single saves, on both databases.

    .venv/bin/python bench/sync_batch.py --db sqlite|postgresql [--runs 7] [--check]

Not part of CI. Builds its own database (evalapp_bench_sync: bench/data/ for SQLite, BENCH_PG's server for
PostgreSQL) with a round in inspection over four units of the inspector's team. Each change writes (the note
differs each time), so both sides do the same 100 writes; the paths run as pairs in alternating order after a
warm-up pair and the median of the pairs' ratios is reported (bench/run.py's paired()).
"""
import argparse
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import run  # noqa: E402

BAR = 0.5
OPERATIONS = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit non-zero when the bar is missed")
    parser.add_argument("--statements", action="store_true",
                        help="count the SQL statements of one batch and of its 100 single saves, and stop")
    args = parser.parse_args()
    from flask_migrate import upgrade
    from sqlalchemy import select

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.models import Indicator, Sheet
    from evalapp.services.sheet_views import catalogue_for_sheet
    from tests.conftest import AuthActions, IsolatedClient
    from tests.factories import PASSWORD, make_round

    url = run.database(args.db, "evalapp_bench_sync")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENV": "development",
                      "WTF_CSRF_ENABLED": False, "DEMO_PASSWORD": "demo-pass-2021",
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}})
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        # the inspector's team: 清溪镇 and three of its villages (four sheets of 20 indicators and more)
        world = make_round("inspection", townships={"清溪镇": ["荷塘村", "柳湾社区", "石门村"], "白沙镇": ["石桥村"]})
        sheets = db.session.scalars(select(Sheet).where(Sheet.round_id == world.round.id, Sheet.kind == "inspector",
                                                        Sheet.inspector_id == world.people["inspector"].id)
                                    .order_by(Sheet.id)).all()
        targets = []  # (sheet id, indicator code): 25 of each of the four sheets
        for sheet in sheets[:4]:
            codes = db.session.scalars(select(Indicator.code).where(
                Indicator.catalogue_id == catalogue_for_sheet(sheet).id).order_by(Indicator.id)).all()
            targets += [(sheet.id, codes[i % len(codes)]) for i in range(OPERATIONS // 4)]
        client = app.test_client()
        assert AuthActions(client).login("inspector", PASSWORD).status_code == 302
        versions: dict[tuple[int, str], int] = {}
        turn = [0]

        def bodies():
            turn[0] += 1
            out = []
            for n, key in enumerate(targets):  # an indicator that comes twice is based on its previous change
                version = versions.get(key, 0)
                out.append((key, {"deductions": [], "note": f"第{turn[0]}轮 {n}", "version": version}))
                versions[key] = version + 1
            return out

        def singles():
            for (sheet_id, code), body in bodies():
                response = client.put(f"/api/v1/sheets/{sheet_id}/scores/{code}", json=body)
                assert response.status_code == 200, response.get_json()

        def batch():
            ops = [{"op_id": str(uuid.uuid4()), "type": "score", "sheet_id": sheet_id, "indicator": code,
                    "device_time": "2026-12-07T10:00:00+08:00", "body": body} for (sheet_id, code), body in bodies()]
            response = client.post("/api/v1/sync", json={"device_id": "bench", "operations": ops})
            results = response.get_json()["results"]
            assert {r["status"] for r in results} == {"applied"}, results[:3]

        if args.statements:
            count_statements(db.engine, batch, singles)
            return
        batch_s, singles_s, ratio = run.paired(batch, singles, args.runs)
        db.session.remove()
        db.engine.dispose()
    figures = {"db": args.db, "operations": OPERATIONS, "runs": args.runs, "batch_s": round(batch_s, 4),
               "singles_s": round(singles_s, 4), "ratio": round(ratio, 3), "bar": BAR, "ok": ratio <= BAR,
               "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps(figures, ensure_ascii=False))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"{time.strftime('%Y-%m-%d')}-sync-{args.db}.json"), "w",
              encoding="utf-8") as f:
        json.dump(figures, f, ensure_ascii=False, indent=1)
    if args.check and ratio > BAR:
        sys.exit(1)


def count_statements(engine, batch, singles) -> None:
    """The statements each path sends for 100 operations (after a warm-up of both), the batch's by kind."""
    from collections import Counter

    from sqlalchemy import event

    batch(), singles()
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:110])

    event.listen(engine, "before_cursor_execute", note)
    try:
        for name, path in (("batch", batch), ("singles", singles)):
            seen.clear()
            path()
            print(f"{name}: {len(seen)} statements, {len(seen) / OPERATIONS:.1f} per operation")
            for text, n in Counter(seen).most_common(40):
                print(f"  {n:5d}  {text}")
    finally:
        event.remove(engine, "before_cursor_execute", note)


if __name__ == "__main__":
    main()
