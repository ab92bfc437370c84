"""Unit-list validation: every bad row reported with its row number."""
from evalapp.domain.units import UnitRow, normalize_code, validate_units

EXISTING = {"430603": ("district", None), "430603101": ("township", "430603")}


def row(n, code, name="某村", kind="村", parent="430603101"):
    return UnitRow(n, code, name, kind, parent)


def test_valid_rows_pass():
    assert validate_units([row(2, "430603101201"), row(3, "430603102", "新镇", "镇", "430603"),
                           row(4, "430603102201", parent="430603102")], EXISTING) == []


def test_every_problem_is_listed_with_its_row():
    problems = validate_units([
        row(2, "430603101201"), row(3, "430603101201"),          # duplicate
        row(4, "43060310120", kind="村"),                         # lost a digit
        row(5, "430603101202", kind="庄"),                        # bad kind
        row(6, "430603101203", parent="999999999"),               # unknown parent
        row(7, "430603101204", name=""),                          # no name
        row(8, "4306O3101205"),                                   # a letter O
        row(9, "430603101206", parent="430603"),                  # village under the district
    ], EXISTING)
    text = "\n".join(problems)
    for n, what in ((3, "与第2行重复"), (4, "应为12位数字"), (5, "类型“庄”无效"), (6, "不存在"), (7, "缺少名称"),
                    (8, "只能是数字"), (9, "层级不对")):
        assert f"第{n}行" in text and what in text, (n, what)


def test_a_cycle_is_found():
    problems = validate_units([UnitRow(2, "430603201", "甲", "镇", "430603201")], {"430603": ("district", None)})
    assert "第2行：上级关系形成循环" in problems
    problems = validate_units([UnitRow(2, "430603201", "甲", "镇", "430603202001"),
                               UnitRow(3, "430603202001", "乙", "村", "430603201")],
                              {"430603": ("district", None)})
    assert "第2行：上级关系形成循环" in problems and "第3行：上级关系形成循环" in problems


def test_codes_from_excel_are_normalized():
    assert normalize_code(430603101.0) == "430603101"
    assert normalize_code("４３０６０３ ") == "430603"
    assert normalize_code(" 430603101 ") == "430603101"
    assert normalize_code(None) == ""
