"""Rule 5: ranks and roll-ups."""
from decimal import Decimal as D

from evalapp.domain.aggregation import competition_ranks, roll_up


def test_equal_totals_share_a_rank_and_the_next_rank_skips():
    assert competition_ranks([D("97"), D("96"), D("96"), D("95"), None]) == [1, 2, 2, 4, None]
    assert competition_ranks([D("90"), D("99.5"), D("90")]) == [2, 1, 2]
    assert competition_ranks([]) == []


def test_roll_up_counts_incomplete_units_in_scope_but_never_as_passed():
    r = roll_up([(D("96"), True, True, False), (D("94.99"), True, False, False), (None, False, False, False),
                 (D("99"), False, True, False)])
    assert (r.in_scope, r.scored, r.passed) == (4, 2, 1)
    assert r.pass_rate == D("25.00")
    assert r.mean == D("95.50") and r.lowest == D("94.99")


def test_roll_up_of_nothing():
    r = roll_up([])
    assert (r.in_scope, r.scored, r.passed, r.pass_rate, r.mean, r.lowest) == (0, 0, 0, None, None, None)


def test_a_vetoed_unit_has_no_rank_no_points_missing_and_comes_last():
    from evalapp.domain.aggregation import standings
    from evalapp.domain.scoring import Result

    # (code, total, result, the standing rule's points missing); an incomplete unit's missing is dropped
    units = [("A", D("100"), Result.VETO, None), ("B", D("96"), Result.PASS, D("0.00")),
             ("C", D("90"), Result.INCOMPLETE, D("5.00")), ("D", D("94.5"), Result.FAIL, D("0.50")),
             ("E", D("96"), Result.PASS, D("0.00")), ("F", D("99"), Result.VETO, None)]
    got = standings(units)
    assert [s.rank for s in got] == [None, 1, None, 3, 1, None]
    assert [s.missing for s in got] == [None, D("0.00"), None, D("0.50"), D("0.00"), None]
    assert [s.vetoed for s in got] == [True, False, False, False, False, True]
    by_place = [code for _, code in sorted((s.place, u[0]) for s, u in zip(got, units))]
    assert by_place == ["B", "E", "D", "C", "A", "F"]  # ranked, then incomplete, then vetoed (each by code)


def test_orders_keep_vetoed_units_after_the_others_of_their_level():
    from evalapp.domain.aggregation import ranking_key, township_order_key

    assert ranking_key("township", 9) < ranking_key("village", 1)
    keys = {name: township_order_key("T1", level, vetoed, code) for name, level, vetoed, code in (
        ("town", "township", True, "T1"), ("v-vetoed", "village", True, "T1001"), ("v", "village", False, "T1009"))}
    assert sorted(keys, key=keys.get) == ["town", "v", "v-vetoed"]
    assert township_order_key("T1", "village", True, "T1001") < township_order_key("T2", "township", False, "T2")
