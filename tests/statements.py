"""Counting the SQL statements a block runs, on the test's own engine (never a listener inside evalapp/)."""
from contextlib import contextmanager

from sqlalchemy import event

from evalapp.extensions import db


@contextmanager
def counting():
    """The SQL statements run inside the block, in order."""
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
