"""Which final sheets the district may approve together (domain.review): those without a flag."""
from evalapp.domain.review import ReviewFacts, review_flags
from evalapp.domain.vocabulary import ReviewFlag

SIGNED = dict(slots=4, signed=4)


def test_a_sheet_signed_by_everyone_with_nothing_else_carries_no_flag():
    assert review_flags(ReviewFacts(**SIGNED)) == ()


def test_each_fact_raises_its_flag_in_the_vocabularys_order():
    facts = ReviewFacts(members_pending=("李华",), stale_codes=("A1",), slots=4, signed=1, signatures_changed=1,
                        self_inflated=True, vetoed=True)
    assert review_flags(facts) == tuple(ReviewFlag)


def test_a_signature_made_before_a_change_is_not_counted_missing_but_changed():
    assert review_flags(ReviewFacts(slots=4, signed=3, signatures_changed=1)) == (ReviewFlag.SIGNATURE_CHANGED,)
    assert review_flags(ReviewFacts(slots=4, signed=3)) == (ReviewFlag.UNSIGNED,)
    assert review_flags(ReviewFacts()) == (ReviewFlag.UNSIGNED,)  # no slot at all: nobody signed it
