"""Rules 1–4: indicator scores, totals, results. Pure: no app, no database."""
from decimal import Decimal as D

import pytest

from evalapp.domain.numbers import InvalidInput, parse_points
from evalapp.domain.scoring import (
    IndicatorSpec, Result, RuleSpec, ScoreEntry, evaluate, indicator_score, members_disagree, points_missing,
    proposed_final, unit_total, validate_entry,
)

A3 = IndicatorSpec("A3", D("8"), (RuleSpec("A3-1", per=D("1")), RuleSpec("A3-2", per=D("0.5")),
                                   RuleSpec("A3-9", void=True)))


def test_full_marks_without_deductions():
    assert indicator_score(A3, ScoreEntry()) == D("8.00")


def test_deductions_are_per_times_count():
    assert indicator_score(A3, ScoreEntry(deductions={"A3-1": 2, "A3-2": 3})) == D("4.50")


def test_free_deduction_is_subtracted_and_needs_a_reason():
    assert indicator_score(A3, ScoreEntry(free_deduction=D("0.3"), reason="台账缺页")) == D("7.70")
    with pytest.raises(InvalidInput) as exc:
        indicator_score(A3, ScoreEntry(free_deduction=D("0.3")))
    assert "reason" in exc.value.errors


def test_deductions_stop_at_zero():
    assert indicator_score(A3, ScoreEntry(deductions={"A3-1": 9, "A3-2": 9})) == D("0.00")


def test_void_rule_gives_zero_whatever_else():
    assert indicator_score(A3, ScoreEntry(deductions={"A3-9": 1})) == D("0.00")
    assert indicator_score(A3, ScoreEntry(deductions={"A3-9": 0})) == D("8.00")


def test_void_rule_is_yes_or_no():
    assert "deductions" in validate_entry(A3, ScoreEntry(deductions={"A3-9": 2}))


@pytest.mark.parametrize("deductions, message", [
    ({"ZZ-1": 1}, "未知的扣分项"),
    ({"A3-1": -1}, "负数"),
    ({"A3-1": 100}, "不能超过"),
    ({"A3-1": "2"}, "整数"),
    ({"A3-1": True}, "整数"),
])
def test_bad_deductions_are_refused(deductions, message):
    errors = validate_entry(A3, ScoreEntry(deductions=deductions))
    assert message in errors["deductions"]


def test_direct_score_within_range_in_half_points():
    assert indicator_score(A3, ScoreEntry(direct=D("8"))) == D("8.00")
    assert indicator_score(A3, ScoreEntry(direct=D("6.5"), reason="走访记录不全")) == D("6.50")
    assert indicator_score(A3, ScoreEntry(direct=D("0"), reason="未开展")) == D("0.00")


@pytest.mark.parametrize("value", ["8.5", "9", "6.3", "0.25"])
def test_direct_score_out_of_range_or_off_step_is_refused(value):
    errors = validate_entry(A3, ScoreEntry(direct=D(value), reason="x"))
    assert "score" in errors


def test_direct_score_below_max_needs_a_reason():
    assert validate_entry(A3, ScoreEntry(direct=D("7.5"))) == {"reason": "得分低于满分时须填写理由"}
    assert validate_entry(A3, ScoreEntry(direct=D("7.5"), reason="   ")) == {"reason": "得分低于满分时须填写理由"}


def test_direct_score_excludes_deductions():
    assert "score" in validate_entry(A3, ScoreEntry(direct=D("8"), deductions={"A3-1": 1}))


def test_texts_refuse_nul_bytes_and_excess_length():
    errors = validate_entry(A3, ScoreEntry(note="a\x00b", reason="x" * 501))
    assert "控制字符（U+0000）" in errors["note"] and "500" in errors["reason"]


def test_many_small_deductions_sum_exactly_where_float_would_not():
    """0.1 × 3 is not 0.3 in binary floating point; in Decimal it is, however many times it is summed."""
    assert sum([0.1] * 3) != 0.3  # the float trap this guards against
    spec = IndicatorSpec("X", D("100"), tuple(RuleSpec(f"R{i}", per=D("0.1")) for i in range(300))
                         + tuple(RuleSpec(f"H{i}", per=D("0.5")) for i in range(20)))
    entry = ScoreEntry(deductions={**{f"R{i}": 1 for i in range(300)}, **{f"H{i}": 3 for i in range(20)}})
    assert indicator_score(spec, entry) == D("40.00")  # 100 − 30 − 30
    scores = [D("0.1")] * 950 + [D("0.5")] * 0 + [D("0.05")] * 100
    assert unit_total(scores, [], D("3")) == D("100.00")


def test_unit_total_caps_the_bonus():
    assert unit_total([D("90"), D("2.5")], [D("2"), D("1"), D("2")], D("3")) == D("95.50")
    assert unit_total([D("90")], [D("1")], D("3")) == D("91.00")


@pytest.mark.parametrize("total, expected", [
    ("95.00", Result.PASS), ("95", Result.PASS), ("100.00", Result.PASS), ("103.00", Result.PASS),
    ("94.99", Result.FAIL), ("94.995", Result.PASS), ("94.994", Result.FAIL), ("0", Result.FAIL),
])
def test_ninety_five_passes_and_ninety_four_ninety_nine_fails(total, expected):
    """95分以上 includes 95 (以上包括本数). Totals are compared at two decimals, half-up."""
    assert evaluate(D(total), D("95"), veto=False, complete=True) is expected


def test_bonus_counts_toward_the_line():
    total = unit_total([D("93")], [D("2")], D("3"))
    assert evaluate(total, D("95"), veto=False, complete=True) is Result.PASS


def test_veto_fails_whatever_the_total():
    assert evaluate(D("100"), D("95"), veto=True, complete=True) is Result.VETO


def test_incomplete_never_passes():
    assert evaluate(D("100"), D("95"), veto=False, complete=False) is Result.INCOMPLETE
    assert evaluate(None, D("95"), veto=False, complete=True) is Result.INCOMPLETE


def test_result_labels_are_chinese():
    assert [r.label for r in Result] == ["合格", "不合格", "不合格(一票否决)", "未完成"]


def test_points_missing_to_the_line():
    assert points_missing(D("93.5"), D("95")) == D("1.50")
    assert points_missing(D("97"), D("95")) == D("0.00")


def test_proposed_final_is_the_mean_half_up():
    assert proposed_final([D("7"), D("6.5"), D("6.5")]) == D("6.67")
    assert proposed_final([D("1.5"), D("1")]) == D("1.25")
    assert proposed_final([D("0.01"), D("0.00")]) == D("0.01")  # 0.005 rounds half-up
    assert proposed_final([]) is None


def test_members_disagreeing_beyond_tolerance_are_flagged():
    assert members_disagree([D("8"), D("6.5")], D("1"))
    assert not members_disagree([D("8"), D("7")], D("1"))


@pytest.mark.parametrize("raw", ["abc", "1e2", "nan", "NaN", "snan", "Infinity", "-inf", "1.234", "", "  ",
                                 "1" * 40, "9\x00", "+5", "0x10", "١٠"])
def test_parse_points_refuses_anything_but_plain_decimals(raw):
    with pytest.raises(ValueError):
        parse_points(raw)


@pytest.mark.parametrize("raw", [-1, "-0.5", D("-1")])
def test_parse_points_refuses_negatives(raw):
    with pytest.raises(ValueError, match="负数"):
        parse_points(raw)


def test_parse_points_refuses_floats_and_special_decimals():
    for raw in (0.5, D("NaN"), D("sNaN"), D("Infinity"), True, None):
        with pytest.raises(ValueError):
            parse_points(raw)


def test_parse_points_accepts_plain_values():
    assert parse_points("94.5") == D("94.50")
    assert parse_points(" 3 ") == D("3.00")
    assert parse_points(7) == D("7.00")
    assert parse_points(D("0.25")) == D("0.25")
    assert parse_points("９４．５") == D("94.50")  # full-width, as a Chinese input method types it


def test_self_above_final_by_more_than_tolerance_is_inflated():
    from evalapp.domain.aggregation import gap

    assert gap(D("8"), D("6.5"), D("1")).inflated
    assert gap(D("8"), D("6.5"), D("1")).gap == D("1.5")
    assert not gap(D("7.5"), D("6.5"), D("1")).inflated  # exactly the tolerance is not over it
    assert not gap(D("5"), D("8"), D("1")).inflated       # modest self-assessment
    assert gap(None, D("8"), D("1")).gap is None


def test_basis_changes_lists_what_moved_since_a_final_decision():
    from evalapp.domain.scoring import BasisChange, basis_changes

    from decimal import Decimal as d
    assert basis_changes({1: d("8")}, {1: d("8.00")}) == []
    assert basis_changes({1: d("8")}, {1: d("7")}) == [BasisChange(1, d("8"), d("7"))]
    # A member counted since: stale only when the mean moves.
    assert basis_changes({1: d("3")}, {1: d("3"), 2: d("3")}) == []
    assert basis_changes({1: d("8")}, {1: d("8"), 2: d("5")}) == [BasisChange(2, None, d("5"))]
    # A member no longer counted (closed, returned): the score behind the decision is gone.
    assert basis_changes({1: d("8"), 2: d("8")}, {1: d("8")}) == [BasisChange(2, d("8"), None)]
