"""A unit's history and the district's comparison as xlsx (issue 33, point 5), through the one safe writer
(services.xlsx: what was typed is a string cell). Official paper: Chinese in every language, the versions named."""
import io
from decimal import Decimal

from ..domain.lineage import Relation, UnitChange
from ..domain.scoring import Result
from ..domain.vocabulary import UnitLevel
from .history import District, UnitHistory
from .xlsx import finish, new_workbook, paper_fonts, write_cell, write_text

PROPOSALS = {"rectify": "建议整改", "interview": "建议约谈"}


def _sheet(wb, title: str, head: list[str], widths: list[int], bold):
    ws = wb.add_worksheet(title)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    for col, value in enumerate(head):
        write_text(ws, 0, col, value, bold)
    return ws


def _row(ws, n: int, values: list, cell, number) -> None:
    for col, value in enumerate(values):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            write_cell(ws, n, col, value, number)
        else:
            write_text(ws, n, col, value, cell)


def _formats(wb):
    return (wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "vcenter"}),
            wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
            wb.add_format({"border": 1, "valign": "top", "num_format": "0.00"}))


def unit_workbook(found: UnitHistory) -> io.BytesIO:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    paper_fonts(wb)
    bold, cell, number = _formats(wb)
    ws = _sheet(wb, "历年结果", ["版本", "批次", "单位（当时）", "编码（当时）", "关系", "总分", "合格线", "结果", "排名", "同级单位数"],
                [12, 28, 18, 16, 10, 9, 9, 14, 7, 10], bold)
    for n, e in enumerate(found.entries, start=1):
        _row(ws, n, [e.ref.label.zh, e.ref.round_name, e.name, e.code,
                     UnitChange.zh_of(e.relation) if e.relation else "", e.total, e.ref.threshold,
                     Result.zh_of(e.result.value), e.rank, e.level_count], cell, number)
    ws = _sheet(wb, "对比", ["对比的版本", "层级", "编码", "名称", "与上一版本的关系", "原编码", "之前得分率(%)", "之后得分率(%)", "变化"],
                [26, 8, 8, 36, 12, 8, 12, 12, 9], bold)
    n = 1
    for c in found.comparisons:
        label = c.label.zh
        for level, rows in (("一级指标", c.categories), ("二级指标", c.indicators if c.linked else [])):
            for k in rows:
                _row(ws, n, [label, level, k.code, k.title, Relation.zh_of(k.relation) if k.relation else "",
                             k.before.code if k.before else "", k.before.rate if k.before else None,
                             k.after.rate if k.after else None, k.delta], cell, number)
                n += 1
    return finish(wb, buffer)


def district_workbook(found: District) -> io.BytesIO:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    paper_fonts(wb)
    bold, cell, number = _formats(wb)
    before = found.before.label.zh if found.before else ""
    after = found.after.label.zh if found.after else ""
    ws = _sheet(wb, "同比", ["镇(街道)", "层级", "n（两版本都有总分的同一单位）", f"合格率(%) {before}", f"合格率(%) {after}",
                           f"平均分 {before}", f"平均分 {after}"], [18, 10, 14, 14, 14, 12, 12], bold)
    lines = found.townships + ([found.total] if found.total else [])
    for n, t in enumerate(lines, start=1):
        _row(ws, n, [t.township or "合计", UnitLevel.zh_of(t.level) if t.level else "", t.n, t.rate_before,
                     t.rate_after, t.mean_before, t.mean_after], cell, number)
    ws = _sheet(wb, "失分最多的指标", ["层级", "编码", "指标", f"失分单位数 {after}", "参评单位数", "累计失分",
                                  f"原编码 {before}", f"失分单位数 {before}", "参评单位数"], [10, 8, 40, 12, 10, 10, 10, 12, 10], bold)
    for n, x in enumerate(found.lost, start=1):
        _row(ws, n, [UnitLevel.zh_of(x.level), x.code, x.title, x.units, x.scored, x.points, x.before_code or "",
                     x.before_units, x.before_scored], cell, number)
    ws = _sheet(wb, "连续失分", ["单位", "编码", "镇(街道)", f"各批次得分率（低于{found.below}%）", "建议", "整改情况"],
                [16, 16, 14, 60, 10, 40], bold)
    for n, s in enumerate(found.streaks, start=1):
        steps = "；".join(f"{st.ref.label.zh}：{st.code} {st.title} {st.rate}%" for st in s.steps)
        outcomes = "；".join([f"{r.round_name} 整改 {r.number} {r.status_zh}"
                              + (f"（复查{r.total}分）" if r.total is not None else "") for r in s.rectifications]
                             + [f"约谈 {i.held_on.isoformat()}" for i in s.interviews])
        _row(ws, n, [s.name, s.code, s.township, steps, PROPOSALS[s.proposal], outcomes], cell, number)
    return finish(wb, buffer)
