"""The scale generator makes valid, complete data in bulk."""
from sqlalchemy import func, select

from evalapp.extensions import db
from evalapp.models import Score, Sheet
from evalapp.services.results import round_results
from evalapp.services.scale import generate


def test_demo_scale_makes_every_sheet_with_valid_scores(empty_app):
    round_ = generate(3, 4, seed=7)
    units = 3 * (4 + 1)
    assert db.session.scalar(select(func.count(Sheet.id)).where(Sheet.round_id == round_.id)) == units * 4
    rows = round_results(round_)
    assert len(rows) == units and all(r.result.value in ("pass", "fail", "veto") for r in rows)
    assert db.session.scalar(select(func.min(Score.points))) >= 0
    result = empty_app.test_cli_runner().invoke(args=["demo-scale", "--townships", "1", "--villages-per-township",
                                                      "2", "--seed", "8"])
    assert result.exit_code == 0 and "3 个单位" in result.output


def test_the_generated_database_is_settled_for_measuring(empty_app):
    """Statistics gathered and the load digested: PostgreSQL vacuumed (autovacuum would otherwise start on the new
    rows while pages are timed), SQLite's write-ahead log folded into the database file."""
    import os

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    generate(2, 3, seed=9)
    url = make_url(empty_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        vacuumed = db.session.scalar(text("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                                          "FROM pg_stat_user_tables WHERE relname = 'scores'"))
        assert vacuumed
    else:
        wal = url.database + "-wal"
        assert not os.path.exists(wal) or os.path.getsize(wal) == 0
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'scores'")) >= 1
