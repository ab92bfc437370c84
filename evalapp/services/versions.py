"""The results version of each round: cached results are keyed by (round, version), so a change that a service
makes is seen by the next view, whichever process serves it.

Every service function that changes what a round's results are computed from — self-assessment and final sheets'
scores, figures and statuses, bonuses and vetoes, publication and unlocks, round settings, scope and phase, sheet
creation, and the units themselves (a rename, a move or a deactivation touches every round) — calls `bump` in its
own transaction, as its last write before the commit: the new version becomes visible together with the data it
stands for, and the row lock it takes on PostgreSQL is held only for the commit (writers of one round queue on it
for that moment, never while they work, and no lock is taken after it: no deadlock through it).

An inspector's own sheet is not read by any result (the final sheet is reconciled from it), so its saves bump
nothing: see `RESULT_SHEET_KINDS`.

Readers read the version first, then the data (services.results.cached_round_report): a report is never filed
under a version newer than the data it holds. Without a version row (a round made before this table, say) nothing
is cached.
"""
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import ResultsVersion

# The kinds of sheet that round results read (services.results.round_results): a save of another kind bumps nothing.
RESULT_SHEET_KINDS = frozenset({"self", "final"})


def bump(*round_ids: int) -> None:
    """Add one to the results version of each round (creating its row at 1 if it has none)."""
    ids = sorted({int(i) for i in round_ids})  # sorted: two transactions bumping the same rounds lock them in order
    if not ids:
        return
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ResultsVersion).values([{"round_id": i, "n": 1} for i in ids])
    db.session.execute(statement.on_conflict_do_update(index_elements=[ResultsVersion.round_id],
                                                       set_={"n": ResultsVersion.n + 1}))


def bump_sheet(sheet) -> None:
    """Bump the sheet's round when round results read this kind of sheet."""
    if sheet.kind in RESULT_SHEET_KINDS:
        bump(sheet.round_id)


def bump_every_round() -> None:
    """A change every round's results read (a unit renamed, moved, deactivated or added; an import)."""
    db.session.execute(update(ResultsVersion).values(n=ResultsVersion.n + 1))


def results_version(round_id: int) -> int | None:
    """The round's results version as committed now (read it before the data it stands for); None without a row."""
    return db.session.scalar(select(ResultsVersion.n).where(ResultsVersion.round_id == round_id))
