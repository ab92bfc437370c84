"""Which final sheets the district may approve together, in one confirmation: those that carry no flag. A flagged
sheet is opened and decided on its own (the review page shows what is behind each flag). Pure: services.bulk_review
reads the facts."""
from dataclasses import dataclass

from .vocabulary import ReviewFlag


@dataclass(frozen=True)
class ReviewFacts:
    """What the flags are read from, for one submitted final sheet."""

    members_pending: tuple[str, ...] = ()   # members still drafting (their names)
    stale_codes: tuple[str, ...] = ()       # indicators decided before a member score changed (成员评分已变化)
    slots: int = 0                          # signature slots of the 评分表 (members, leader, unit representative)
    signed: int = 0                         # slots signed on the sheet's content as it is now
    signatures_changed: int = 0             # slots signed on an earlier content (签名后有改动)
    self_inflated: bool = False             # the unit's self total above the final total by more than the tolerance
    vetoed: bool = False                    # a veto finding recorded (不合格(一票否决) whatever the total)


def review_flags(facts: ReviewFacts) -> tuple[ReviewFlag, ...]:
    """The sheet's flags, in ReviewFlag's order; none: it may be approved with others."""
    found = {
        ReviewFlag.MEMBERS_PENDING: bool(facts.members_pending),
        ReviewFlag.STALE_MEAN: bool(facts.stale_codes),
        ReviewFlag.UNSIGNED: facts.signed + facts.signatures_changed < facts.slots or facts.slots == 0,
        ReviewFlag.SIGNATURE_CHANGED: facts.signatures_changed > 0,
        ReviewFlag.SELF_INFLATED: facts.self_inflated,
        ReviewFlag.VETO: facts.vetoed,
    }
    return tuple(flag for flag in ReviewFlag if found[flag])
