"""Measure the PL/pgSQL save (probe_save.py) beside the app's autosave, the one-row write probe and /healthz.

    .venv/bin/python bench/experiments/run_save.py [--townships 94 --villages 20]

PostgreSQL only (BENCH_PG as for bench/run.py). Builds evalapp_bench_experiment with demo-scale, installs
save_function.sql, serves probe_save:app with gunicorn as bench/web.py serves the app, and prints p50s and ratios,
one client, the paths taking turns. The two saves write different indicators of the same sheet.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
sys.path[:0] = [ROOT, BENCH]

import run  # noqa: E402
import web  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=94)
    parser.add_argument("--villages", type=int, default=20)
    args = parser.parse_args()
    from flask_migrate import upgrade

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.services.scale import generate

    url = run.database("postgresql", "evalapp_bench_experiment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENV": "development",
                      "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}})
    with app.app_context():
        upgrade()
        round_id = generate(args.townships, args.villages, seed=1).id
        setup = web.prepare(round_id, 1)
        with db.engine.begin() as conn:  # as the driver's own query: no placeholders (%ROWTYPE)
            conn.connection.dbapi_connection.execute(open(os.path.join(HERE, "save_function.sql"),
                                                          encoding="utf-8").read())
        db.session.remove()
        db.engine.dispose()
    with web.serve(url, "probe_save:app", f"{BENCH},{HERE}") as served:
        port = served[0]
        sheet, codes = setup["sheet_ids"][0], setup["codes"]
        versions = {}

        def saving(prefix, code):
            def request(i, n):
                return ("PUT", f"{prefix}/{sheet}/scores/{code}" if "api" in prefix else f"{prefix}/{sheet}/{code}",
                        {"deductions": [], "note": f"n {n}", "version": versions.get(code, 0)})

            def after(i, status, payload):
                answer = json.loads(payload)
                versions[code] = answer["version"] if status == 200 else answer["current"]["version"]
            return request, after

        paths = {"healthz": web.Path(port, "", lambda i, n: ("GET", "/healthz", None)),
                 "autosave (the app's)": web.Path(port, setup["inspector"], *saving("/api/v1/sheets", codes[0])),
                 "PL/pgSQL save": web.Path(port, setup["inspector"], *saving("/bench/experiment/save", codes[1])),
                 "one-row write (probe)": web.Path(port, setup["inspector"],
                                                   lambda i, n: ("PUT", f"/bench/probe/write/{sheet}", {}))}
        for path in paths.values():
            path.batch(web.WARM_UP + 1, record=False)
        for _ in range(web.ROUNDS):
            for path in paths.values():
                path.batch(web.REQUESTS // web.ROUNDS)
        floor = paths["healthz"].summary()["p50_ms"]
        for name, path in paths.items():
            s = path.summary()
            print(f"{name:24s} p50 {s['p50_ms']:6.2f} ms  {s['p50_ms'] / floor:5.2f}×  {s['statuses']}")
    if served[1]:
        print(f"{served[1]} tracebacks in the server's log")


if __name__ == "__main__":
    main()
