"""Rule 6: subsidy amounts in integer fen; pools add up exactly."""
from decimal import Decimal as D

import pytest

from evalapp.domain.scoring import Result
from evalapp.domain.subsidy import (
    Band, Candidate, SubsidyRule, allocate, band_problems, fen_to_yuan, parse_yuan,
)

P, F, V, I = Result.PASS, Result.FAIL, Result.VETO, Result.INCOMPLETE


def test_parse_yuan_to_fen():
    assert parse_yuan("50000") == 5_000_000
    assert parse_yuan("1,234.5") == 123_450
    assert parse_yuan("0.01") == 1


@pytest.mark.parametrize("raw, message", [("-1", "负数"), ("1.234", "两位小数"), ("abc", "有效"), ("1e5", "有效"),
                                          ("", "请输入"), ("nan", "有效"), (None, "请输入")])
def test_parse_yuan_refuses(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_yuan(raw)


def test_fen_to_yuan():
    assert fen_to_yuan(123_456_789) == "1,234,567.89" and fen_to_yuan(5) == "0.05"


def test_only_passing_units_get_money_with_reasons_for_the_rest():
    awards = allocate(SubsidyRule("fixed", 5_000_000), [
        Candidate("1", D("96"), P), Candidate("2", D("94.99"), F), Candidate("3", D("100"), V),
        Candidate("4", None, I)])
    assert [a.amount_fen for a in awards] == [5_000_000, 0, 0, 0]
    assert [a.note for a in awards[1:]] == ["未达到合格线，不予奖补", "一票否决，不予奖补", "评估未完成，不予奖补"]


def test_bands():
    rule = SubsidyRule("bands", bands=(Band(D("95"), D("98"), 3_000_000), Band(D("98"), None, 5_000_000)))
    awards = allocate(rule, [Candidate("a", D("95"), P), Candidate("b", D("97.99"), P), Candidate("c", D("98"), P)])
    assert [a.amount_fen for a in awards] == [3_000_000, 3_000_000, 5_000_000]


def test_band_gaps_and_overlaps_are_reported():
    assert band_problems([Band(D("95"), D("98"), 1), Band(D("98"), None, 2)], D("95")) == []
    assert "重叠" in band_problems([Band(D("95"), D("99"), 1), Band(D("98"), None, 2)], D("95"))[0]
    assert "空缺" in band_problems([Band(D("95"), D("97"), 1), Band(D("98"), None, 2)], D("95"))[0]
    assert "不在任何档次内" in band_problems([Band(D("96"), None, 1)], D("95"))[0]
    assert "最高档须不设上限" in band_problems([Band(D("95"), D("100"), 1)], D("95"))[0]


def test_pool_adds_up_exactly_when_it_does_not_divide_evenly():
    cands = [Candidate(c, D(t), P) for c, t in (("003", "95"), ("001", "97.5"), ("002", "99.25"))]
    awards = allocate(SubsidyRule("pool", 100_000_01), cands)
    assert sum(a.amount_fen for a in awards) == 100_000_01
    # proportional: shares differ by at most one fen from the exact value
    total = D("291.75")
    for a, c in zip(awards, cands):
        exact = D(100_000_01) * c.total / total
        assert abs(D(a.amount_fen) - exact) < 1


def test_pool_ties_are_broken_by_unit_code():
    cands = [Candidate("B", D("96"), P), Candidate("A", D("96"), P), Candidate("C", D("96"), P)]
    awards = {a.code: a.amount_fen for a in allocate(SubsidyRule("pool", 100), cands)}
    assert awards == {"A": 34, "B": 33, "C": 33}


def test_pool_ignores_units_that_did_not_pass():
    cands = [Candidate("A", D("96"), P), Candidate("B", D("90"), F)]
    awards = allocate(SubsidyRule("pool", 1000), cands)
    assert [a.amount_fen for a in awards] == [1000, 0]
