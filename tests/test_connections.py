"""Pooled PostgreSQL connections are checked without a round trip, and a dead one never reaches a request."""
import select
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError

from evalapp import extensions
from evalapp.extensions import db

from .conftest import PG_URL

pg_only = pytest.mark.skipif(not PG_URL, reason="psycopg's pooled connections: PostgreSQL only")


@pytest.fixture
def pings(monkeypatch):
    """Count the pings the checkout check sends."""
    sent = []
    original = extensions.ping

    def counting(dbapi_connection):
        sent.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(extensions, "ping", counting)
    return sent


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
def test_pre_ping_is_replaced_by_the_checkout_check(app):
    assert db.engine.pool._pre_ping is False


@pg_only
def test_a_connection_used_just_now_is_not_pinged(app, pings):
    for _ in range(3):
        _backend_pid()
    assert pings == []


@pg_only
def test_a_long_idle_connection_is_pinged(app, pings, monkeypatch):
    first = _backend_pid()
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 0.0)
    assert _backend_pid() == first  # pinged, alive, kept
    assert len(pings) == 1


@pg_only
def test_a_connection_whose_backend_ended_is_replaced_before_use(app, pings):
    _backend_pid()
    ended = _terminate_pooled()
    assert _backend_pid() not in ended  # no OperationalError: the pool replaced it
    assert len(pings) == 1


@pg_only
def test_a_request_after_the_server_ended_its_connections_succeeds(app, login_as, pings):
    client = login_as("inspector")
    assert client.get("/inspection/").status_code == 200
    db.session.close()  # the test's own session gives its connection back too
    ended = _terminate_pooled()
    assert client.get("/inspection/").status_code == 200
    assert pings and _backend_pid() not in ended


@pg_only
def test_a_connection_that_is_not_idle_is_not_handed_out(app):
    with _connect() as conn:
        conn.execute("SELECT 1")  # a transaction left open
        with pytest.raises(DisconnectionError):
            extensions.ping(conn)


def test_other_drivers_are_left_alone():
    """psycopg2's connections (module psycopg2.extensions) and SQLite's have no psycopg 3 attributes to check."""
    class Psycopg2Like:
        closed = False  # no .broken, .info or .execute: touching them would raise

    Psycopg2Like.__module__ = "psycopg2.extensions"

    class Record:
        info = {"evalapp.checked_in": 0.0}  # long idle: psycopg 3 would be pinged

    extensions._check_alive(Psycopg2Like(), Record(), None)
    extensions._check_alive(__import__("sqlite3").connect(":memory:"), Record(), None)
