"""The figures of the 评估总结 to 市民政局 (issue 33, point 4), from one published version's rows: pure (no Flask, no
database), so that the generator is a function of the version's data alone and can run on a job queue.

The caller (services.summary) reads the version's unit rows and indicator rows once each, checked against their
seals; everything here is arithmetic over those rows. Points are Decimals of two places (models.base.Points), as
every other face shows them; the roll-up (pass rate, mean) is domain.aggregation's, by the rule the version was
published under, so the 总结's table says what the results page says of the same version.
"""
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from .aggregation import ROLLUP_RULE, roll_up
from .numbers import q2
from .vocabulary import Result

TOP_INDICATORS = 10   # 失分较多的指标 listed
TOP_DEDUCTIONS = 10   # 常见扣分情形 listed
TOP_INFLATED = 10     # 自评虚高 units listed
PROBLEMS_PER_UNIT = 3  # a failing unit's main problems: its weakest indicators


@dataclass(frozen=True)
class TownshipLine:
    """A line of the 评估结果 table: a township with its villages (or the district's 合计)."""

    name: str
    units: int
    passed: int
    failed: int
    vetoed: int
    incomplete: int
    pass_rate: Decimal | None  # percent of the units in scope
    mean: Decimal | None       # over the complete units (a vetoed one's total kept out, rule 2)


@dataclass(frozen=True)
class FailingUnit:
    name: str
    level: str
    township: str
    total: Decimal | None
    result: str             # the Chinese label
    missing: Decimal | None  # points to the line (None: 一票否决 or 未完成)
    problems: tuple[str, ...]  # its weakest indicators (失X分) and any veto finding


@dataclass(frozen=True)
class IndicatorLoss:
    level: str
    code: str
    title: str
    max_points: Decimal
    units_losing: int
    points_lost: Decimal
    score_rate: Decimal | None  # percent: points scored ÷ maximum over the units scored on it


@dataclass(frozen=True)
class Deduction:
    code: str
    text: str
    units: int   # units on whose indicator a member applied it
    times: int   # how often, counts added over members and units


@dataclass(frozen=True)
class Inflation:
    name: str
    township: str
    self_total: Decimal
    final_total: Decimal
    gap: Decimal  # 自评虚高 = self total − final total


@dataclass(frozen=True)
class Figures:
    by_level: dict[str, int]
    townships: list[TownshipLine]
    total: TownshipLine
    failing: list[FailingUnit]
    losses: list[IndicatorLoss]
    deductions: list[Deduction]
    inflated: list[Inflation]          # the largest gaps, self above final
    inflated_count: int                # units whose self total is above the final one by more than the tolerance
    compared: int                      # units with both totals
    mean_gap: Decimal | None           # mean of self − final over those units
    all_losses: int = 0                # indicators on which any unit lost points (the list shows TOP_INDICATORS)
    extra: dict = field(default_factory=dict)


def _line(name: str, units: list, rule: int) -> TownshipLine:
    results = [Result(u.result) for u in units]
    r = roll_up([(u.final_total, res is not Result.INCOMPLETE, res is Result.PASS, res is Result.VETO)
                 for u, res in zip(units, results)], rule)
    return TownshipLine(name, len(units), r.passed, results.count(Result.FAIL), results.count(Result.VETO),
                        results.count(Result.INCOMPLETE), r.pass_rate, r.mean)


def figures(units: list, scores: list, *, tolerance: Decimal, rule: int = ROLLUP_RULE) -> Figures:
    """The 总结's figures from a version's unit rows (code, name, level, township_code, township_name, self_total,
    final_total, result, missing, veto_findings; in the version's order: each township, then its villages) and its
    indicator rows (unit_code, indicator_code, title, max_points, points, deductions)."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for u in units:
        key = u.code if u.level == "township" else (u.township_code or "")
        groups.setdefault(key, []).append(u)
        if u.level == "township":
            names[key] = u.name
        else:
            names.setdefault(key, u.township_name or "")
    townships = [_line(names[key], members, rule) for key, members in groups.items()]
    total = _line("合计", list(units), rule)
    by_level = Counter(u.level for u in units)

    by_unit: dict[str, list] = {}
    for s in scores:
        by_unit.setdefault(s.unit_code, []).append(s)
    level_of = {u.code: u.level for u in units}

    failing = []
    for u in units:
        result = Result(u.result)
        if result is Result.PASS:
            continue
        lost = sorted(((s.max_points - s.points, s.indicator_code, s.title) for s in by_unit.get(u.code, [])
                       if s.points is not None and s.points < s.max_points), key=lambda x: (-x[0], x[1]))
        problems = [f"{title}（失{q2(loss)}分）" for loss, _code, title in lost[:PROBLEMS_PER_UNIT]]
        problems += [f"一票否决：{item}{'（' + finding + '）' if finding else ''}"
                     for _code, item, finding in (u.veto_findings or [])]
        failing.append(FailingUnit(u.name, u.level, u.township_name or u.name, u.final_total, result.zh,
                                   u.missing if result is Result.FAIL else None, tuple(problems)))

    per_indicator: dict[tuple[str, str], dict] = {}
    rules: dict[str, dict] = {}
    for s in scores:
        if s.points is None:
            continue
        key = (level_of.get(s.unit_code, ""), s.indicator_code)
        entry = per_indicator.setdefault(key, {"title": s.title, "max": s.max_points, "scored": Decimal(0),
                                               "possible": Decimal(0), "lost": Decimal(0), "units": 0})
        entry["scored"] += s.points
        entry["possible"] += s.max_points
        if s.points < s.max_points:
            entry["lost"] += s.max_points - s.points
            entry["units"] += 1
        seen_here = set()
        for member in s.deductions or []:
            for code, text, count, _each in member.get("rules") or []:
                d = rules.setdefault(code, {"text": text, "units": set(), "times": 0})
                d["times"] += int(count or 0)
                if (s.unit_code, code) not in seen_here:
                    d["units"].add(s.unit_code)
                    seen_here.add((s.unit_code, code))
    losing = [IndicatorLoss(level, code, e["title"], e["max"], e["units"], e["lost"],
                            q2(e["scored"] * 100 / e["possible"]) if e["possible"] else None)
              for (level, code), e in per_indicator.items() if e["lost"] > 0]
    losing.sort(key=lambda x: (-x.points_lost, -x.units_losing, x.level != "township", x.code))
    deductions = sorted((Deduction(code, d["text"], len(d["units"]), d["times"]) for code, d in rules.items()),
                        key=lambda d: (-d.units, -d.times, d.code))

    pairs = [(u, u.self_total - u.final_total) for u in units
             if u.self_total is not None and u.final_total is not None and Result(u.result) is not Result.INCOMPLETE]
    gaps = sorted((Inflation(u.name, u.township_name or u.name, u.self_total, u.final_total, gap)
                   for u, gap in pairs if gap > 0), key=lambda x: (-x.gap, x.name))
    return Figures(
        by_level={"township": by_level.get("township", 0), "village": by_level.get("village", 0)},
        townships=townships, total=total, failing=failing, losses=losing[:TOP_INDICATORS],
        deductions=deductions[:TOP_DEDUCTIONS], inflated=gaps[:TOP_INFLATED],
        inflated_count=sum(1 for _u, gap in pairs if gap > tolerance), compared=len(pairs),
        mean_gap=q2(sum((gap for _u, gap in pairs), Decimal(0)) / len(pairs)) if pairs else None,
        all_losses=len(losing))
