"""A sheet's stored figures (score sum, scored count, bonus sum, veto flag): recomputed in SQL in the transaction of
every change to its scores, bonus items or vetoes, so results read one row per sheet."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update

from ..domain.scoring import Sums
from ..domain.workflow import owner_open_states
from ..extensions import db
from ..models import BonusItem, Round, Score, Sheet, SheetBonus, SheetVeto
from .errors import Conflict, _l


@dataclass(frozen=True)
class SheetFigures:
    """Aggregates of one sheet, computed in SQL."""

    score_sum: Decimal
    scored: int
    bonus_sum: Decimal
    veto: bool
    # Goes up by one with every recomputation, in commit order (the UPDATE holds the row): of two answers about the
    # same sheet, the one with the higher number is the newer (a page applies figures only going forwards).
    version: int = 0

    @property
    def sums(self) -> Sums:
        """The sums the standing rule reads (domain.scoring.standing)."""
        return Sums(self.score_sum, self.scored, self.bonus_sum, self.veto)


def figures_of(row) -> SheetFigures:
    """SheetFigures from a row carrying a sheet's stored figure columns."""
    return SheetFigures(score_sum=Decimal(row.score_sum), scored=row.scored, bonus_sum=Decimal(row.bonus_sum),
                        veto=bool(row.vetoed), version=row.figures_version)


def _refresh_statement(*where):
    return update(Sheet).where(*where).values(
        score_sum=func.coalesce(select(func.sum(Score.points)).where(Score.sheet_id == Sheet.id)
                                .scalar_subquery(), 0),
        scored=select(func.count(Score.points)).where(Score.sheet_id == Sheet.id).scalar_subquery(),  # scored rows
        bonus_sum=func.coalesce(select(func.sum(BonusItem.points)).join(
            SheetBonus, SheetBonus.bonus_item_id == BonusItem.id).where(SheetBonus.sheet_id == Sheet.id)
            .scalar_subquery(), 0),
        vetoed=select(SheetVeto.id).where(SheetVeto.sheet_id == Sheet.id).exists(),
        figures_version=Sheet.figures_version + 1,
    ).execution_options(synchronize_session=False)


def refresh_figures(*where) -> None:
    """Recompute the stored figures of the sheets matching `where` from their scores, bonus items and vetoes.

    One UPDATE with correlated subqueries, so the figures are a function of the rows, never a running sum that could
    drift. Callers that change one sheet use refresh_sheet, which takes the row lock first.
    """
    db.session.execute(_refresh_statement(*where))


# The statements of an autosave are built once (building and keying them cost more than running them on SQLite);
# the values go in as parameters. A parameter named like a column (updated_at, points…) sets that column.
@cache
def _refresh_one_statement(kind: str):
    return _refresh_statement(Sheet.id == bindparam("sheet_id"), open_to_owner(kind)).returning(
        Sheet.score_sum, Sheet.scored, Sheet.bonus_sum, Sheet.vetoed, Sheet.figures_version)


def open_to_owner(kind: str):
    """The SQL condition "the sheet (of this kind) is open to its owner now": access.can_edit_sheet's status and
    phase half (domain.workflow.owner_open_states), on the sheet's and its round's rows as the statement reads them.

    It sits in the UPDATE that every change of a sheet's scores, bonus items or vetoes makes, so it holds under the
    write: on SQLite the database's write lock is taken by the change's first write, before this (reads before it
    see every commit); on PostgreSQL the sheet's row lock is taken first (lock_sheet, or load_sheet(lock=True)) and
    a move of the sheet (a submit, a round closing member drafts: services.moves) updates that row. A status read
    when the sheet was loaded is not enough: a submit or a round's advance can commit between that read and the
    write."""
    context = case((and_(Round.status == "published", Sheet.unlocked), "unlocked"), else_=Round.status)
    return exists().where(Round.id == Sheet.round_id, or_(*(
        and_(Sheet.status == status, context == phase) for status, phase in sorted(owner_open_states(kind)))))


@cache
def _lock_statement():
    # FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes: FOR UPDATE would also wait for the KEY SHARE
    # lock a concurrent first save of a score takes on its sheet (the foreign key), and the two would deadlock.
    return select(Sheet.id).where(Sheet.id == bindparam("sheet_id")).with_for_update(key_share=True)


@cache
def _lock_without_waiting_statement():
    # the same lock, and this transaction's commit not waiting for the disk (SET LOCAL synchronous_commit TO OFF)
    return _lock_statement().add_columns(func.set_config("synchronous_commit", "off", True))


def lock_sheet(sheet: Sheet, *, commit_without_waiting: bool = False) -> None:
    """Take the sheet's row lock (PostgreSQL; SQLite serialises writers): changes of one sheet queue here.
    `commit_without_waiting`: in the same statement, this transaction's commit will not wait for the disk (an
    operation of a sync batch, which ends with one commit that waits: services.sync.apply_batch)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statement = _lock_without_waiting_statement() if commit_without_waiting else _lock_statement()
        connection.execute(statement, {"sheet_id": sheet.id})


FIGURE_COLUMNS = ("score_sum", "scored", "bonus_sum", "vetoed", "figures_version")


def refresh_sheet(sheet: Sheet, now: datetime, *, locked: bool = False) -> SheetFigures:
    """Mark a sheet changed and recompute its stored figures, in the caller's transaction; returns them. Conflict
    (sheet.not_open) when the sheet is no longer open to its owner under the write (open_to_owner): the caller's
    change must not stand, so the caller rolls back.

    Two statements on purpose. The first takes the sheet's row lock (SELECT … FOR NO KEY UPDATE): on PostgreSQL a
    concurrent save of another indicator of the same sheet waits there until the first commits, and the UPDATE then
    reads under a fresh READ COMMITTED snapshot that holds both scores. (A single UPDATE would re-check the row
    after the wait but evaluate its subqueries with the old snapshot, losing the other save. Locking with an UPDATE
    instead of a SELECT would make the second UPDATE re-check the sheet's three foreign keys: a row changed earlier
    in the same transaction does not get PostgreSQL's unchanged-key shortcut; that was 0.8 ms of every autosave.)
    SQLite serialises writers, so there it is one statement. `locked`: the caller holds the lock already in this
    transaction (it loaded the sheet with `load_sheet(lock=True)`, or called lock_sheet) and says so; taking it
    again would cost a round trip and nothing else. The object's figure columns are expired: read again when next
    used (the caller has them in the answer).
    """
    db.session.flush()
    if not locked:
        lock_sheet(sheet)
    connection = db.session.connection()
    row = connection.execute(_refresh_one_statement(sheet.kind), {"sheet_id": sheet.id, "updated_at": now}).first()
    if row is None:  # submitted, closed or out of its phase since it was read: the caller rolls back
        raise Conflict("sheet.not_open", _l("评分表已提交、已关闭或已不在填写阶段，本次修改未保存，请刷新页面"))
    db.session.expire(sheet, ["updated_at", *FIGURE_COLUMNS])
    return figures_of(row)
