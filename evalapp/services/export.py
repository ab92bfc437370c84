"""Spreadsheets built in memory (through the one writer, services/xlsx.py); views only send them."""
import io

from sqlalchemy import Integer, select, type_coerce

from ..domain.vocabulary import Result, UnitLevel
from ..extensions import db
from ..models import Indicator, OrgUnit, Round, Score, Sheet
from .catalogues import indicators_of, load_tree
from ..domain.aggregation import ranking_key
from .results import cached_round_report
from .xlsx import new_workbook, write_row, write_text


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


def results_workbook(round_: Round) -> tuple[io.BytesIO, str]:
    """One sheet per level: a row per unit, a column per indicator (final scores), for the district's analysis.

    Rows in ranking order: ranked units, then incomplete ones, then vetoed ones (no rank, 一票否决 as the points
    missing)."""
    # The results page's report when it is still current (the change counter says so).
    rows = sorted(cached_round_report(round_).rows, key=lambda row: ranking_key(row.unit.level, row.unit.place))
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True})
    num = wb.add_format({"num_format": "0.00"})
    draft = "" if round_.status == "published" else "草稿 — 未公布"
    for level in (UnitLevel.TOWNSHIP, UnitLevel.VILLAGE):  # Chinese labels: the workbook is an official document
        label = level.zh
        catalogue_id = round_.catalogue_for(level).id
        indicators = indicators_of(load_tree(catalogue_id))
        scores = final_scores(round_, catalogue_id, {ind.id: j for j, ind in enumerate(indicators)})
        ws = wb.add_worksheet(label)
        head = ["序号", "单位编码", "单位名称", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次"] + \
               [f"{i.code} {i.title}（{i.points:.2f}）" for i in indicators]
        first = 9  # the first indicator column
        write_row(ws, 0, head, bold)
        ws.freeze_panes(1, 3)
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 14)
        ws.set_column(2, 3, 16)
        ws.set_column(4, 8, 10)
        ws.set_column(first, first + len(indicators), 12)
        if draft:
            ws.set_header(f"&C{draft}")
        blank = [None] * len(indicators)
        n = 0
        for row in rows:
            r = row.unit
            if r.level != level:
                continue
            n += 1
            ws.write_number(n, 0, n)
            write_text(ws, n, 1, r.code)
            write_text(ws, n, 2, r.name)
            write_text(ws, n, 3, row.township_name)
            for col, value in ((4, r.self_total), (5, r.final_total)):
                if value is None:
                    ws.write_blank(n, col, None)
                else:
                    ws.write_number(n, col, float(value), num)
            ws.write_string(n, 6, Result.zh_of(r.result.value))
            if r.vetoed:
                ws.write_string(n, 7, "一票否决")
            elif r.missing is None:
                ws.write_blank(n, 7, None)
            else:
                ws.write_number(n, 7, float(r.missing), num)
            if r.rank is None:
                ws.write_blank(n, 8, None)
            else:
                ws.write_number(n, 8, r.rank)
            for col, points in enumerate(scores.get(r.final_sheet_id, blank), start=first):
                if points is not None:  # an unscored cell stays empty
                    ws.write_number(n, col, points, num)
        ws.autofilter(0, 0, max(n, 1), len(head) - 1)
    wb.close()
    buffer.seek(0)
    suffix = "" if round_.status == "published" else "_草稿"
    return buffer, f"{district_name()}_{round_.name}_评估结果{suffix}.xlsx"
