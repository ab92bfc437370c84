"""Rule 5: self-assessment against the final sheet."""
from dataclasses import dataclass
from decimal import Decimal


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
