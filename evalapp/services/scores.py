"""Saving one indicator's score: the one rule the scoring page and the API both call (save_score), and the
versioned write behind it (store_score)."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..domain.numbers import InvalidInput
from ..domain.scoring import ZERO, EntryMode, ScoreEntry, indicator_score
from ..extensions import db
from ..models import DeductionRule, Indicator, Score, ScoreDeduction, Sheet, User
from ..models.base import utcnow
from . import audit, proxy, versions
from .catalogues import indicator_spec
from .errors import Conflict, Invalid, _l
from .figures import SheetFigures, refresh_sheet
from .finals import final_change
from .sheet_views import find_indicator


@dataclass(frozen=True)
class Saved:
    """What a save left: the score row (None: a note-only save on an unscored indicator had nothing to store) and
    the sheet's figures as the save recomputed them (None: nothing was written — the change was already stored —
    so the sheet's stored figures are as they were)."""

    score: Score | None
    figures: SheetFigures | None = None


@cache
def _score_statement():
    return (select(Score).where(Score.sheet_id == bindparam("sheet_id"), Score.indicator_id == bindparam("ind_id"))
            .options(joinedload(Score.deductions)))


def score_state(score: Score | None, rules: Mapping[int, DeductionRule] | None = None) -> dict:
    """A score as plain data (what the API returns and the audit log keeps). `rules` (id → rule) names the
    deductions without loading each deduction's rule. A row holding only a note has score None."""
    if score is None:
        return {"score": None, "version": 0}
    return {
        "score": None if score.points is None else f"{score.points:.2f}",
        "direct_score": None if score.direct_score is None else f"{score.direct_score:.2f}",
        "deductions": sorted(({"code": (rules[d.rule_id] if rules else d.rule).code, "count": d.count}
                              for d in score.deductions), key=lambda d: d["code"]),
        "free_deduction": f"{score.free_deduction:.2f}",
        "reason": score.reason,
        "note": score.note,
        "version": score.version,
        "updated_at": score.updated_at.isoformat() if score.updated_at else None,
        "updated_by": score.updated_by.display_name if score.updated_by else None,
    }


def save_score(sheet: Sheet, code: str, entry: ScoreEntry, user: User, expected_version: int, *,
               address: str | None = None, sheet_locked: bool = False, sync: dict | None = None,
               then: Callable[[Saved], bool] | None = None) -> Saved:
    """Save one indicator's entry against the version the client last saw: a direct score, deductions, a note
    alone (the indicator stays as it was: unscored stays unscored) or a clearing (back to unscored, note kept).

    The one place of the rule: the API and the scoring page both come here. Returns the score row and the sheet's
    recomputed figures (Saved). `address`: the client's, for the audit row. `sheet_locked`: the caller loaded the
    sheet with its row lock in this transaction (load_sheet(lock=True)), so the recomputation need not take it.
    Committed once (store_score); a save that changes nothing commits nothing. `sync`: the operation of an
    offline device this save applies (op_id, device_id, device_time), kept in the audit row; `then`: see store_score.
    """
    indicator, deductions, values = entry_change(sheet, code, entry)
    return store_score(sheet, indicator, user, expected_version, deductions=deductions, address=address,
                       sheet_locked=sheet_locked, sync=sync, then=then, **values)


def save_score_in(sheet: Sheet, code: str, entry: ScoreEntry, user: User, expected_version: int, *,
                  address: str | None = None, sheet_locked: bool = False) -> Saved:
    """save_score in the caller's transaction, not committed: for a service that scores as part of a larger unit of
    work (seed.fill_sheet)."""
    indicator, deductions, values = entry_change(sheet, code, entry)
    return store_score_in(sheet, indicator, user, expected_version, deductions=deductions, address=address,
                          sheet_locked=sheet_locked, **values)


def entry_change(sheet: Sheet, code: str, entry: ScoreEntry) -> tuple[Indicator, Mapping[int, int] | None, dict]:
    """What an entry writes: the indicator, its deductions (rule id → count; None: left as they are) and the score's
    columns. Invalid when the entry breaks the indicator's rule (or, on a final sheet, the reconcile rule)."""
    if sheet.kind == "final" and entry.mode is not EntryMode.CLEAR:
        return _final_change(sheet, code, entry)
    indicator = find_indicator(sheet, code)
    try:
        points = indicator_score(indicator_spec(indicator), entry)
    except InvalidInput as exc:
        raise Invalid("score.invalid", _l("输入有误，请检查"), exc.errors) from exc
    note = {} if entry.note is None else {"note": entry.note.strip()}
    if entry.mode is EntryMode.NOTE:
        return indicator, None, note
    if entry.mode is EntryMode.CLEAR:
        decision = {"note": "", "basis": None} if sheet.kind == "final" else note  # the decision's label goes too
        return indicator, {}, dict(points=None, direct_score=None, free_deduction=ZERO, reason="", **decision)
    rules = {r.code: r.id for r in indicator.rules}
    return indicator, {rules[c]: n for c, n in entry.deductions.items() if n}, dict(
        points=points, direct_score=entry.direct, free_deduction=entry.free_deduction, reason=entry.reason.strip(),
        **note)


def _final_change(sheet: Sheet, code: str, entry: ScoreEntry) -> tuple[Indicator, Mapping[int, int], dict]:
    """A final sheet holds the leader's decided values: a direct score, checked by the reconcile rule (a value
    other than the submitted members' mean needs a reason)."""
    if entry.mode is not EntryMode.DIRECT or any(entry.deductions.values()) or entry.free_deduction:
        raise Invalid("score.final_direct_only", _l("工作组评分表只能填写最终得分"),
                      {"score": _l("工作组评分表请填写最终得分（score），不能按扣分项评分")})
    return final_change(sheet, code, entry.direct, entry.reason)


def _unchanged(score: Score, deductions: Mapping[int, int] | None, values: Mapping) -> bool:
    """Whether a save would leave the score as it is (a retry whose first answer was lost)."""
    if any(getattr(score, key) != value for key, value in values.items()):
        return False
    return deductions is None or {d.rule_id: d.count for d in score.deductions} == dict(deductions)


class ConcurrentSave(Exception):
    """A concurrent save of the same score got in first (write_score's flush failed on the version or on the unique
    key of a first score; the database's error is the cause). The transaction is lost: the caller rolls back."""


def store_score(sheet: Sheet, indicator: Indicator, user: User, expected_version: int, *,
                deductions: Mapping[int, int] | None, address: str | None = None, sheet_locked: bool = False,
                sync: dict | None = None, then: Callable[[Saved], bool] | None = None, **values) -> Saved:
    """One score's save as a unit of work of its own (store_score_in), committed once; returns the row and the
    sheet's recomputed figures. `sheet_locked`: the caller holds the sheet's row lock in this transaction (see
    refresh_sheet).

    Of two concurrent writers with the same version exactly one wins and the other gets Conflict, on SQLite and
    PostgreSQL alike — unless the change equals what is stored, which is acknowledged (a retry whose first answer
    was lost is not a conflict with oneself). A save that changes nothing writes, commits and rolls back nothing:
    the caller's transaction is left as it was. A refusal rolls back. The caller checks permission first.

    `then(saved)`, when given, runs in the same transaction before it commits, with what the save left (a sync
    operation's record of itself and its answer: services.sync); it returns whether it wrote anything, so that a
    save that changed nothing still commits the caller's rows. An error it raises rolls the save back too.
    """
    try:
        saved = store_score_in(sheet, indicator, user, expected_version, deductions=deductions, address=address,
                               sheet_locked=sheet_locked, sync=sync, **values)
        wrote = then(saved) if then is not None else False
    except ConcurrentSave as exc:
        db.session.rollback()  # a concurrent save won: its row is what is stored now
        current = db.session.scalars(_score_statement(),
                                     {"sheet_id": sheet.id, "ind_id": indicator.id}).unique().one_or_none()
        if current is None and isinstance(exc.__cause__, IntegrityError):
            raise exc.__cause__  # no row after all: a bug, not the user's conflict
        if current is not None and _unchanged(current, deductions, values):
            saved = Saved(current)  # the concurrent save made the same change
            try:
                if then is not None and then(saved):
                    db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            return saved
        raise Conflict("score.conflict", _l("该指标已被他人修改，请选择保留哪个分值"),
                       current=score_state(current, {r.id: r for r in indicator.rules})) from None
    except BaseException:
        db.session.rollback()
        raise
    if saved.figures is not None or wrote:  # something was written
        db.session.commit()
    return saved


def store_score_in(sheet: Sheet, indicator: Indicator, user: User, expected_version: int, *,
                   deductions: Mapping[int, int] | None, address: str | None = None, sheet_locked: bool = False,
                   sync: dict | None = None, **values) -> Saved:
    """Write a score's columns given in `values` and its deductions (write_score), recompute the sheet's figures,
    add the audit row (by `user`, from `address`) and bump the results version, in the caller's transaction (not
    committed). Saved's figures are None when nothing was written: then nothing at all was done."""
    now = utcnow()
    score, old = write_score(sheet, indicator, user, expected_version, deductions=deductions, now=now, **values)
    if old is None:
        return Saved(score)
    figures = refresh_sheet(sheet, now, locked=sheet_locked)
    new = proxy.note_in(sheet, user, score_state(score, {r.id: r for r in indicator.rules}))
    detail = f"sheet={sheet.id} indicator={indicator.code}"
    if sync is not None:  # an offline device's operation: its id, the device's clock and the server's
        new["sync"] = {**sync, "server_time": now.isoformat()}
        detail += f" op={sync['op_id']}"
    audit.record("score.save", user=user, address=address, obj=score, unit_id=sheet.unit_id,
                 round_id=sheet.round_id, old=old, new=new, detail=detail)
    versions.bump_sheet(sheet)
    return Saved(score, figures)


def write_score(sheet: Sheet, indicator: Indicator, user: User, expected_version: int, *,
                deductions: Mapping[int, int] | None, now=None, **values) -> tuple[Score | None, dict | None]:
    """Write one score row — the columns in `values`, its deductions (rule id → count; None: left as they are) — in
    the caller's transaction, with the version check; no figures, audit row or results version (the caller's:
    store_score_in, reconcile.accept_all_proposals). Returns the row (None: nothing to store on an unscored
    indicator) and its state before the write (score_state), None when nothing was written: the change is
    already stored (a retry whose first answer was lost, or a page saving what it shows), or there was nothing to
    store.

    The check is a conditional UPDATE (or a unique INSERT for a first score): Conflict when the client saw another
    version than the one read; ConcurrentSave when a concurrent writer committed since the read.
    """
    existing = db.session.scalars(_score_statement(),
                                  {"sheet_id": sheet.id, "ind_id": indicator.id}).unique().one_or_none()
    if existing is None and values.get("points") is None and not values.get("note"):
        return None, None  # nothing to store on an unscored indicator (an empty note, a clearing)
    if existing is not None and _unchanged(existing, deductions, values):
        return existing, None  # nothing would change: no write, no new version, no audit row
    old = score_state(existing, {r.id: r for r in indicator.rules})
    values.update(updated_by=user, updated_at=now or utcnow())
    if existing is None:
        if expected_version != 0:
            raise Conflict("score.missing", _l("该指标已被删除或尚未保存，请刷新"), current=old)
        score = Score(sheet_id=sheet.id, indicator_id=indicator.id, deductions=[], **values)
        db.session.add(score)
    elif existing.version != expected_version:  # the client saw an older version than the one stored
        raise Conflict("score.conflict", _l("该指标已被他人修改，请选择保留哪个分值"), current=old)
    else:
        score = existing
        for key, value in values.items():
            setattr(score, key, value)
        if deductions is not None and score.deductions:
            score.deductions.clear()  # deleted at this flush, before the new rows (a unique key per rule)
    try:
        if existing is not None:
            # The UPDATE is conditional on the version read (Score's version_id_col): a concurrent writer that
            # committed since makes it match no row (StaleDataError).
            db.session.flush()
        if deductions is not None:
            score.deductions.extend(ScoreDeduction(rule_id=rule_id, count=count)
                                    for rule_id, count in sorted(deductions.items()))
        db.session.flush()
    except StaleDataError as exc:
        raise ConcurrentSave() from exc
    except IntegrityError as exc:
        if existing is not None:
            raise  # not a lost race for the first score: a bug, not the user's conflict
        raise ConcurrentSave() from exc
    return score, old
