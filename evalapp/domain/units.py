"""Validating a unit list (编码, 名称, 类型, 上级编码) before anything is written: all or nothing."""
import re
import unicodedata
from dataclasses import dataclass

from .messages import M_, Msg
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


# The level a unit's parent must have, as the message names it.
PARENT_KINDS = {"district": M_("区"), "township": M_("镇或街道"), "village": M_("村或社区")}


def row_problem(row: int, problem: Msg) -> Msg:
    """A problem of one row ("第3行：缺少名称"); `params["problem"]` is the problem alone (a unit form's message)."""
    return M_("第%(row)s行：%(problem)s", row=row, problem=problem)


def validate_units(rows: list[UnitRow], existing: dict[str, tuple[str, str | None]]) -> list[Msg]:
    """Every problem, by row (`row_problem`): bad code, missing name, bad kind, duplicate code, unknown parent, wrong
    parent level, a cycle. `existing` maps the codes already in the database to (level, parent code)."""
    problems = []
    seen: dict[str, int] = {}

    def add(r: UnitRow, problem: Msg) -> None:
        problems.append(row_problem(r.row, problem))

    for r in rows:
        level = KIND_LEVEL.get(r.kind)
        if not CODE.match(r.code):
            add(r, M_("编码“%(code)s”无效，只能是数字（不能有空格、字母或全角符号以外的字符）", code=r.code))
        elif level and len(r.code) != CODE_LENGTH[level]:
            if len(r.code) < CODE_LENGTH[level]:
                add(r, M_("编码“%(code)s”应为%(n)s位数字（可能被Excel去掉了开头的0，请把编码列设为文本）",
                          code=r.code, n=CODE_LENGTH[level]))
            else:
                add(r, M_("编码“%(code)s”应为%(n)s位数字", code=r.code, n=CODE_LENGTH[level]))
        if r.code in seen:
            add(r, M_("编码“%(code)s”与第%(other)s行重复", code=r.code, other=seen[r.code]))
        else:
            seen[r.code] = r.row
        if not r.name:
            add(r, M_("缺少名称"))
        elif len(r.name) > 100:
            add(r, M_("名称过长"))
        elif (bad := text_problem(r.name)) is not None:
            add(r, M_("名称%(problem)s", problem=bad))
        if r.kind not in KIND_LEVEL:
            add(r, M_("类型“%(kind)s”无效，应为 区/镇/街道/村/社区/村民小组", kind=r.kind))
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
                add(r, M_("区不应有上级编码"))
            continue
        if not r.parent_code:
            add(r, M_("缺少上级编码"))
        elif r.parent_code not in levels:
            add(r, M_("上级编码“%(code)s”不存在", code=r.parent_code))
        elif levels[r.parent_code] != PARENT_LEVEL[level]:
            # (the row's kind is one of the vocabulary's unit kinds, a msgid there: translated as such)
            add(r, M_("上级“%(code)s”的层级不对（%(kind)s的上级应为%(parent)s）", code=r.parent_code,
                      kind=Msg(r.kind), parent=PARENT_KINDS[PARENT_LEVEL[level]]))
        # a cycle: following parents comes back to the row
        node, steps = r.parent_code, 0
        while node and steps < 10:
            if node == r.code:
                add(r, M_("上级关系形成循环"))
                break
            node, steps = parents.get(node), steps + 1
    return problems
