"""Rule 5: self-assessment against the final sheet."""
from dataclasses import dataclass
from decimal import Decimal

from .numbers import q2


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


@dataclass(frozen=True)
class RollUp:
    in_scope: int
    scored: int
    passed: int
    pass_rate: Decimal | None  # percent, two decimals
    mean: Decimal | None
    lowest: Decimal | None


def roll_up(units: list[tuple[Decimal | None, bool, bool]]) -> RollUp:
    """Roll up units given as (final total, complete, passed): in scope, scored, passed, pass rate, mean, lowest.

    Only complete units (approved final sheet) count as scored; the pass rate is over all units in scope, so an
    incomplete unit lowers it (it never counts as passed).
    """
    scored = [total for total, complete, _ in units if complete and total is not None]
    passed = sum(1 for _, complete, ok in units if complete and ok)
    n = len(units)
    return RollUp(
        in_scope=n,
        scored=len(scored),
        passed=passed,
        pass_rate=q2(Decimal(passed) * 100 / n) if n else None,
        mean=q2(sum(scored, Decimal(0)) / len(scored)) if scored else None,
        lowest=min(scored) if scored else None,
    )
