"""The one xlsx writer: every workbook the app sends is made here, so what a user typed is always a string cell.

A string cell is never evaluated by Excel, WPS or LibreOffice, whatever it starts with (= + - @ tab CR {=…}), so the
text needs no visible quote in front of it and reads back exactly as typed. Formulas and links exist only where the
code writes them on purpose (`write_formula`, the finance sheet's totals); nothing here turns text into either.
"""
import io
import re
from decimal import Decimal

import xlsxwriter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# The layout revision of the official paper made here (奖补资格表, district workbook, audit and catalogue exports):
# bumped with every change of layout, named on the 说明 sheet, so a file says which layout made it. A version's
# content and checksums never change; a layout change applies to every version's file downloaded from then on.
PAPER_LAYOUT = 2  # 2: issue 30 (fitted widths ≥ 9 pt, padded cells, sign-off on every sheet, no empty-range sums)
PAPER_LAYOUT_LABEL = f"版式第{PAPER_LAYOUT}版（2026年12月）"
# 距合格线 of a unit at or above the line (issue 30, point 5): said in words, not 0.00. Official paper: Chinese.
REACHED = "已达合格线"


def new_workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """A workbook where no string becomes a formula, a link or a number.

    constant_memory: rows stream to the file (a worksheet is written top to bottom), and text is stored inline with
    the OOXML escapes applied to every string (a literal `_x000D_` stays literal, a CR stays a CR)."""
    return xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})


def paper_fonts(wb: xlsxwriter.Workbook) -> None:
    """The workbook's default font Arial 11: column widths are counted in the default font's digit width (8 px),
    the same in Excel, WPS and LibreOffice (Liberation Sans shares Arial's metrics) — where Calibri, xlsxwriter's
    default, is often missing and replaced by a wider font, and a sheet fitted to the page's width then prints far
    smaller than planned (the 明细's cells at 6.6 pt, issue 30, point 3). Call before adding any format."""
    wb.formats[0].set_font_name("Arial")


def write_cell(ws, row: int, col: int, value, fmt=None) -> None:
    """One cell: None or "" is blank, a number is a number (Decimal as float, for a cell holds floats), anything else is
    written as a string cell — never a formula or a link."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_text(ws, row: int, col: int, value, fmt=None) -> None:
    """Text as a string cell, also when it looks like a number (codes keep their leading zeros)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_row(ws, row: int, values, fmt=None, start: int = 0) -> None:
    """A row of cells through write_cell (never xlsxwriter's own type guessing)."""
    for col, value in enumerate(values, start=start):
        write_cell(ws, row, col, value, fmt)


def write_sum(ws, row: int, col: int, first: int, last: int, fmt, value) -> None:
    """A 合计 cell: =SUM over the rows first..last (0-based, above `row`), or the value itself where there is no row
    to add (a formula over an empty range covers its own cell: Err:522 in LibreOffice)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    if last < first or last >= row:
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_formula(row, col, f"=SUM({xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)})", fmt, value)


def finish(wb: xlsxwriter.Workbook, buffer: io.BytesIO) -> io.BytesIO:
    """Close the workbook and rewind the buffer for sending."""
    wb.close()
    buffer.seek(0)
    return buffer


def read_text(value):
    """A cell's text as Excel shows it: OOXML stores a CR or another control character as `_xHHHH_` (and a literal
    `_x` as `_x005F_x`); openpyxl leaves those escapes in what it reads, so an import undoes them here."""
    if isinstance(value, str) and "_x" in value:
        return OOXML_ESCAPE.sub(_unescape, value)
    return value


def _unescape(match) -> str:
    """One `_xHHHH_`: the character it stands for when a text field may hold it (a line break, a tab, printable
    text), else the escape as it stands (NUL, other controls, surrogate halves: no column stores them)."""
    code = int(match.group(1), 16)
    if 0xD800 <= code <= 0xDFFF or (code < 0x20 and chr(code) not in "\n\r\t") or code == 0x7F:
        return match.group(0)
    return chr(code)


def text_lines(text: str | None, width: float) -> int:
    """How many lines a wrapped cell of `width` characters needs for `text` (a Chinese character takes two)."""
    if not text:
        return 1
    used = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return max(1, -(-used // max(int(width) - 1, 1)))
