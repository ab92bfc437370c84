"""Experiment (2026-12-01, issue 17): how long publishing takes at province scale, now that it freezes a version.

    .venv/bin/python bench/experiments/publish_scale.py --db sqlite --townships 1500 --villages 20

Builds the scale district (services.scale.generate: every unit with an approved final sheet) on a scratch database,
then times publication.publish (the freeze: unit rows, score rows with the members' deductions, the checksum),
verify-publication's check, and two downloads of the 正式 eligibility sheet (byte-identical). One run, wall time:
a measurement to read, not a bar.
"""
import argparse
import hashlib
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from sqlalchemy import func, select, text  # noqa: E402

from evalapp import create_app  # noqa: E402
from evalapp.extensions import db  # noqa: E402
from evalapp.models import PublishedScore, PublishedUnit, User  # noqa: E402
from evalapp.services import downloads, publication, scale, snapshots  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--townships", type=int, default=1500)
    parser.add_argument("--villages", type=int, default=20)
    args = parser.parse_args()
    if args.db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/publish.sqlite3"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/evalapp_publish_bench"
        from sqlalchemy import create_engine
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("DROP DATABASE IF EXISTS evalapp_publish_bench"))
            c.execute(text("CREATE DATABASE evalapp_publish_bench"))
        admin.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "..", "migrations"))
        t0 = time.perf_counter()
        round_ = scale.generate(args.townships, args.villages, seed=7)
        db.session.commit()
        if args.db == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        built = time.perf_counter() - t0
        user = User(username="bench-district", display_name="区级审核", role="district", password_hash="x")
        db.session.add(user)
        db.session.commit()
        t0 = time.perf_counter()
        pub = publication.publish(round_, user, confirm_incomplete=True)
        published = time.perf_counter() - t0
        units = db.session.scalar(select(func.count()).select_from(PublishedUnit).where(
            PublishedUnit.publication_id == pub.id))
        scores = db.session.scalar(select(func.count()).select_from(PublishedScore).where(
            PublishedScore.publication_id == pub.id))
        t0 = time.perf_counter()
        check = snapshots.verify(pub)
        verified = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = downloads.eligibility_workbook(round_, user)[0].getvalue()
        downloaded = time.perf_counter() - t0
        second = downloads.eligibility_workbook(round_, user)[0].getvalue()
        print(f"{args.db} {args.townships}x{args.villages}: built in {built:.1f} s; publish {published:.1f} s "
              f"({units} unit rows, {scores} score rows); verify {verified:.1f} s ({'ok' if check.ok else check.problems[:3]}); "
              f"official sheet {downloaded:.1f} s, {len(first)} bytes, "
              f"two downloads {'identical' if hashlib.sha256(first).digest() == hashlib.sha256(second).digest() else 'DIFFER'}")


if __name__ == "__main__":
    main()
