"""PgBouncer in transaction mode between the app and PostgreSQL (issue 34, point 4): with DATABASE_PGBOUNCER the
app's psycopg connections prepare no statement, since consecutive transactions of one client may run on different
server connections. .ci/run starts a PgBouncer and runs the tests marked `pgbouncer` through it (TEST_PGBOUNCER_URL);
the API and sync suites carry that mark."""
import pytest
from sqlalchemy import create_engine, exc, make_url, text

from evalapp.extensions import db
from tests.conftest import PG_URL, PGBOUNCER_URL, make_app
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

pytestmark = pytest.mark.pgbouncer
needs_bouncer = pytest.mark.skipif(not (PG_URL and PGBOUNCER_URL),
                                   reason="needs PgBouncer in front of PostgreSQL (TEST_PGBOUNCER_URL, .ci/run)")
QUERY = text("SELECT count(*) FROM users WHERE id > :floor")


def alternate(engine, rounds: int = 8) -> None:
    """Two clients of one engine taking turns, each turn one transaction running the same statement: what
    consecutive requests of two app threads do."""
    first, second = engine.connect(), engine.connect()
    try:
        for floor in range(rounds):
            for conn in (first, second):
                with conn.begin():
                    conn.execute(QUERY, {"floor": floor}).scalar_one()
    finally:
        first.close()
        second.close()


def test_the_setting_asks_psycopg_to_prepare_nothing_and_keeps_the_other_engine_options():
    url = "postgresql+psycopg://app@db.example/evalapp"
    app = make_app(url, DATABASE_PGBOUNCER=True)
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["prepare_threshold"] is None
    assert options["pool_pre_ping"] is True
    assert "connect_args" not in make_app(url).config["SQLALCHEMY_ENGINE_OPTIONS"]  # direct: psycopg's default


@needs_bouncer
def test_the_apps_engine_runs_alternating_transactions_through_the_bouncer(app):
    assert db.engine.url.port == make_url(PGBOUNCER_URL).port
    alternate(db.engine)  # no error: nothing was prepared


@needs_bouncer
def test_without_the_setting_prepared_statements_break_behind_the_bouncer(app):
    """The control: the same turns on an engine with psycopg's default (a statement run five times on a connection
    is prepared on the sixth) fail, so the bouncer really hands each transaction to a shared server connection and
    the setting is what makes the app work there."""
    preparing = create_engine(db.engine.url)
    try:
        with pytest.raises(exc.DBAPIError, match="prepared statement"):
            alternate(preparing)
    finally:
        preparing.dispose()
