"""The round's write lock: what orders every change to an input a published version holds (an unlock, a subsidy
rule corrected, a signature, a leader changed) against publishing itself (issue 28, point 1). In the database, not in
a process: app servers are several."""
from sqlalchemy import select, update

from ..extensions import db
from ..models import Round


def lock_round(round_: Round) -> None:
    """Take the round's write lock before reading what a publication decides on: PostgreSQL's row lock, or on
    SQLite the database's write lock (a no-op UPDATE: Python's sqlite3 begins a transaction at the first write, and
    reads before it see every commit) — then read the round again under it. Of two publishers, the second waits here
    and then sees the first one's publication."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    else:
        db.session.execute(update(Round).where(Round.id == round_.id).values(status=Round.status))
    db.session.refresh(round_)
