"""Lineage rules (issue 33): how an indicator of one catalogue version relates to those of the version before it,
which indicators may be compared across rounds, how a unit's identity carries over a change of code, and the
连续失分 rule. Pure: no Flask, no database.

An indicator relation is (old code | None, new code | None, relation):

* same, renamed — one old indicator is one new one (its code or wording changed): comparable across rounds;
* split — one old indicator became two or more new ones; merged — two or more old ones became one;
* new — no old indicator; retired — no new one.

Only "same" and "renamed" are compared at indicator level; the rest are compared at category level only.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .vocabulary import N_, Vocabulary


class Relation(Vocabulary):
    SAME = "same", N_("相同")
    RENAMED = "renamed", N_("更名")
    SPLIT = "split", N_("拆分")
    MERGED = "merged", N_("合并")
    NEW = "new", N_("新增")
    RETIRED = "retired", N_("取消")


class UnitChange(Vocabulary):
    OFFICIAL_CODE = "official_code", N_("导入正式编码")
    RENAMED = "renamed", N_("更名")
    MERGED = "merged", N_("合并")
    SPLIT = "split", N_("拆分")


COMPARABLE = frozenset({Relation.SAME.value, Relation.RENAMED.value})
# A change after which the unit is the same unit (compared like with like); merged and split units show their
# predecessors' rows, labelled, but are not counted as the same unit in the district's comparison.
SAME_UNIT = frozenset({UnitChange.OFFICIAL_CODE.value, UnitChange.RENAMED.value})

Link = tuple[str | None, str | None, str]


class LineageInvalid(ValueError):
    """Relations that do not hold together: `problems` maps a new indicator's code ("" for the whole) to a message
    (a msgid with %(…)s fields, and its fields)."""

    def __init__(self, problems: dict[str, tuple[str, dict]]):
        super().__init__("; ".join(m % f for m, f in problems.values()))
        self.problems = problems


def automatic(old_codes: list[str], new_codes: list[str]) -> list[Link]:
    """What the app fills by itself: an identical code is "same"; any other new code "new"; any old code left over
    "retired" — the admin confirms or edits them."""
    old = set(old_codes)
    links: list[Link] = [(code, code, Relation.SAME.value) if code in old else (None, code, Relation.NEW.value)
                         for code in new_codes]
    kept = set(new_codes)
    links += [(code, None, Relation.RETIRED.value) for code in old_codes if code not in kept]
    return links


def from_choices(old_codes: list[str], new_codes: list[str], choices: dict[str, tuple[str, list[str]]]) -> list[Link]:
    """The relations an admin chose, per new indicator: (relation, its old codes); every old code no choice names
    is retired. LineageInvalid when they do not hold together:

    same / renamed take exactly one old code, which no other new indicator takes; split takes one old code, which
    only split indicators take, at least two of them; merged takes two or more old codes, none taken elsewhere;
    new takes none; every old code named must be one of the old version's."""
    problems: dict[str, tuple[str, dict]] = {}
    old_set = set(old_codes)
    users: dict[str, list[tuple[str, str]]] = {}
    for code in new_codes:
        relation, olds = choices.get(code, (Relation.NEW.value, []))
        if relation not in {r.value for r in Relation} or relation == Relation.RETIRED.value:
            problems[code] = (N_("请选择关系"), {})
            continue
        unknown = [o for o in olds if o not in old_set]
        if unknown:
            problems[code] = (N_("原版本没有指标“%(code)s”"), {"code": unknown[0]})
            continue
        if len(set(olds)) != len(olds):
            problems[code] = (N_("原指标编码重复"), {})
            continue
        if relation == Relation.NEW.value and olds:
            problems[code] = (N_("新增指标不填原指标"), {})
        elif relation in (Relation.SAME.value, Relation.RENAMED.value, Relation.SPLIT.value) and len(olds) != 1:
            problems[code] = (N_("须填一个原指标编码"), {})
        elif relation == Relation.MERGED.value and len(olds) < 2:
            problems[code] = (N_("合并须填两个或以上原指标编码"), {})
        for o in olds:
            users.setdefault(o, []).append((code, relation))
    for old, taken in users.items():
        kinds = {relation for _code, relation in taken}
        if Relation.SPLIT.value in kinds:
            if kinds != {Relation.SPLIT.value}:
                problems.setdefault(taken[0][0], (N_("原指标“%(code)s”拆分后不能再用于其他关系"), {"code": old}))
            elif len(taken) < 2:
                problems.setdefault(taken[0][0], (N_("原指标“%(code)s”拆分须对应两个或以上新指标"), {"code": old}))
        elif len(taken) > 1:
            problems.setdefault(taken[1][0], (N_("原指标“%(code)s”已对应其他新指标"), {"code": old}))
    if problems:
        raise LineageInvalid(problems)
    links: list[Link] = []
    for code in new_codes:
        relation, olds = choices.get(code, (Relation.NEW.value, []))
        links += [(o, code, relation) for o in olds] if olds else [(None, code, relation)]
    named = {o for olds in (c[1] for c in choices.values()) for o in olds}
    links += [(code, None, Relation.RETIRED.value) for code in old_codes if code not in named]
    return links


def choices_of(links: list[Link]) -> dict[str, tuple[str, list[str]]]:
    """Per new code: (relation, old codes) — the form's values from stored links."""
    out: dict[str, tuple[str, list[str]]] = {}
    for old, new, relation in links:
        if new is None:
            continue
        rel, olds = out.get(new, (relation, []))
        out[new] = (rel, olds + ([old] if old else []))
    return out


def carried(links: list[Link], old_codes: list[str], new_codes: list[str]) -> list[Link]:
    """An edited draft keeps the relations chosen for it where they still hold (each new code still there, its old
    codes still the predecessor's); a code they do not cover is filled as `automatic` does."""
    kept = {new: (rel, olds) for new, (rel, olds) in choices_of(links).items() if new in new_codes}
    auto = {new: (rel, [old] if old else []) for old, new, rel in automatic(old_codes, new_codes) if new}
    try:
        return from_choices(old_codes, new_codes, {**auto, **kept})
    except LineageInvalid:
        return automatic(old_codes, new_codes)


def comparable(links: list[Link]) -> dict[str, str]:
    """Old code → new code for the relations compared at indicator level (same, renamed)."""
    return {old: new for old, new, relation in links if relation in COMPARABLE and old and new}


def compose(steps: list[dict[str, str]]) -> dict[str, str]:
    """The comparable map across several steps of lineage (oldest first): an indicator is compared across them only
    when each step keeps it same or renamed."""
    if not steps:
        return {}
    out = dict(steps[0])
    for step in steps[1:]:
        out = {old: step[mid] for old, mid in out.items() if mid in step}
    return out


def rate(points: Decimal | None, maximum: Decimal | None) -> Decimal | None:
    """得分率 in percent, two places (points ÷ maximum, since maxima change); None without points or maximum."""
    if points is None or not maximum:
        return None
    return (Decimal(points) * 100 / Decimal(maximum)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Streak:
    """A unit below the threshold on one indicator in `length` consecutive published rounds (the rounds' indices
    in order, and the indicator's code in each)."""

    unit: int
    rounds: tuple[int, ...]
    codes: tuple[str, ...]

    @property
    def length(self) -> int:
        return len(self.rounds)


def streaks(low: list[set[tuple[int, str]]], maps: list[dict[str, str]], minimum: int = 2) -> list[Streak]:
    """连续失分: `low[i]` holds (unit identity, indicator code) below the threshold in the i-th published round (in
    order); `maps[i]` carries indicator codes from round i to round i + 1 (comparable lineage). A run of `minimum` or
    more consecutive rounds, each keeping the unit and the indicator (through lineage), is a streak — the longest
    run only, ending at its last round."""
    open_runs: dict[tuple[int, str], tuple[tuple[int, ...], tuple[str, ...]]] = {}
    found: list[Streak] = []
    for i, rows in enumerate(low):
        going: dict[tuple[int, str], tuple[tuple[int, ...], tuple[str, ...]]] = {}
        for (unit, code), (at, codes) in open_runs.items():
            nxt = maps[i - 1].get(code)
            if nxt is not None and (unit, nxt) in rows:
                going[(unit, nxt)] = (at + (i,), codes + (nxt,))
            elif len(at) >= minimum:  # the run ends with the round before
                found.append(Streak(unit, at, codes))
        for unit, code in rows:
            going.setdefault((unit, code), ((i,), (code,)))
        open_runs = going
    found += [Streak(unit, at, codes) for (unit, _c), (at, codes) in open_runs.items() if len(at) >= minimum]
    return sorted(found, key=lambda s: (-s.length, s.unit, s.codes))


def proposal(length: int, rectified_before: bool) -> str:
    """What the district is proposed to do about a streak: 约谈 after three rounds or more, or when the unit was
    already told to rectify (屡查屡犯); 整改 otherwise."""
    return "interview" if length >= 3 or rectified_before else "rectify"
