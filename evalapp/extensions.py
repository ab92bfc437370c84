"""Unbound extensions, bound to the app in create_app()."""
import select
import sqlite3
import time

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

# Stable constraint names: Alembic's SQLite batch mode needs them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their loaded values after a commit (no reload of the sheet, round and catalogue on every
# autosave); code that changes rows behind the ORM's back (conditional UPDATEs) expires what it touched.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Log-in throttling with LOGIN_THROTTLE_BACKEND = "redis" (the default keeps failures in the database instead:
# services/throttle.py); its counters are in RATELIMIT_STORAGE_URI, redis://… shared by every worker and server.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys on, WAL for concurrent readers, and wait instead of failing on a busy lock."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# PostgreSQL: psycopg prepares a statement on a connection after its 5th run (no planning after that: the sheet
# query's plan took 1 ms of its 1.3 ms), but it forgets every prepared statement on ROLLBACK, and SQLAlchemy ends
# each read-only request with one. A transaction that ran nothing but SELECTs ends the same whichever way it
# ends, so it ends with COMMIT and the connection keeps its prepared statements. Anything else, errors included,
# is rolled back as before.
_WROTE = "evalapp.wrote"


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany):
    if not statement.lstrip()[:6].upper() == "SELECT":
        conn.info[_WROTE] = True


@event.listens_for(Engine, "engine_connect")
def _keep_prepared_statements(conn):
    dialect = conn.dialect
    if dialect.driver != "psycopg" or getattr(dialect, "_evalapp_read_only_commit", False):
        return
    rollback = dialect.do_rollback

    def do_rollback(proxied):
        from psycopg.pq import TransactionStatus

        info = getattr(proxied, "info", None)
        wrote = info.pop(_WROTE, False) if isinstance(info, dict) else True  # not a pooled connection: roll back
        dbapi = getattr(proxied, "dbapi_connection", None)
        if not wrote and dbapi is not None and dbapi.info.transaction_status == TransactionStatus.INTRANS:
            dbapi.commit()
        else:
            rollback(proxied)

    dialect.do_rollback = do_rollback
    dialect._evalapp_read_only_commit = True


@event.listens_for(Engine, "commit")
def _forget_writes(conn):
    conn.info.pop(_WROTE, None)


# PostgreSQL: a connection taken from the pool is checked without a round trip (pool_pre_ping sent one on every
# request: one of an autosave's ten). While a connection sits idle in the pool, nothing may arrive on its
# socket; a server that restarts, or ends the backend (pg_terminate_backend, idle timeouts), sends its reason and
# closes, and the socket becomes readable. Then, and after a long idle time (a firewall that forgot the
# connection answers the ping with a reset), the connection is pinged; a failed ping makes the pool replace it
# before the request sees it.
IDLE_PING_SECONDS = 30.0
_CHECKED_IN = "evalapp.checked_in"


@event.listens_for(Pool, "checkin")
def _note_checkin(dbapi_connection, connection_record):
    if connection_record is not None:
        connection_record.info[_CHECKED_IN] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _check_alive(dbapi_connection, connection_record, connection_proxy):
    if type(dbapi_connection).__module__.split(".")[0] != "psycopg":  # psycopg 3 only (not psycopg2, not SQLite)
        return
    checked_in = connection_record.info.get(_CHECKED_IN)
    if checked_in is None:  # connected just now
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("the connection was closed")
    if _readable(dbapi_connection.fileno()) or time.monotonic() - checked_in > IDLE_PING_SECONDS:
        ping(dbapi_connection)


def _readable(fd: int) -> bool:
    """Whether anything (data, an error, a hang-up) waits on the socket, without waiting (poll: any fd number)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def ping(dbapi_connection) -> None:
    """One round trip outside any transaction (as SQLAlchemy's pre-ping); DisconnectionError if it fails, or if the
    connection is not idle (a pooled connection always is)."""
    import psycopg
    from psycopg.pq import TransactionStatus

    if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
        raise exc.DisconnectionError("a pooled connection was not idle")
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(";")
        dbapi_connection.autocommit = autocommit
    except psycopg.Error as error:
        raise exc.DisconnectionError(str(error)) from error
