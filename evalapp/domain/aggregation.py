"""Rule 5: self-assessment against the final sheet."""
from dataclasses import dataclass
from decimal import Decimal

from .numbers import q2
from .scoring import Result


@dataclass(frozen=True)
class Gap:
    self_score: Decimal | None
    final_score: Decimal | None
    gap: Decimal | None  # self − final
    inflated: bool       # 自评虚高: self above final by more than the tolerance


def gap(self_score: Decimal | None, final_score: Decimal | None, tolerance: Decimal) -> Gap:
    """The self-assessment's gap to the final score; flagged when the self score is higher by more than tolerance."""
    if self_score is None or final_score is None:
        return Gap(self_score, final_score, None, False)
    diff = self_score - final_score
    return Gap(self_score, final_score, diff, diff > tolerance)


def competition_ranks(totals: list[Decimal | None]) -> list[int | None]:
    """Ranks by total, highest first; equal totals share a rank (1, 2, 2, 4); no total, no rank."""
    ordered = sorted((t for t in totals if t is not None), reverse=True)
    first = {}
    for i, t in enumerate(ordered, start=1):
        first.setdefault(t, i)
    return [None if t is None else first[t] for t in totals]


LEVELS = ("township", "village")  # the order levels are listed in: townships, then villages


@dataclass(frozen=True)
class Ranking:
    """A unit's place among the units of its level."""

    rank: int | None        # None: vetoed (一票否决) or incomplete; neither ranks among the others
    missing: Decimal | None  # points to the line; None when vetoed (shown as 一票否决) or incomplete
    vetoed: bool
    place: int               # 1-based position in the level's ranking order


def standings(units: list[tuple[str, Decimal | None, Result, Decimal | None]]) -> list[Ranking]:
    """Rank and points missing of the units of one level, given as (code, total, result, points missing — the
    standing rule's: domain.scoring.standing), in the same order.

    Only complete units without a veto rank (equal totals share a rank, 1, 2, 2, 4) and have points missing; a
    vetoed unit has neither, whatever its total. The ranking order is ranked units by rank (then code), then
    incomplete units, then vetoed ones, each by code: a vetoed unit comes after every other unit of its level.
    """
    counted = [result in (Result.PASS, Result.FAIL) for _, _, result, _ in units]
    ranks = competition_ranks([total if ok else None for (_, total, _, _), ok in zip(units, counted)])
    order = sorted(range(len(units)), key=lambda i: (
        0 if ranks[i] is not None else 2 if units[i][2] is Result.VETO else 1, ranks[i] or 0, units[i][0]))
    place = {i: n for n, i in enumerate(order, start=1)}
    return [Ranking(rank, missing if ok else None, result is Result.VETO, place[i])
            for i, ((_, _, result, missing), rank, ok) in enumerate(zip(units, ranks, counted))]


def ranking_key(level: str, place: int) -> tuple:
    """The ranking order across levels: townships, then villages, each in its ranking order (standings)."""
    return (LEVELS.index(level) if level in LEVELS else len(LEVELS), place)


def township_order_key(township_code: str | None, level: str, vetoed: bool, code: str) -> tuple:
    """The order of lists grouped by township: each township, then its villages by code, vetoed villages last."""
    return (township_code or "", level != "township", vetoed, code)


# The rule a roll-up's standing figures are computed by, stored with each published version (Publication.figures_rule)
# so that a version reads back with the figures it was published with:
#   1 — versions published before 2026-12-07: mean and lowest over every complete unit, a vetoed one's total included;
#   2 — a vetoed unit (一票否决 whatever its total) is counted apart and kept out of mean, lowest and highest.
FIRST_ROLLUP_RULE, ROLLUP_RULE = 1, 2


@dataclass(frozen=True)
class RollUp:
    in_scope: int
    scored: int
    passed: int
    pass_rate: Decimal | None  # percent, two decimals
    mean: Decimal | None
    lowest: Decimal | None
    vetoed: int = 0                # complete units under a veto (rule 2: counted apart, out of the figures)
    highest: Decimal | None = None  # rule 2 only (rule 1 had none)
    rule: int = ROLLUP_RULE


def roll_up(units: list[tuple[Decimal | None, bool, bool, bool]], rule: int = ROLLUP_RULE) -> RollUp:
    """Roll up units given as (final total, complete, passed, vetoed): in scope, scored, passed, pass rate, vetoed,
    mean, lowest and highest, by roll-up `rule` (ROLLUP_RULE unless a version was published under another).

    Only complete units (approved final sheet) count as scored; the pass rate is over all units in scope, so an
    incomplete unit lowers it (it never counts as passed). A vetoed unit's total says nothing of its standing: under
    rule 2 its points are left out of mean, lowest and highest (it still counts as scored and in the pass rate).
    """
    complete = [(total, vetoed) for total, done, _, vetoed in units if done and total is not None]
    standing = [total for total, vetoed in complete if not (vetoed and rule >= ROLLUP_RULE)]
    passed = sum(1 for _, done, ok, _ in units if done and ok)
    n = len(units)
    return RollUp(
        in_scope=n,
        scored=len(complete),
        passed=passed,
        pass_rate=q2(Decimal(passed) * 100 / n) if n else None,
        mean=q2(sum(standing, Decimal(0)) / len(standing)) if standing else None,
        lowest=min(standing) if standing else None,
        vetoed=sum(1 for _, vetoed in complete if vetoed),
        highest=max(standing) if standing and rule >= ROLLUP_RULE else None,
        rule=rule,
    )
