"""Rule 5: ranks and roll-ups."""
from decimal import Decimal as D

from evalapp.domain.aggregation import competition_ranks, roll_up


def test_equal_totals_share_a_rank_and_the_next_rank_skips():
    assert competition_ranks([D("97"), D("96"), D("96"), D("95"), None]) == [1, 2, 2, 4, None]
    assert competition_ranks([D("90"), D("99.5"), D("90")]) == [2, 1, 2]
    assert competition_ranks([]) == []


def test_roll_up_counts_incomplete_units_in_scope_but_never_as_passed():
    r = roll_up([(D("96"), True, True), (D("94.99"), True, False), (None, False, False), (D("99"), False, True)])
    assert (r.in_scope, r.scored, r.passed) == (4, 2, 1)
    assert r.pass_rate == D("25.00")
    assert r.mean == D("95.50") and r.lowest == D("94.99")


def test_roll_up_of_nothing():
    r = roll_up([])
    assert (r.in_scope, r.scored, r.passed, r.pass_rate, r.mean, r.lowest) == (0, 0, 0, None, None, None)
