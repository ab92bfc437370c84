"""The district workbook (评估结果汇总表) built in memory from a round's read model (through the one writer,
services/xlsx.py): layout only; services.downloads builds the model, audits the download and sends it."""
import io

from sqlalchemy import Integer, select, type_coerce

from ..domain.vocabulary import Result, UnitLevel
from ..extensions import db
from ..models import Indicator, OrgUnit, PublishedScore, Round, Score, Sheet
from . import seals
from .catalogues import indicators_of, load_tree
from ..domain.aggregation import ranking_key
from .readmodel import RoundResults
from .xlsx import PAPER_LAYOUT_LABEL, REACHED, new_workbook, text_lines, write_row, write_text


def district_name() -> str:
    return db.session.scalar(select(OrgUnit.name).where(OrgUnit.level == "district")) or "云溪区"


def final_scores(round_: Round, catalogue_id: int, columns: dict[int, int]) -> dict[int, list]:
    """The final sheets' scores of one catalogue as a row of cells per sheet (column order of `columns`,
    indicator id → position; None where unscored), from one streamed query; points as floats, as a cell holds them.
    """
    width = len(columns)
    rows: dict[int, list] = {}
    hundredths = type_coerce(Score.points, Integer)  # (models.base.Points) read raw, not as a Decimal per cell
    query = (select(Score.sheet_id, Score.indicator_id, hundredths)
             .join(Sheet, Sheet.id == Score.sheet_id)
             .join(Indicator, Indicator.id == Score.indicator_id)
             .where(Sheet.round_id == round_.id, Sheet.kind == "final", Indicator.catalogue_id == catalogue_id))
    # Streamed in batches (a server-side cursor on PostgreSQL), for this statement only.
    for sheet_id, indicator_id, points in db.session.connection().execute(query.execution_options(yield_per=10_000)):
        row = rows.get(sheet_id)
        if row is None:
            row = rows[sheet_id] = [None] * width
        row[columns[indicator_id]] = None if points is None else points / 100  # the double nearest the value
    return rows


def published_final_scores(publication, units: dict, columns: dict[str, int]) -> dict[str, list]:
    """A published version's final scores as a row of cells per unit code (column order of `columns`, indicator
    code → position), from one streamed query; each unit's rows checked against its sealed unit row (`units`: code →
    the version's unit row, of the level shown) before any is laid out (services.seals)."""
    width = len(columns)
    rows: dict[str, list] = {}
    found: dict[str, list] = {code: [] for code in units}
    query = (select(PublishedScore.unit_code, PublishedScore.indicator_code,
                    type_coerce(PublishedScore.max_points, Integer), type_coerce(PublishedScore.points, Integer))
             .where(PublishedScore.publication_id == publication.id))
    for code, indicator_code, max_points, points in db.session.connection().execute(
            query.execution_options(yield_per=10_000)):
        mine = found.get(code)
        if mine is None:
            continue  # (the other level's)
        mine.append((indicator_code, max_points, points))
        position = columns.get(indicator_code)
        if position is None:
            continue
        row = rows.get(code)
        if row is None:
            row = rows[code] = [None] * width
        row[position] = None if points is None else points / 100  # the double nearest the value
    for code, unit in units.items():
        seals.check_points(publication, unit, found[code])
    return rows


def _bonus_text(items) -> str:
    return "；".join(f"{code} {text_} +{points}" for code, text_, points, *_ in items or [])


def _header_text(text_: str) -> str:
    """Text for a page header or footer: `&` is its code character."""
    return text_.replace("&", "&&")


# After the indicator columns: what a row adds up from (indicators + counted bonus = 总分 = 评估得分), and any veto.
TAIL_HEAD = ["指标得分合计", "加分项", "计入加分（上限{cap}分）", "一票否决", "总分"]
TAIL_WIDTHS = [10, 24, 10, 24, 9]
UNIT_WIDTHS = [6, 14, 16, 14, 9, 9, 16, 9, 6]  # 序号 … 名次
INDICATOR_WIDTH = 8
PAGE_WIDTH = 277  # A4 landscape less 10 mm margins each side, in mm


def _pages_wide(widths: list[float], repeated: int) -> int:
    """Pages across for a sheet of these column widths, printed at 75 % or more with its first `repeated` columns on
    every page (a character of width ≈ 1.9 mm at 100 %)."""
    mm = [w * 1.9 for w in widths]
    page = PAGE_WIDTH / 0.75
    rest, fixed = sum(mm[repeated:]), sum(mm[:repeated])
    return max(1, -(-int(rest) // int(page - fixed)))


PROGRESS_ROWS = 200  # a workbook job's progress is told every this many units


def results_workbook(view: RoundResults, progress=None) -> tuple[io.BytesIO, str]:
    """One sheet per level: a row per unit, a column per indicator (final scores), for the district's analysis.

    A published round's workbook is its last version, read from the snapshot only (services.snapshots); `draft`
    or before publication, the data as it stands, marked 草稿 on every sheet and page. Rows in ranking order: ranked
    units, then incomplete ones, then vetoed ones (no rank, 一票否决 as the points missing). After the indicators, the
    indicator sum, the bonus items, the bonus counted (capped) and any veto, so that every row adds up to its total.
    Printed on A4 landscape with the header row and the unit columns on every page. Layout only: `view` is the
    round's read model built with extras (services.readmodel; services.downloads builds, audits and sends it).
    `progress(done, total)`: told as unit rows are written (a job's progress bar, services.jobs)."""
    round_, pub, caps = view.round, view.publication, view.caps
    rows = sorted(view.report.rows, key=lambda row: ranking_key(row.unit.level, row.unit.place))
    extras = view.extras
    # Every level's scores read (a version's checked against its seal) before the workbook opens its temporary files.
    levels = []
    for level in (UnitLevel.TOWNSHIP, UnitLevel.VILLAGE):
        catalogue_id = round_.catalogue_for(level).id
        indicators = indicators_of(load_tree(catalogue_id))
        if pub is not None:
            by_code = published_final_scores(
                pub, {code: r for code, r in extras.rows.items() if r.level == level.value},
                {ind.code: j for j, ind in enumerate(indicators)})
            scores = {row.unit.final_sheet_id: by_code[row.unit.code] for row in rows if row.unit.code in by_code}
        else:
            scores = final_scores(round_, catalogue_id, {ind.id: j for j, ind in enumerate(indicators)})
        levels.append((level, indicators, scores))
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    round_name = pub.round_name if pub is not None else round_.name
    if pub is not None:  # the version's own date: two downloads of one version are the same bytes
        wb.set_properties({"title": f"{round_name} 评估结果（第{pub.version}版）", "author": pub.published_by_name,
                           "created": pub.published_at.replace(tzinfo=None), "comments": PAPER_LAYOUT_LABEL})
    else:
        wb.set_properties({"comments": PAPER_LAYOUT_LABEL})  # the layout revision that made the file
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "vcenter",
                          "align": "center"})
    num = wb.add_format({"num_format": "0.00", "border": 1})
    num_bold = wb.add_format({"num_format": "0.00", "border": 1, "bold": True})
    cell = wb.add_format({"border": 1})
    wrapped = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    draft_mark = "" if pub is not None else "草稿 — 未公布"
    total, written = len(rows), 0
    mark = (f"第{pub.version}版 SHA-256 {pub.sha256}" if pub is not None else "草稿 — 未公布（数据截至导出时）")
    for level, indicators, scores in levels:  # Chinese labels: the workbook is an official document
        label = level.zh
        ws = wb.add_worksheet(label)
        cap = caps.get(level.value, 0)
        head = ["序号", "单位编码", "单位名称", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次"] + \
               [f"{i.code} {i.title}（{i.points:.2f}）" for i in indicators] + \
               [h.format(cap=f"{cap:.2f}") for h in TAIL_HEAD]
        first = 9  # the first indicator column
        tail = first + len(indicators)  # the first column after the indicators
        widths = UNIT_WIDTHS + [INDICATOR_WIDTH] * len(indicators) + TAIL_WIDTHS
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.set_row(0, 15 * max(text_lines(h, w) for h, w in zip(head, widths)))  # every header whole
        write_row(ws, 0, head, bold)
        ws.freeze_panes(1, 3)
        # Paper: A4 landscape, the header row and the unit columns (序号, 编码, 名称) on every page, as many pages
        # across as keep the print at 75 % or more, the round, level and version or 草稿 on every page.
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        ws.repeat_rows(0)
        ws.repeat_columns(0, 2)
        ws.fit_to_pages(_pages_wide(widths, 3), 0)
        ws.set_header(f"&L{_header_text(round_name)} 评估结果（{label}）" + (f"&C{draft_mark}" if draft_mark else "")
                      + f"&R{_header_text(mark)}")
        ws.set_footer("&C第 &P 页，共 &N 页")
        blank = [None] * len(indicators)
        n = 0
        for row in rows:
            r = row.unit
            if r.level != level:
                continue
            n += 1
            written += 1
            if progress is not None and written % PROGRESS_ROWS == 0:
                progress(written, total)
            score_sum, bonus_sum = extras.sums.get(r.code, (None, None))
            bonus_text = _bonus_text(extras.bonus.get(r.code))
            veto_text = "；".join(f"{t}（{f}）" for _c, t, f in extras.vetoes.get(r.code, []))
            lines = max(text_lines(bonus_text, TAIL_WIDTHS[1]), text_lines(veto_text, TAIL_WIDTHS[3]))
            if lines > 1:  # LibreOffice does not grow a row to its wrapped text on load
                ws.set_row(n, 15 * lines)
            ws.write_number(n, 0, n, cell)
            write_text(ws, n, 1, r.code, cell)
            write_text(ws, n, 2, r.name, cell)
            write_text(ws, n, 3, row.township_name, cell)
            for col, value in ((4, r.self_total), (5, r.final_total)):
                if value is None:
                    ws.write_blank(n, col, None, cell)
                else:
                    ws.write_number(n, col, float(value), num)
            ws.write_string(n, 6, Result.zh_of(r.result.value), cell)
            if r.vetoed:
                ws.write_string(n, 7, "一票否决", cell)
            elif r.missing is None:
                ws.write_blank(n, 7, None, cell)
            elif r.missing == 0:  # at or above the line: said, not 0.00 (issue 30, point 5)
                ws.write_string(n, 7, REACHED, cell)
            else:
                ws.write_number(n, 7, float(r.missing), num)
            if r.rank is None:
                ws.write_blank(n, 8, None, cell)
            else:
                ws.write_number(n, 8, r.rank, cell)
            for col, points in enumerate(scores.get(r.final_sheet_id, blank), start=first):
                if points is None:  # an unscored cell stays empty
                    ws.write_blank(n, col, None, cell)
                else:
                    ws.write_number(n, col, points, num)
            scored = r.final_total is not None and score_sum is not None
            if scored:
                ws.write_number(n, tail, float(score_sum), num)
            else:
                ws.write_blank(n, tail, None, cell)
            write_text(ws, n, tail + 1, bonus_text, wrapped)
            if scored:
                ws.write_number(n, tail + 2, float(min(bonus_sum or 0, cap)), num)
            else:
                ws.write_blank(n, tail + 2, None, cell)
            write_text(ws, n, tail + 3, veto_text, wrapped)
            if scored:
                ws.write_number(n, tail + 4, float(r.final_total), num_bold)
            else:
                ws.write_blank(n, tail + 4, None, cell)
        ws.autofilter(0, 0, max(n, 1), len(head) - 1)
    wb.close()
    buffer.seek(0)
    if progress is not None:
        progress(total, total)
    suffix = f"_第{pub.version}版" if pub is not None else "_草稿"
    return buffer, f"{district_name()}_{round_name}_评估结果{suffix}.xlsx"
