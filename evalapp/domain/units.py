"""Validating a unit list (编码, 名称, 类型, 上级编码) before anything is written: all or nothing."""
import re
import unicodedata
from dataclasses import dataclass

from .text import text_problem

KIND_LEVEL = {"区": "district", "镇": "township", "街道": "township", "村": "village", "社区": "village",
              "村民小组": "group"}
PARENT_LEVEL = {"township": "district", "village": "township", "group": "village"}
CODE = re.compile(r"^[0-9]+$")
# Statistical division codes: district 6 digits, township 9, village 12; groups get 15.
CODE_LENGTH = {"district": 6, "township": 9, "village": 12, "group": 15}


@dataclass(frozen=True)
class UnitRow:
    row: int  # spreadsheet row number, for messages
    code: str
    name: str
    kind: str
    parent_code: str


def normalize_code(value: object) -> str:
    """A code as text: full-width digits and spaces folded, a float from Excel ("430603101.0") read back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"[0-9]+\.0", text):
        text = text[:-2]
    return text


def validate_units(rows: list[UnitRow], existing: dict[str, tuple[str, str | None]]) -> list[str]:
    """Every problem, by row: bad code, missing name, bad kind, duplicate code, unknown parent, wrong parent level,
    a cycle. `existing` maps the codes already in the database to (level, parent code)."""
    problems = []
    seen: dict[str, int] = {}
    for r in rows:
        level = KIND_LEVEL.get(r.kind)
        if not CODE.match(r.code):
            problems.append(f"第{r.row}行：编码“{r.code}”无效，只能是数字（不能有空格、字母或全角符号以外的字符）")
        elif level and len(r.code) != CODE_LENGTH[level]:
            hint = "（可能被Excel去掉了开头的0，请把编码列设为文本）" if len(r.code) < CODE_LENGTH[level] else ""
            problems.append(f"第{r.row}行：编码“{r.code}”应为{CODE_LENGTH[level]}位数字{hint}")
        if r.code in seen:
            problems.append(f"第{r.row}行：编码“{r.code}”与第{seen[r.code]}行重复")
        else:
            seen[r.code] = r.row
        if not r.name:
            problems.append(f"第{r.row}行：缺少名称")
        elif len(r.name) > 100:
            problems.append(f"第{r.row}行：名称过长")
        elif (bad := text_problem(r.name)) is not None:
            problems.append(f"第{r.row}行：名称{bad}")
        if r.kind not in KIND_LEVEL:
            problems.append(f"第{r.row}行：类型“{r.kind}”无效，应为 区/镇/街道/村/社区/村民小组")
    levels = {code: lvl for code, (lvl, _) in existing.items()}
    parents = {code: parent for code, (_, parent) in existing.items()}
    for r in rows:
        if r.kind in KIND_LEVEL:
            levels[r.code] = KIND_LEVEL[r.kind]
            parents[r.code] = r.parent_code or None
    for r in rows:
        level = KIND_LEVEL.get(r.kind)
        if level is None:
            continue
        if level == "district":
            if r.parent_code:
                problems.append(f"第{r.row}行：区不应有上级编码")
            continue
        if not r.parent_code:
            problems.append(f"第{r.row}行：缺少上级编码")
        elif r.parent_code not in levels:
            problems.append(f"第{r.row}行：上级编码“{r.parent_code}”不存在")
        elif levels[r.parent_code] != PARENT_LEVEL[level]:
            problems.append(f"第{r.row}行：上级“{r.parent_code}”的层级不对（{r.kind}的上级应为"
                            f"{ {'district': '区', 'township': '镇或街道', 'village': '村或社区'}[PARENT_LEVEL[level]] }）")
        # a cycle: following parents comes back to the row
        node, steps = r.parent_code, 0
        while node and steps < 10:
            if node == r.code:
                problems.append(f"第{r.row}行：上级关系形成循环")
                break
            node, steps = parents.get(node), steps + 1
    return problems
