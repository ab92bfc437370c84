"""The cost of one audit row's write with the tamper-evident trail (issue 34, point 6) against today's plain INSERT.

    .venv/bin/python bench/audit_write.py --db sqlite|postgresql [--rows 200] [--runs 7] [--history 20000]

Not part of CI. Builds two databases beside each other (evalapp_bench_audit_0027 at migration 0027, the schema
before the trail; evalapp_bench_audit at head), each with `--history` audit rows over 2,000 chains, and times two
paths in pairs (bench/run.py's paired(): alternating order, the median of the pairs' ratios):

- "commit": `--rows` rows each in its own transaction (one statement each and its COMMIT, as an autosave's audit
  row — the autosave's other statements not included, so the ratio is the worst case for the row alone);
- "in txn": `--rows` rows in one transaction, as a bulk change writes them (the first row reads its links, the
  others link to the transaction's previous row: the HMAC and the INSERT, without a COMMIT each).

Today's path is the INSERT the app ran before (services.audit.record at 5929eaa): the same values, no link read, no
MAC, on the 0027 schema (no chain index, no unsealed index).
"""
import argparse
import os
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import run  # noqa: E402

CHAINS = 2_000


class Score:  # an object the rows are about, as the app's autosave names it
    def __init__(self, id_):
        self.id = id_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--history", type=int, default=20_000)
    args = parser.parse_args()
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from evalapp import create_app
    from evalapp.extensions import db
    from evalapp.models import AuditEvent
    from evalapp.services import audit

    config = {"SECRET_KEY": "bench", "ENV": "development", "SEAL_KEYS": {"b1": "5e" * 32}, "SEAL_KEY_ID": "b1"}
    before = create_app({**config, "SQLALCHEMY_DATABASE_URI": run.database(args.db, "evalapp_bench_audit_0027")})
    after = create_app({**config, "SQLALCHEMY_DATABASE_URI": run.database(args.db, "evalapp_bench_audit")})
    today_insert = insert(AuditEvent)
    counter = [0]

    def today(n):  # the record() of 5929eaa
        db.session.connection().execute(today_insert, {
            "user_id": None, "action": "score.save", "object_type": "Score", "object_id": n % CHAINS,
            "unit_id": None, "round_id": None, "old": {"points": "1.00"}, "new": {"points": "2.50", "reason": "台账"},
            "detail": "", "ip": "10.0.0.8"})

    def trail(n):
        audit.record("score.save", user=None, address="10.0.0.8", obj=Score(n % CHAINS), old={"points": "1.00"},
                     new={"points": "2.50", "reason": "台账"})

    with before.app_context():
        upgrade(revision="0027")
        for n in range(args.history):
            today(n)
        db.session.commit()
    with after.app_context():
        upgrade()
        for n in range(args.history):
            trail(n)
        db.session.commit()

    def path(app, write, commit_each):
        def go():
            with app.app_context():
                for _ in range(args.rows):
                    counter[0] += 1
                    write(counter[0])
                    if commit_each:
                        db.session.commit()
                db.session.commit()
        return go

    print(f"{args.db}: {args.history} rows of history over {CHAINS} chains; {args.rows} rows a run, "
          f"{args.runs} paired runs (median)")
    for label, each in (("commit", True), ("in txn", False)):
        t, f, ratio = run.paired(path(after, trail, each), path(before, today, each), args.runs)
        print(f"  {label:7} today {f / args.rows * 1e6:8.1f} µs/row   trail {t / args.rows * 1e6:8.1f} µs/row   "
              f"+{(t - f) / args.rows * 1e6:6.1f} µs   ×{ratio:.2f}")
    # The trail's own parts, best of repeats (the least they cost: on a shared machine a median carries its load).
    from evalapp.domain import audit_trail as trail
    from evalapp.models.base import utcnow

    row = {"at": utcnow(), "user_id": 7, "action": "score.save", "object_type": "Score", "object_id": 17,
           "unit_id": 3, "round_id": 1, "old": {"points": "1.00"}, "new": {"points": "2.50", "reason": "台账"},
           "detail": "", "ip": "10.0.0.8", "chain": "Score:17", "prev_id": 5, "seen_id": 9, "mac_key": "b1"}
    secret = bytes.fromhex("5e" * 32)

    def best(fn, number=200, repeat=15):
        return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6

    mac_us = best(lambda: trail.mac(secret, trail.row_message(
        {**row, "old": trail.stored_json(row["old"]), "new": trail.stored_json(row["new"])}, "a" * 64, "b" * 64)))
    with after.app_context():
        connection = db.session.connection()
        links_us = best(lambda: connection.execute(audit._LINKS, {"chain": "Score:17"}).all())
        db.session.rollback()
    print(f"  parts (best of 15): MAC and canonical JSON {mac_us:.1f} µs/row; the link read {links_us:.1f} µs "
          f"a transaction")
    for app in (after, before):
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
