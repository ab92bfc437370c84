"""Rules of docs/design.md §3: indicator scores, unit totals, results, and the team's proposed final scores."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from .messages import M_, Msg
from .numbers import HALF, InvalidInput, is_multiple_of, q2
from .text import text_problem
from . import vocabulary

ZERO = Decimal("0.00")
MAX_COUNT = 99
MAX_REASON = 500
MAX_NOTE = 2000


@dataclass(frozen=True)
class RuleSpec:
    """A deduction rule: `per` points per occurrence, or `void` (the indicator scores 0)."""

    code: str
    per: Decimal | None = None
    void: bool = False


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    max_points: Decimal
    rules: tuple[RuleSpec, ...] = ()

    def rule(self, code: str) -> RuleSpec | None:
        for rule in self.rules:
            if rule.code == code:
                return rule
        return None


class EntryMode(str, Enum):
    """What a save does to an indicator (the API's contract, which the scoring page mirrors)."""

    DIRECT = "direct"  # a body with `score`: a direct score
    DEDUCTIONS = "deductions"  # a body with `deductions` (empty: 无扣分, full marks): scored by the rules
    NOTE = "note"  # neither: the note only; the indicator stays as it was (unscored stays unscored)
    CLEAR = "clear"  # {"clear": true}: back to unscored (清除评分), the note kept


@dataclass(frozen=True)
class ScoreEntry:
    """What an inspector entered for one indicator: deductions (rule code → count), a direct score, a note alone, or
    a clearing. `mode` defaults to DIRECT when a direct score is given, else DEDUCTIONS."""

    deductions: Mapping[str, int] = field(default_factory=dict)
    free_deduction: Decimal = ZERO
    direct: Decimal | None = None
    reason: str = ""
    note: str | None = ""  # None: the note stays as it is
    mode: EntryMode | None = None

    def __post_init__(self):
        if self.mode is None:
            object.__setattr__(self, "mode", EntryMode.DEDUCTIONS if self.direct is None else EntryMode.DIRECT)

    @property
    def scores(self) -> bool:
        """Whether the entry gives the indicator a score (a direct score or deductions)."""
        return self.mode in (EntryMode.DIRECT, EntryMode.DEDUCTIONS)


def _text_problem(text: str, limit: int) -> Msg | None:
    problem = text_problem(text, multiline=True)  # (reasons and notes are boxes: a line break and a tab allowed)
    if problem is not None:
        return problem
    if len(text) > limit:
        return M_("不能超过%(n)s个字", n=limit)
    return None


def _field_problem(name: str, problem: Msg) -> Msg:
    return M_("理由%(problem)s", problem=problem) if name == "reason" else M_("备注%(problem)s", problem=problem)


def validate_entry(spec: IndicatorSpec, entry: ScoreEntry) -> dict[str, Msg]:
    """Every problem with an entry, by field (domain messages); empty when the entry is valid."""
    errors: dict[str, Msg] = {}
    for name, text, limit in (("reason", entry.reason, MAX_REASON), ("note", entry.note or "", MAX_NOTE)):
        problem = _text_problem(text, limit)
        if problem:
            errors[name] = _field_problem(name, problem)
    reason_given = bool(entry.reason.strip()) and "reason" not in errors
    if not entry.scores:
        if entry.direct is not None or any(entry.deductions.values()) or entry.free_deduction:
            errors["score"] = (M_("清除评分时不能同时填写分值或扣分项") if entry.mode is EntryMode.CLEAR
                               else M_("未选择扣分项或直接打分"))
        return errors

    if entry.mode is EntryMode.DIRECT:
        if entry.direct is None:
            errors["score"] = M_("请填写得分")
        elif entry.deductions or entry.free_deduction:
            errors["score"] = M_("直接打分时不能同时选择扣分项")
        elif entry.direct < 0 or entry.direct > spec.max_points:
            errors["score"] = M_("得分须在0到%(max)s之间", max=spec.max_points)
        elif not is_multiple_of(entry.direct, HALF):
            errors["score"] = M_("得分须为0.5的整数倍")
        elif entry.direct < spec.max_points and not reason_given and "reason" not in errors:
            errors["reason"] = M_("得分低于满分时须填写理由")
        return errors

    for code, count in entry.deductions.items():
        rule = spec.rule(code)
        if rule is None:
            errors["deductions"] = M_("未知的扣分项：%(code)s", code=code)
        elif isinstance(count, bool) or not isinstance(count, int):
            errors["deductions"] = M_("扣分项 %(code)s 的次数须为整数", code=code)
        elif count < 0:
            errors["deductions"] = M_("扣分项 %(code)s 的次数不能为负数", code=code)
        elif rule.void and count > 1:
            errors["deductions"] = M_("扣分项 %(code)s 只能选择是或否", code=code)
        elif count > MAX_COUNT:
            errors["deductions"] = M_("扣分项 %(code)s 的次数不能超过%(n)s", code=code, n=MAX_COUNT)
    if entry.free_deduction < 0 or entry.free_deduction > spec.max_points:
        errors["free_deduction"] = M_("其他扣分须在0到%(max)s之间", max=spec.max_points)
    elif entry.free_deduction > 0 and not reason_given and "reason" not in errors:
        errors["reason"] = M_("其他扣分须填写理由")
    return errors


def indicator_score(spec: IndicatorSpec, entry: ScoreEntry) -> Decimal | None:
    """Max points − Σ(per × count) − free deduction, floored at 0; a void rule gives 0; or the direct score; None
    for an entry that gives no score (a note alone, a clearing).

    Raises InvalidInput when the entry breaks a rule.
    """
    errors = validate_entry(spec, entry)
    if errors:
        raise InvalidInput(errors)
    if not entry.scores:
        return None
    if entry.mode is EntryMode.DIRECT:
        return q2(entry.direct)
    taken = ZERO
    for code, count in entry.deductions.items():
        if not count:
            continue
        rule = spec.rule(code)
        if rule.void:
            return ZERO
        taken += rule.per * count
    return q2(max(spec.max_points - taken - entry.free_deduction, ZERO))


def unit_total(indicator_scores: Iterable[Decimal], bonus_points: Iterable[Decimal], bonus_cap: Decimal) -> Decimal:
    """Σ indicator scores + min(Σ bonus, cap), two decimals, half-up (the rule over raw scores; tests hold it to
    `standing`)."""
    return capped_total(sum(indicator_scores, ZERO), sum(bonus_points, ZERO), bonus_cap)


def capped_total(score_sum: Decimal, bonus_sum: Decimal, bonus_cap: Decimal) -> Decimal:
    """The score sum + min(bonus sum, cap), two decimals, half-up. Called by `standing` only."""
    return q2(score_sum + min(bonus_sum, bonus_cap))


# A unit's result (evaluate below); its labels are the vocabulary's.
Result = vocabulary.Result


def evaluate(total: Decimal | None, threshold: Decimal, *, veto: bool, complete: bool) -> Result:
    """合格 ⇔ complete, no veto and total ≥ threshold ("95分以上" includes 95). Called by `standing` only."""
    if not complete or total is None:
        return Result.INCOMPLETE
    if veto:
        return Result.VETO
    return Result.PASS if q2(total) >= q2(threshold) else Result.FAIL


def points_missing(total: Decimal | None, threshold: Decimal) -> Decimal | None:
    """How many points a total lacks to reach the threshold (0 when it reaches it). Called by `standing` only."""
    if total is None:
        return None
    return q2(max(threshold - total, ZERO))


@dataclass(frozen=True)
class Sums:
    """What the database keeps of one sheet (services.figures, in SQL): the sum of its indicator scores, how many
    indicators are scored, the sum of its bonus items, and whether a veto finding is recorded."""

    score_sum: Decimal
    scored: int
    bonus_sum: Decimal
    veto: bool


@dataclass(frozen=True)
class Line:
    """What a unit of one level is measured by in a round: the pass line (95分以上), the catalogue's bonus cap and
    how many indicators the catalogue has."""

    threshold: Decimal
    bonus_cap: Decimal
    indicators: int


@dataclass(frozen=True)
class Standing:
    """A unit's standing from its sheet's sums — the one rule every face shows (results, the review page and its
    dialogs, the scoring and reconcile pages, the API, a version's check); static/js/standing.js mirrors it."""

    total: Decimal | None          # indicator scores + the capped bonus; None while nothing is scored
    bonus_counted: Decimal         # min(bonus sum, cap)
    complete: bool                 # decided, and every indicator scored (see `standing`)
    result: Result
    missing: Decimal | None        # points the total lacks to the line; None without a total or under a veto
    vetoed: bool                   # a veto finding is recorded

    @property
    def counts(self) -> bool:
        """Whether the unit takes part in the ranking: complete and not vetoed (合格 or 不合格)."""
        return self.result in (Result.PASS, Result.FAIL)


def standing(sums: Sums | None, line: Line, *, decided: bool) -> Standing:
    """A unit's total, result and points missing from its sheet's sums.

    What "complete" means, once: the sheet is decided and every indicator of the catalogue is scored. `decided` is
    the caller's fact: for the round's results, the final sheet is approved (审核通过); for a sheet's own page, the
    review page and its dialogs, the result the sheet would give once approved (True). A sheet with nothing scored
    (or none at all) has no total. A recorded veto makes a complete unit 不合格(一票否决) whatever its total, and
    it has no points missing.
    """
    if sums is None or not sums.scored:
        return Standing(None, ZERO, False, evaluate(None, line.threshold, veto=False, complete=False), None,
                        bool(sums and sums.veto))
    total = capped_total(sums.score_sum, sums.bonus_sum, line.bonus_cap)
    complete = decided and sums.scored >= line.indicators
    return Standing(total, q2(min(sums.bonus_sum, line.bonus_cap)), complete,
                    evaluate(total, line.threshold, veto=sums.veto, complete=complete),
                    None if sums.veto else points_missing(total, line.threshold), sums.veto)


def proposed_final(member_scores: Iterable[Decimal]) -> Decimal | None:
    """The members' mean, quantized to 0.01 half-up; None when no member has scored."""
    values = list(member_scores)
    if not values:
        return None
    return q2(sum(values, ZERO) / len(values))


def members_disagree(member_scores: Iterable[Decimal], tolerance: Decimal) -> bool:
    """True when members' scores differ by more than the tolerance (flagged for the leader)."""
    values = list(member_scores)
    return len(values) > 1 and max(values) - min(values) > tolerance


def validate_final(value: Decimal, max_points: Decimal, proposed: Decimal | None, reason: str) -> dict[str, Msg]:
    """The leader's final score: within 0..max; a value other than the members' mean needs a reason."""
    errors: dict[str, Msg] = {}
    problem = _text_problem(reason, MAX_REASON)
    if problem:
        errors["reason"] = _field_problem("reason", problem)
    if value < 0 or value > max_points:
        errors["score"] = M_("得分须在0到%(max)s之间", max=max_points)
    elif (proposed is None or value != proposed) and not reason.strip() and "reason" not in errors:
        errors["reason"] = M_("与成员平均分不同时须填写调整理由")
    return errors


@dataclass(frozen=True)
class BasisChange:
    """One member's score behind a final value, as it was when the leader decided and as it is now (None: that
    member's sheet was not counted then / is not now)."""

    sheet_id: int
    old: Decimal | None
    new: Decimal | None


def basis_changes(recorded: Mapping[int, Decimal], current: Mapping[int, Decimal]) -> list[BasisChange]:
    """What changed among the counted member scores (sheet id → points) since a final value was decided from
    them — empty when the decision still stands. It stands while every score it was taken from is unchanged and
    the mean is the same (a member counted since, with a score that leaves the mean as it was, changes nothing);
    otherwise every change is listed: a score that moved, a member counted now but not then, or then but not now.
    """
    changes = []
    for sheet_id in sorted(set(recorded) | set(current)):
        old, new = recorded.get(sheet_id), current.get(sheet_id)
        if old is None or new is None or q2(old) != q2(new):
            changes.append(BasisChange(sheet_id, old, new))
    moved = any(c.old is not None for c in changes)
    if not moved and proposed_final(recorded.values()) == proposed_final(current.values()):
        return []
    return changes
