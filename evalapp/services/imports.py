"""Spreadsheet imports: checked whole, written whole (or not at all)."""
import io
import zipfile

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..domain.units import KIND_LEVEL, UnitRow, normalize_code, validate_units
from ..extensions import db
from ..models import OrgUnit, User
from . import audit, versions
from .errors import Invalid, Joined, Shown, _l
from .xlsx import finish, new_workbook, read_text, write_row, write_text

MAX_IMPORT_BYTES = 5 * 1024 * 1024
UNIT_HEADERS = ["编码", "名称", "类型", "上级编码"]


class ImportProblems(Invalid):
    """An import refused; `problems` lists every one (row numbers where they apply), each a `Shown`: Chinese as a
    string (the CLI joins them), in the request's language on a page. Problems are marked messages (`_l`, or the
    domain's `M_`); a plain string is shown as it is."""

    def __init__(self, problems: list):
        shown = [Shown(p) for p in problems]
        first = Joined([p.text for p in shown[:3]])
        if len(shown) > 3:
            first = _l("%(problems)s……", problems=first)
        super().__init__("import.refused", _l("导入失败，未写入任何数据：%(problems)s", problems=first),
                         {"file": Joined([p.text for p in shown])})
        self.problems = shown


def read_sheet(data: bytes, headers: list[str]) -> list[tuple[int, dict]]:
    """Rows of the first worksheet as (row number, {header: value}); refuses anything but a plain xlsx."""
    return read_sheet_columns(data, headers)[0]


def read_sheet_columns(data: bytes, headers: list[str]) -> tuple[list[tuple[int, dict]], dict[str, str]]:
    """read_sheet's rows, and each header's column letter in the file (for problems named by row and column)."""
    if not data:
        raise ImportProblems([_l("文件为空")])
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportProblems([_l("文件过大（不超过5MB）")])
    if not data.startswith(b"PK\x03\x04"):
        raise ImportProblems([_l("不是Excel(.xlsx)文件；.xls 请先另存为 .xlsx")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        raise ImportProblems([_l("文件已损坏或不是Excel(.xlsx)文件")]) from None
    if any(n.lower().endswith("vbaproject.bin") for n in names) or "macroEnabled" in types:
        raise ImportProblems([_l("不接受含宏的文件(.xlsm)，请另存为 .xlsx")])
    try:
        wb = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken file
        raise ImportProblems([_l("无法读取该Excel文件")]) from None
    ws = wb.worksheets[0]
    for merged in ws.merged_cells.ranges:
        if merged.min_row == 1:
            raise ImportProblems([_l("表头不能有合并单元格（%(cells)s）", cells=merged.coord)])
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]] if ws.max_row >= 1 else []
    missing = [h for h in headers if h not in header]
    if missing:
        raise ImportProblems([_l("第1行缺少表头：%(missing)s（应为：%(headers)s）", missing="、".join(missing),
                                 headers="、".join(headers))])
    index = {h: header.index(h) for h in headers}
    rows = []
    for n, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if all(v is None or str(v).strip() == "" for v in cells):
            continue
        rows.append((n, {h: read_text(cells[i]) if i < len(cells) else None for h, i in index.items()}))
    wb.close()
    if not rows:
        raise ImportProblems([_l("没有数据行")])
    return rows, {h: get_column_letter(i + 1) for h, i in index.items()}


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def import_units(data: bytes, user: User, *, address: str | None = None) -> dict:
    """Upsert units by code from an xlsx (编码, 名称, 类型, 上级编码); all or nothing."""
    rows = [UnitRow(n, normalize_code(r["编码"]), _text(r["名称"]), _text(r["类型"]), normalize_code(r["上级编码"]))
            for n, r in read_sheet(data, UNIT_HEADERS)]
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    existing = {code: (u.level, u.parent.code if u.parent else None) for code, u in units.items()}
    problems = validate_units(rows, existing)
    if problems:
        raise ImportProblems(problems)
    created = updated = 0
    try:
        # parents before children: the rows are valid, so order them by level
        order = {"district": 0, "township": 1, "village": 2, "group": 3}
        for r in sorted(rows, key=lambda r: order[KIND_LEVEL[r.kind]]):
            unit = units.get(r.code)
            values = dict(name=r.name, kind=r.kind, level=KIND_LEVEL[r.kind],
                          parent=units.get(r.parent_code) if r.parent_code else None)
            if unit is None:
                unit = OrgUnit(code=r.code, **values)
                db.session.add(unit)
                units[r.code] = unit
                created += 1
            elif any(getattr(unit, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(unit, k, v)
                updated += 1
        db.session.flush()
        audit.record("units.import", user=user, address=address,
                     new={"rows": len(rows), "created": created, "updated": updated})
        versions.bump_every_round()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return {"rows": len(rows), "created": created, "updated": updated}


def units_workbook(template: bool = False) -> io.BytesIO:
    """The units as xlsx (codes as text, so Excel keeps leading zeros; names as typed, as string cells); the template
    has the headers and three example rows."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("单位")
    code = wb.add_format({"num_format": "@"})
    for col, width in enumerate((16, 20, 10, 16)):
        ws.set_column(col, col, width, code if col in (0, 3) else None)
    write_row(ws, 0, UNIT_HEADERS)
    if template:
        rows = [("430603", "云溪区", "区", ""), ("430603101", "陆城镇", "镇", "430603"),
                ("430603101201", "示例村", "村", "430603101")]
    else:
        parent = aliased(OrgUnit)
        rows = db.session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.kind, parent.code)
                                  .outerjoin(parent, parent.id == OrgUnit.parent_id).order_by(OrgUnit.code))
    for n, (unit_code, name, kind, parent_code) in enumerate(rows, start=1):
        write_text(ws, n, 0, unit_code, code)
        write_text(ws, n, 1, name)
        write_text(ws, n, 2, kind)
        write_text(ws, n, 3, parent_code, code)
    return finish(wb, buffer)
