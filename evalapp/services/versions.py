"""A change counter for what round results are computed from, so per-process caches know when to recompute.

Every SQL write to a watched table marks its connection (except inside `results_untouched`: an inspector's own
sheet); when that connection commits, the same transaction adds one to `data_versions.results`. A reader that reads
the counter before the data can therefore never keep a result older than the counter it filed it under. The counter
row is updated as the last statement before COMMIT, so writers queue on it only for the commit itself, and no lock is
taken after it (no deadlock through it).
"""
import re
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from ..extensions import db
from ..models import DataVersion

RESULTS = "results"
RESULT_TABLES = frozenset({"org_units", "round_units", "rounds", "catalogue_versions", "sheets", "scores",
                           "sheet_bonuses", "sheet_vetoes"})
# Of the sheets, round results read the self-assessment and the final sheet only (services.results.round_results):
# an inspector's own sheet is what the final sheet is reconciled from, not part of any result. Named by what results
# ignore, so that a new kind of sheet counts until someone decides otherwise.
SHEET_KINDS_RESULTS_IGNORE = frozenset({"inspector"})
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
CHANGED = "evalapp.results_changed"
PAUSED = "evalapp.versions_paused"  # set by the migrations, which run before the counter's table exists
BUMP = "UPDATE data_versions SET n = n + 1 WHERE name = 'results'"


@event.listens_for(Engine, "before_cursor_execute")
def _watch(conn, cursor, statement, parameters, context, executemany):
    found = _WRITE.match(statement)
    if found and found.group(1).lower() in RESULT_TABLES:
        conn.info[CHANGED] = True


@event.listens_for(Engine, "commit")
def _count(conn):
    # Runs just before the DBAPI commit, inside the transaction; a raw cursor keeps it out of the events above.
    if conn.info.pop(CHANGED, False) and not conn.info.get(PAUSED):
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(BUMP)
        finally:
            cursor.close()


@event.listens_for(Engine, "rollback")
def _forget(conn):
    conn.info.pop(CHANGED, None)


@contextmanager
def results_untouched():
    """Writes in the block change nothing round results are computed from (an inspector's own sheet: see
    SHEET_KINDS_RESULTS_IGNORE), so they do not move the counter and the cached results stay. While a province
    scores, nearly every save is an inspector's: without this, each one made the next results view compute the whole
    round again. Writes the transaction made before the block (flushed first) still count, and so do writes after."""
    db.session.flush()  # the transaction's pending writes are made before the block, and counted
    info = db.session.connection().info
    earlier = info.get(CHANGED, False)
    yield
    # Not in a `finally`, on purpose: after an exception the mark stays, and at worst counts once too often (a
    # rollback clears it anyway); a mark lost would keep stale results.
    if not earlier:
        info.pop(CHANGED, None)


def results_version() -> int:
    """The counter as committed now (read it before the data it stands for)."""
    return db.session.scalar(select(DataVersion.n).where(DataVersion.name == RESULTS)) or 0
