"""Spreadsheets built in memory (through the one writer, services/xlsx.py); views only send them."""
import io

from sqlalchemy import Integer, select, type_coerce

from ..domain.vocabulary import Result, UnitLevel
from ..extensions import db
from ..models import Indicator, OrgUnit, PublishedScore, Round, Score, Sheet
from .catalogues import indicators_of, load_tree
from ..domain.aggregation import ranking_key
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


def published_final_scores(publication_id: int, columns: dict[str, int]) -> dict[str, list]:
    """A published version's final scores as a row of cells per unit code (column order of `columns`, indicator
    code → position), from one streamed query."""
    width = len(columns)
    rows: dict[str, list] = {}
    hundredths = type_coerce(PublishedScore.points, Integer)
    query = (select(PublishedScore.unit_code, PublishedScore.indicator_code, hundredths)
             .where(PublishedScore.publication_id == publication_id))
    for code, indicator_code, points in db.session.connection().execute(query.execution_options(yield_per=10_000)):
        position = columns.get(indicator_code)
        if position is None:
            continue
        row = rows.get(code)
        if row is None:
            row = rows[code] = [None] * width
        row[position] = None if points is None else points / 100
    return rows


def results_workbook(round_: Round, *, draft: bool = False) -> tuple[io.BytesIO, str]:
    """One sheet per level: a row per unit, a column per indicator (final scores), for the district's analysis.

    A published round's workbook is its last version, read from the snapshot only (services.snapshots); `draft`
    or before publication, the data as it stands, marked 草稿 on every sheet. Rows in ranking order: ranked units,
    then incomplete ones, then vetoed ones (no rank, 一票否决 as the points missing)."""
    from . import snapshots

    view = snapshots.shown(round_, draft=draft)
    pub = view.publication
    rows = sorted(view.report.rows, key=lambda row: ranking_key(row.unit.level, row.unit.place))
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    round_name = pub.round_name if pub is not None else round_.name
    if pub is not None:  # the version's own date: two downloads of one version are the same bytes
        wb.set_properties({"title": f"{round_name} 评估结果（第{pub.version}版）", "author": pub.published_by_name,
                           "created": pub.published_at.replace(tzinfo=None)})
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True})
    num = wb.add_format({"num_format": "0.00"})
    draft_mark = "" if pub is not None else "草稿 — 未公布"
    for level in (UnitLevel.TOWNSHIP, UnitLevel.VILLAGE):  # Chinese labels: the workbook is an official document
        label = level.zh
        catalogue_id = round_.catalogue_for(level).id
        indicators = indicators_of(load_tree(catalogue_id))
        if pub is not None:
            by_code = published_final_scores(pub.id, {ind.code: j for j, ind in enumerate(indicators)})
            scores = {row.unit.final_sheet_id: by_code[row.unit.code] for row in rows if row.unit.code in by_code}
        else:
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
        if draft_mark:
            ws.set_header(f"&C{draft_mark}")
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
    suffix = f"_第{pub.version}版" if pub is not None else "_草稿"
    return buffer, f"{district_name()}_{round_name}_评估结果{suffix}.xlsx"
