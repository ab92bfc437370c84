"""domain.lineage: relations filled, checked and composed; the 连续失分 rule (issue 33). Pure, no database."""
import pytest

from evalapp.domain import lineage as rules


def test_identical_codes_are_same_the_rest_new_or_retired():
    assert rules.automatic(["A1", "A2"], ["A1", "A3"]) == [("A1", "A1", "same"), (None, "A3", "new"),
                                                           ("A2", None, "retired")]


@pytest.mark.parametrize("choices, field", [
    ({"B": ("renamed", ["A1", "A2"])}, "B"),          # renamed takes one old code
    ({"B": ("merged", ["A1"])}, "B"),                 # merged takes two or more
    ({"B": ("split", ["A1"]), "C": ("same", ["A1"])}, "B"),  # a split old code used elsewhere
    ({"B": ("split", ["A1"])}, "B"),                  # a split into one
    ({"B": ("same", ["A1"]), "C": ("renamed", ["A1"])}, "C"),  # one old code, two new ones
    ({"B": ("new", ["A1"])}, "B"),
    ({"B": ("same", ["ZZ"])}, "B"),                   # not the old version's
    ({"B": ("retired", [])}, "B"),
])
def test_relations_that_do_not_hold_are_refused_per_indicator(choices, field):
    with pytest.raises(rules.LineageInvalid) as bad:
        rules.from_choices(["A1", "A2"], ["B", "C"], choices)
    assert field in bad.value.problems


def test_only_same_and_renamed_compose_across_steps():
    first = rules.comparable([("A1", "A1", "same"), ("A2", "B2", "renamed"), ("A3", "C3a", "split")])
    second = rules.comparable([("A1", "X1", "renamed"), ("B2", None, "retired")])
    assert rules.compose([first, second]) == {"A1": "X1"}


def test_a_streak_follows_the_unit_and_the_indicator_through_lineage_and_breaks_on_a_gap():
    low = [{(1, "A"), (2, "B")}, {(1, "A2"), (3, "B")}, {(2, "B")}, {(2, "B")}]
    maps = [{"A": "A2", "B": "B"}, {"A2": "A2", "B": "B"}, {"B": "B"}]
    found = rules.streaks(low, maps)
    assert [(s.unit, s.rounds, s.codes) for s in found] == [(1, (0, 1), ("A", "A2")), (2, (2, 3), ("B", "B"))]
    assert rules.proposal(2, False) == "rectify" and rules.proposal(3, False) == "interview"
    assert rules.proposal(2, True) == "interview"
    assert rules.rate(None, 5) is None and str(rules.rate(1, 8)) == "12.50"
