"""Connections: SQLAlchemy's pre-ping checks a pooled connection, so a dead one never reaches a request; the app's
listeners sit on its own engine only; nothing in evalapp acts on statements behind the services' back (issue 16)."""
import pathlib
import re
import select
import sqlite3
import time

import psycopg
import pytest
from sqlalchemy import create_engine, text

from evalapp.extensions import db

from .conftest import PG_URL
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

pg_only = pytest.mark.skipif(not PG_URL, reason="pooled psycopg connections: PostgreSQL only")
SOURCE = pathlib.Path(__file__).resolve().parents[1] / "evalapp"


def _connect(**options):
    """A psycopg connection of its own to the app's database, outside the pool."""
    return psycopg.connect(db.engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), **options)


def _backend_pid() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _terminate_pooled() -> set[int]:
    """End the backends of every connection idle in the pool, from another connection, and wait until each
    client socket has the server's goodbye. Returns their process ids."""
    pooled = [record.dbapi_connection for record in db.engine.pool._pool.queue]
    pids = {c.info.backend_pid for c in pooled}
    assert pids, "nothing pooled"
    with _connect(autocommit=True) as admin:
        for pid in pids:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    deadline = time.monotonic() + 5
    while not all(select.select([c.fileno()], [], [], 0)[0] for c in pooled):
        assert time.monotonic() < deadline, "a terminated backend's socket never became readable"
        time.sleep(0.01)
    return pids


@pg_only
def test_pooled_connections_are_pre_pinged(app):
    assert db.engine.pool._pre_ping is True


@pg_only
def test_a_connection_whose_backend_ended_is_replaced_before_use(app):
    _backend_pid()
    ended = _terminate_pooled()
    assert _backend_pid() not in ended  # no OperationalError: the pre-ping failed and the pool replaced it


@pg_only
def test_a_request_after_the_server_ended_its_connections_succeeds(app, login_as):
    client = login_as("inspector")
    assert client.get("/inspection/").status_code == 200
    db.session.close()  # the test's own session gives its connection back too
    ended = _terminate_pooled()
    assert client.get("/inspection/").status_code == 200
    assert _backend_pid() not in ended


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's pragmas")
def test_sqlite_pragmas_are_set_on_the_apps_engine_only(app, tmp_path):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    other = create_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")  # another engine in the same process
    with other.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    other.dispose()
    sqlite3.connect(":memory:").close()


def test_no_listener_on_engine_or_pool_classes_and_no_statement_matching():
    """Listeners act on the app's engine only, registered in create_app; nothing reads SQL text to decide what a
    transaction did, and a rollback is a rollback."""
    found = []
    for path in SOURCE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in (r"listens_for\(\s*(Engine|Pool|Connection)\b", r"event\.listen\(\s*(Engine|Pool)\b",
                        r"before_cursor_execute", r"do_rollback", r"set_committed_value"):
            if re.search(pattern, source):
                found.append(f"{path.relative_to(SOURCE)}: {pattern}")
    assert found == []
