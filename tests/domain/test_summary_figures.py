"""Issue 33, point 4: the 评估总结's figures from a version's rows (domain.summary), on rows made here — the
members' deductions counted per rule, 自评虚高 as self total minus final total, a failing unit's weakest indicators."""
from decimal import Decimal as D
from types import SimpleNamespace as Row

from evalapp.domain.summary import figures


def unit(code, level, result, self_total, final_total, township="T1", missing=None, vetoes=()):
    return Row(code=code, name=f"单位{code}", level=level, township_code=None if level == "township" else township,
               township_name="甲镇", self_total=None if self_total is None else D(self_total),
               final_total=None if final_total is None else D(final_total), result=result,
               missing=None if missing is None else D(missing), veto_findings=list(vetoes))


def score(unit_code, code, max_points, points, rules=()):
    return Row(unit_code=unit_code, indicator_code=code, title=f"指标{code}", max_points=D(max_points),
               points=None if points is None else D(points),
               deductions=[{"member": "甲", "rules": [list(r) for r in rules]}] if rules else [])


def test_deductions_inflation_and_problems_from_the_rows():
    units = [unit("T1", "township", "pass", "99.00", "97.00"),
             unit("V1", "village", "fail", "98.00", "90.00", missing="5.00"),
             unit("V2", "village", "veto", "96.00", "99.00", vetoes=[["X1", "弄虚作假", "台账造假"]]),
             unit("V3", "village", "incomplete", "95.00", None)]
    scores = [score("T1", "A1", "10", "7", [("A1-1", "台账缺失", 1, "1.50"), ("A1-2", "未公示", 1, "1.50")]),
              score("V1", "A1", "10", "4", [("A1-1", "台账缺失", 2, "1.50")]),
              score("V1", "A2", "5", "3"), score("V1", "A3", "5", "4"), score("V1", "A4", "5", "4.5"),
              score("V2", "A1", "10", "10")]
    f = figures(units, scores, tolerance=D("1.00"))
    assert [(d.code, d.units, d.times) for d in f.deductions] == [("A1-1", 2, 3), ("A1-2", 1, 1)]
    # self − final over the units with both totals (the incomplete one has no final total)
    assert f.compared == 3 and f.mean_gap == D("2.33")  # (2 + 8 − 3) / 3
    assert [(x.name, x.gap) for x in f.inflated] == [("单位V1", D("8.00")), ("单位T1", D("2.00"))]
    assert f.inflated_count == 2
    failing = {u.name: u for u in f.failing}
    assert failing["单位V1"].problems == ("指标A1（失6.00分）", "指标A2（失2.00分）", "指标A3（失1.00分）")
    assert failing["单位V1"].missing == D("5.00")
    assert failing["单位V2"].problems == ("一票否决：弄虚作假（台账造假）",) and failing["单位V2"].missing is None
    # one township line (the township and its villages), rule 2: the vetoed unit out of the mean
    (line,) = f.townships
    assert (line.units, line.passed, line.failed, line.vetoed, line.incomplete) == (4, 1, 1, 1, 1)
    assert line.pass_rate == D("25.00") and line.mean == D("93.50")
    assert [(x.level, x.code, x.units_losing, x.points_lost) for x in f.losses][:2] == [
        ("village", "A1", 1, D("6.00")), ("township", "A1", 1, D("3.00"))]
