"""Sheets and scores: reading them with totals, saving a score, moving a sheet through its statuses."""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..domain.numbers import InvalidInput
from ..domain.scoring import ZERO, EntryMode, Result, ScoreEntry, capped_total, evaluate, indicator_score, points_missing
from ..domain.workflow import can_move_sheet
from ..extensions import db
from ..models import (
    BonusItem, CatalogueVersion, DeductionRule, EvidenceFile, Indicator, Round, Score, ScoreDeduction, Sheet,
    SheetBonus, SheetTransition, SheetVeto, User,
)
from ..models.base import utcnow
from ..models.sheet import SHEET_STATUS_LABELS
from . import audit
from .catalogues import cached_tree, indicator_spec, indicators_of
from .errors import Conflict, Invalid, NotFound
from . import versions


@dataclass(frozen=True)
class SheetFigures:
    """Aggregates of one sheet, computed in SQL."""

    score_sum: Decimal
    scored: int
    bonus_sum: Decimal
    veto: bool


def catalogue_for_sheet(sheet: Sheet) -> CatalogueVersion:
    """The catalogue a sheet is scored against (by the level of its unit)."""
    return sheet.round.catalogue_for(sheet.unit.level)


def figures_of(row) -> SheetFigures:
    """SheetFigures from a row carrying a sheet's stored figure columns."""
    return SheetFigures(score_sum=Decimal(row.score_sum), scored=row.scored, bonus_sum=Decimal(row.bonus_sum),
                        veto=bool(row.vetoed))


def _refresh_statement(*where):
    return update(Sheet).where(*where).values(
        score_sum=func.coalesce(select(func.sum(Score.points)).where(Score.sheet_id == Sheet.id)
                                .scalar_subquery(), 0),
        scored=select(func.count(Score.points)).where(Score.sheet_id == Sheet.id).scalar_subquery(),  # scored rows
        bonus_sum=func.coalesce(select(func.sum(BonusItem.points)).join(
            SheetBonus, SheetBonus.bonus_item_id == BonusItem.id).where(SheetBonus.sheet_id == Sheet.id)
            .scalar_subquery(), 0),
        vetoed=select(SheetVeto.id).where(SheetVeto.sheet_id == Sheet.id).exists(),
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
def _refresh_one_statement():
    return _refresh_statement(Sheet.id == bindparam("sheet_id")).returning(
        Sheet.score_sum, Sheet.scored, Sheet.bonus_sum, Sheet.vetoed)


@cache
def _lock_statement():
    # FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes: FOR UPDATE would also wait for the KEY SHARE
    # lock a concurrent first save of a score takes on its sheet (the foreign key), and the two would deadlock.
    return select(Sheet.id).where(Sheet.id == bindparam("sheet_id")).with_for_update(key_share=True)


@cache
def _score_statement():
    return (select(Score).where(Score.sheet_id == bindparam("sheet_id"), Score.indicator_id == bindparam("ind_id"))
            .options(joinedload(Score.deductions)))


@cache
def _sheet_load_options():
    return (joinedload(Sheet.round).joinedload(Round.township_catalogue),
            joinedload(Sheet.round).joinedload(Round.village_catalogue), joinedload(Sheet.unit))


FIGURE_COLUMNS = ("score_sum", "scored", "bonus_sum", "vetoed")


def refresh_sheet(sheet: Sheet, now: datetime) -> SheetFigures:
    """Mark a sheet changed and recompute its stored figures, in the caller's transaction; returns them.

    Two statements on purpose. The first takes the sheet's row lock (SELECT … FOR NO KEY UPDATE): on PostgreSQL a
    concurrent save of another indicator of the same sheet waits there until the first commits, and the UPDATE then
    reads under a fresh READ COMMITTED snapshot that holds both scores. (A single UPDATE would re-check the row
    after the wait but evaluate its subqueries with the old snapshot, losing the other save. Locking with an UPDATE
    instead of a SELECT would make the second UPDATE re-check the sheet's three foreign keys: a row changed earlier
    in the same transaction does not get PostgreSQL's unchanged-key shortcut; that was 0.8 ms of every autosave.)
    SQLite serialises writers, so there it is one statement. (A sheet loaded with `load_sheet(lock=True)` holds
    the lock already; taking it again costs a round trip and nothing else.) The object's figure columns are
    expired: read again when next used.
    """
    db.session.flush()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_lock_statement(), {"sheet_id": sheet.id})
    row = connection.execute(_refresh_one_statement(), {"sheet_id": sheet.id, "updated_at": now}).one()
    db.session.expire(sheet, ["updated_at", *FIGURE_COLUMNS])
    return figures_of(row)


def sheet_total(figures: SheetFigures, bonus_cap: Decimal) -> Decimal:
    """A sheet's running total: its scores plus the capped bonus."""
    return capped_total(figures.score_sum, figures.bonus_sum, bonus_cap)


def load_sheet(sheet_id: int, *, lock: bool = False) -> Sheet | None:
    """A sheet with its round (and the round's catalogues) and unit, in one query: every access check and page
    reads them. `lock` takes the sheet's row lock (PostgreSQL, FOR NO KEY UPDATE) for a change of its scores, so
    concurrent changes of one sheet queue here, before any work.
    """
    if not lock:
        return db.session.get(Sheet, sheet_id, options=_sheet_load_options())
    return db.session.get(Sheet, sheet_id, options=_sheet_load_options(), populate_existing=True,
                          with_for_update={"of": Sheet, "key_share": True})


def scores_by_indicator(sheet: Sheet) -> dict[int, Score]:
    """The sheet's scores keyed by indicator id, deductions loaded (a deduction names its rule by id: the rules are
    in the catalogue tree the caller holds)."""
    rows = db.session.scalars(select(Score).where(Score.sheet_id == sheet.id)
                              .options(joinedload(Score.deductions))).unique()  # one query, not two
    return {score.indicator_id: score for score in rows}


def find_indicator(sheet: Sheet, code: str) -> Indicator:
    """The indicator with this code in the sheet's catalogue (from the shared, read-only tree), or NotFound."""
    for indicator in indicators_of(cached_tree(catalogue_for_sheet(sheet))):
        if indicator.code == code:
            return indicator
    raise NotFound(f"指标 {code} 不在本评分表中")


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


def save_score(sheet: Sheet, code: str, entry: ScoreEntry, user: User, expected_version: int) -> Score | None:
    """Save one indicator's entry against the version the client last saw: a direct score, deductions, a note
    alone (the indicator stays as it was: unscored stays unscored) or a clearing (back to unscored, note kept).

    The one place of the rule: the API and the scoring page both come here. Returns the score row (None when a
    note-only save had nothing to store).
    """
    if sheet.kind == "final" and entry.mode is not EntryMode.CLEAR:
        return _save_final(sheet, code, entry, user, expected_version)
    indicator = find_indicator(sheet, code)
    try:
        points = indicator_score(indicator_spec(indicator), entry)
    except InvalidInput as exc:
        raise Invalid("输入有误，请检查", exc.errors) from exc
    note = {} if entry.note is None else {"note": entry.note.strip()}
    if entry.mode is EntryMode.NOTE:
        return store_score(sheet, indicator, user, expected_version, deductions=None, **note)
    if entry.mode is EntryMode.CLEAR:
        decision = {"note": "", "basis": None} if sheet.kind == "final" else note  # the decision's label goes too
        return store_score(sheet, indicator, user, expected_version, deductions={}, points=None, direct_score=None,
                           free_deduction=ZERO, reason="", **decision)
    rules = {r.code: r.id for r in indicator.rules}
    return store_score(sheet, indicator, user, expected_version, points=points, direct_score=entry.direct,
                       free_deduction=entry.free_deduction, reason=entry.reason.strip(), **note,
                       deductions={rules[c]: n for c, n in entry.deductions.items() if n})


def _save_final(sheet: Sheet, code: str, entry: ScoreEntry, user: User, expected_version: int) -> Score:
    """A final sheet holds the leader's decided values: a direct score, checked by the reconcile rule (a value
    other than the submitted members' mean needs a reason)."""
    from .reconcile import set_final_score

    if entry.mode is not EntryMode.DIRECT or any(entry.deductions.values()) or entry.free_deduction:
        raise Invalid("工作组评分表只能填写最终得分", {"score": "工作组评分表请填写最终得分（score），不能按扣分项评分"})
    return set_final_score(sheet, code, entry.direct, entry.reason, user, expected_version)


def _unchanged(score: Score, deductions: Mapping[int, int] | None, values: Mapping) -> bool:
    """Whether a save would leave the score as it is (a retry whose first answer was lost)."""
    if any(getattr(score, key) != value for key, value in values.items()):
        return False
    return deductions is None or {d.rule_id: d.count for d in score.deductions} == dict(deductions)


def store_score(sheet: Sheet, indicator: Indicator, user: User, expected_version: int, *,
                deductions: Mapping[int, int] | None, **values) -> Score | None:
    """Write a score's columns given in `values`, its deductions (rule id → count; None: left as they are) and the
    audit row, with the version check.

    The check is a conditional UPDATE (or a unique INSERT for a first score), so of two concurrent writers with the
    same version exactly one wins and the other gets Conflict, on SQLite and PostgreSQL alike — unless the change
    equals what is stored, which is acknowledged (a retry whose first answer was lost is not a conflict with
    oneself). Everything commits together or not at all. The caller checks permission first.
    """
    existing = db.session.scalars(_score_statement(),
                                  {"sheet_id": sheet.id, "ind_id": indicator.id}).unique().one_or_none()
    if existing is None and values.get("points") is None and not values.get("note"):
        return None  # nothing to store on an unscored indicator (an empty note, a clearing)
    if existing is not None and _unchanged(existing, deductions, values):
        # Nothing would change: no write, no new version, no audit row (a retry whose first answer was lost, or a
        # page saving what it shows).
        db.session.rollback()
        return existing
    rules = {r.id: r for r in indicator.rules}
    old = score_state(existing, rules)
    now = utcnow()
    wanted = dict(values)
    values.update(updated_by=user, updated_at=now)
    try:
        if existing is None:
            if expected_version != 0:
                raise Conflict("该指标已被删除或尚未保存，请刷新", current=old)
            score = Score(sheet_id=sheet.id, indicator_id=indicator.id, deductions=[], **values)
            db.session.add(score)
        else:
            if existing.version != expected_version:  # the client saw an older version than the one stored
                db.session.rollback()
                raise Conflict("该指标已被他人修改，请选择保留哪个分值", current=old)
            score = existing
            for key, value in values.items():
                setattr(score, key, value)
            if deductions is not None and score.deductions:
                score.deductions.clear()  # deleted at this flush, before the new rows (a unique key per rule)
            # The UPDATE is conditional on the version read (Score's version_id_col): a concurrent writer that
            # committed since makes it match no row (StaleDataError, below).
            db.session.flush()
        if deductions is not None:
            score.deductions.extend(ScoreDeduction(rule_id=rule_id, count=count)
                                    for rule_id, count in sorted(deductions.items()))
        db.session.flush()
        refresh_sheet(sheet, now)
        new = score_state(score, rules)
        audit.record("score.save", user=user, obj=score, unit_id=sheet.unit_id, round_id=sheet.round_id,
                     old=old, new=new, detail=f"sheet={sheet.id} indicator={indicator.code}")
        versions.bump_sheet(sheet)
        db.session.commit()
    except (IntegrityError, StaleDataError) as exc:
        db.session.rollback()  # a concurrent save won: its row is what is stored now
        current = db.session.scalars(_score_statement(),
                                     {"sheet_id": sheet.id, "ind_id": indicator.id}).unique().one_or_none()
        if isinstance(exc, IntegrityError) and (existing is not None or current is None):
            raise  # not a lost race for the first score: a bug, not the user's conflict
        if current is not None and _unchanged(current, deductions, wanted):
            return current  # the concurrent save made the same change
        raise Conflict("该指标已被他人修改，请选择保留哪个分值", current=score_state(current, rules)) from None
    except BaseException:
        db.session.rollback()
        raise
    return score


def move_sheet(sheet: Sheet, to_status: str, user: User, comment: str = "", *, commit: bool = True) -> None:
    """Move a sheet to a new status, keeping the history (who, when, comment) and an audit row."""
    if not can_move_sheet(sheet.status, to_status, sheet.kind):
        raise Conflict(f"评分表当前为“{SHEET_STATUS_LABELS[sheet.status]}”，不能改为"
                       f"“{SHEET_STATUS_LABELS[to_status]}”，请刷新页面")
    old = sheet.status
    result = db.session.execute(
        update(Sheet).where(Sheet.id == sheet.id, Sheet.status == old)
        .values(status=to_status, version=Sheet.version + 1, updated_at=utcnow(),
                **({"submitted_at": utcnow()} if to_status == "submitted" else {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict("评分表状态已被他人更改，请刷新页面")
    db.session.add(SheetTransition(sheet_id=sheet.id, from_status=old, to_status=to_status, actor_id=user.id,
                                   comment=comment))
    audit.record(f"sheet.{to_status}", user=user, obj=sheet, unit_id=sheet.unit_id, round_id=sheet.round_id,
                 old={"status": old}, new={"status": to_status}, detail=comment)
    versions.bump_sheet(sheet)
    db.session.flush()
    db.session.expire(sheet)
    if commit:
        db.session.commit()


@dataclass
class SheetView:
    """Everything the scoring page and the API show of one sheet, read in a fixed number of queries."""

    sheet: Sheet
    catalogue: CatalogueVersion
    indicators: list[Indicator]
    scores: dict[int, Score]
    evidence: dict[int, list]
    figures: SheetFigures
    total: Decimal
    result: Result

    def is_scored(self, indicator: Indicator) -> bool:
        """Whether the indicator has a score (a row holding only a note does not count)."""
        score = self.scores.get(indicator.id)
        return score is not None and score.points is not None

    @property
    def unscored(self) -> list[Indicator]:
        return [i for i in self.indicators if not self.is_scored(i)]

    @property
    def missing_to_threshold(self) -> Decimal:
        return points_missing(self.total, self.sheet.round.threshold)


def sheet_view(sheet: Sheet) -> SheetView:
    """Load a sheet with its catalogue (shared, read-only), scores, evidence and figures."""
    catalogue = cached_tree(catalogue_for_sheet(sheet))
    indicators = indicators_of(catalogue)
    scores = scores_by_indicator(sheet)
    evidence: dict[int, list] = {}
    for ev in db.session.scalars(select(EvidenceFile).where(EvidenceFile.sheet_id == sheet.id,
                                                            EvidenceFile.deleted_at.is_(None))
                                 .order_by(EvidenceFile.id)):
        evidence.setdefault(ev.indicator_id, []).append(ev)
    figures = figures_of(sheet)  # the sheet's own stored columns
    total = sheet_total(figures, catalogue.bonus_cap)
    result = evaluate(total, sheet.round.threshold, veto=figures.veto,
                      complete=figures.scored == len(indicators))
    return SheetView(sheet, catalogue, indicators, scores, evidence, figures, total, result)


def sheet_payload(view: SheetView) -> dict:
    """The API's representation of a sheet; Decimal values as strings with two decimals."""
    sheet = view.sheet
    rules = {r.id: r for ind in view.indicators for r in ind.rules}  # a deduction names its rule by id
    indicators = []
    for ind in view.indicators:
        state = score_state(view.scores.get(ind.id), rules)
        indicators.append({
            "code": ind.code,
            "title": ind.title,
            "max": f"{ind.points:.2f}",
            "score": state["score"],
            "deductions": state.get("deductions", []),
            "free_deduction": state.get("free_deduction", "0.00"),
            "direct_score": state.get("direct_score"),
            "reason": state.get("reason", ""),
            "note": state.get("note", ""),
            "version": state["version"],
            "photos": [{"id": ev.id, "name": ev.original_name} for ev in view.evidence.get(ind.id, [])],
        })
    return {
        "id": sheet.id,
        "round_id": sheet.round_id,
        "unit": {"code": sheet.unit.code, "name": sheet.unit.name, "level": sheet.unit.level},
        "kind": sheet.kind,
        "status": sheet.status,
        "version": sheet.version,
        "total": f"{view.total:.2f}",
        "result": view.result.value,
        "scored": view.figures.scored,
        "indicator_count": len(view.indicators),
        "indicators": indicators,
    }


def submit_sheet(sheet: Sheet, user: User, comment: str = "") -> None:
    """Submit a sheet; refused while any indicator is unscored (the message lists them), and a final sheet while
    a member of the team is still drafting or a value was decided before a member score changed."""
    if sheet.kind == "final":
        from .reconcile import submit_problems  # the leader's rules live with the reconciliation

        problems = submit_problems(sheet)
        if problems:
            raise Conflict("；".join(problems))
    view = sheet_view(sheet)
    missing = view.unscored
    if missing:
        codes = [i.code for i in missing]
        raise Invalid(f"尚有{len(codes)}项指标未评分：{'、'.join(codes)}", {"unscored": "、".join(codes)})
    if sheet.kind == "self":
        due = sheet.round.self_due if sheet.unit.level == "village" else sheet.round.township_due
        sheet.late = due is not None and today_local() > due  # late is flagged, never blocked
    move_sheet(sheet, "submitted", user, comment)


def last_return(sheet: Sheet) -> SheetTransition | None:
    """The move that returned a sheet standing returned (its comment goes at the top of the sheet), else None."""
    if sheet.status != "returned":
        return None
    return db.session.scalar(select(SheetTransition).where(
        SheetTransition.sheet_id == sheet.id, SheetTransition.to_status == "returned")
        .order_by(SheetTransition.id.desc()).limit(1))


def today_local() -> date:
    """Today in the district's time zone (deadlines are local dates)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def approve_sheet(sheet: Sheet, user: User) -> None:
    """Approve a submitted sheet; a final sheet only while it still stands as submitted (no member drafting since,
    no 成员评分已变化 — the reviewer returns it to the leader instead)."""
    if sheet.kind == "final":
        from .reconcile import submit_problems

        problems = submit_problems(sheet)
        if problems:
            raise Conflict("不能审核通过，请退回组长重新定分：" + "；".join(problems))
    move_sheet(sheet, "approved", user)


def return_sheet(sheet: Sheet, user: User, comment: str) -> None:
    """Return a submitted sheet to its owner; a return needs a comment."""
    comment = (comment or "").strip()
    if not comment:
        raise Invalid("退回时须填写退回意见", {"comment": "请填写退回意见"})
    if len(comment) > 2000 or "\x00" in comment:
        raise Invalid("退回意见过长或含有无效字符", {"comment": "退回意见不能超过2000字"})
    move_sheet(sheet, "returned", user, comment)


def review_sheet(sheet: Sheet, user: User, action: str, comment: str) -> str:
    """A reviewer's decision from a form: "approve", or a return (which needs a comment). Returns what happened."""
    if action == "approve":
        approve_sheet(sheet, user)
        return "已审核通过"
    return_sheet(sheet, user, comment)
    return "已退回"
