"""The 评估总结 to 市民政局 as a Word file (issue 33, point 4): a pure function of (the version's data, the district's
narrative paragraphs, the template) → the .docx's bytes. Nothing here reads the database, the request or the clock,
so the generation can move onto the job queue as it is; services.summary gathers the data, audits and sends.

Why docxtpl over python-docx (both pinned in requirements.txt): the district owns the template — it opens the file in
Word, changes the 版头, the fonts, the wording around the figures, and uploads it again — so the layout must live in a
.docx, not in code. docxtpl renders Jinja tags placed in a .docx (paragraph and table-row loops, inline images)
and keeps every run's formatting as the template has it, East-Asian fonts (w:rFonts/@w:eastAsia) included; python-docx
alone would put the layout in code and needs raw XML for those fonts (it is still what builds the default template
below and what sets the file's properties). ReportLab cannot embed the CJK fonts installed here and gives a PDF, not
an editable file; WeasyPrint too gives a PDF, and is slow on long CJK tables. The template's tags run in Jinja's
sandbox (an uploaded template is the district's text, not code), with autoescape (a narrative holding & or < stays
text, not broken XML).

The default template is laid out after GB/T 9704-2012 for a 上行文: A4 with the standard's margins (天头 37 mm, 订口
28 mm), the body in 3号 仿宋_GB2312 on a fixed 28.95-pt line (22 lines of 28 characters), the title in 2号
方正小标宋简体, headings by level 一、（黑体）（一）（楷体）1.（仿宋 bold）（1）, the 发文字号 on the left of the
版头's last line and 签发人 on its right, 主送 市民政局, the 成文日期 under the issuing office, page numbers — 1 — in
4号 at the foot. A computer without those fonts (LibreOffice on the server) draws the CJK text in the nearest CJK font
it has (Noto Serif/Sans CJK).

The comparison with the earlier round (`comparison`, None without one) is a section of its own after 评估结果; the
default template numbers its sections by `no` (no.problems is 三 or 四) and its tables by `tab` (only the tables the
file holds), so that the numbering stays continuous with or without it. A template the district uploaded from an
earlier default keeps its fixed numbers and has no comparison until the district adds it (download the default).

Charts are drawn here by matplotlib (pinned) as PNG, with a CJK font (Noto Sans CJK; fonts-noto-cjk), and without
the date matplotlib would write into a PNG's metadata: the same data gives the same picture.
"""
import dataclasses
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from ..domain.summary import Figures

FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc")
BODY_FONT, HEADING_FONT, KAITI, TITLE_FONT = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"
SECTIONS = ("practice", "analysis", "advice")  # 做法和成效, 问题分析, 建议


@dataclass(frozen=True)
class Rectify:
    unit: str
    township: str
    number: str
    complete_due: str
    status: str
    recheck: str


@dataclass(frozen=True)
class Talk:
    unit: str
    held_on: str
    requirements: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class CompareLine:
    """A line of the comparison with the earlier round (services.history's TownshipLine as figures): a township's
    units of one level — or the 合计 — that are in both versions with a total in both, n of them."""

    township: str
    level: str                 # "township" / "village" ("" for the 合计)
    n: int
    rate_before: Decimal | None  # pass rate, percent of the n units
    rate_after: Decimal | None
    rate_change: Decimal | None  # percentage points
    mean_before: Decimal | None
    mean_after: Decimal | None
    mean_change: Decimal | None


@dataclass(frozen=True)
class CompareLost:
    """An indicator lost most often in the later version, with its earlier counterpart (same / renamed lineage)."""

    level: str
    code: str
    title: str
    units: int                  # units that lost points on it
    scored: int                 # units scored on it
    points: Decimal             # points lost, summed
    before_code: str | None     # None: no comparable indicator before (new, split, merged)
    before_units: int | None
    before_scored: int | None


@dataclass(frozen=True)
class Compare:
    """The 评估总结's comparison with the earlier round: services.history.compare_versions as the file says it."""

    label: str                  # 2021 第2版 vs 2022 第1版
    before: str                 # the earlier version: its round's name and version (…第2版)
    after: str
    before_sha256: str
    townships: tuple[CompareLine, ...]
    total: CompareLine
    only_before: int            # units of the earlier version not compared (not in the later one, or no total)
    only_after: int
    lost: tuple[CompareLost, ...]


@dataclass(frozen=True)
class SummaryData:
    """Everything the file says that is not the district's prose: the version's figures and the round's facts."""

    issuer: str              # 云溪区民政局
    recipient: str           # 市民政局
    doc_number: str          # 发文字号
    signer: str              # 签发人
    date: str                # 成文日期, 2026年12月7日
    round_name: str
    year: int
    rollout: str             # 试点 / 全面推行
    version: int
    sha256: str
    published_at: str        # 2026年12月1日
    inspection: str          # 2026年11月1日至2026年11月20日, or 未设定
    teams: tuple[str, ...]
    catalogues: tuple[str, ...]  # 镇(街道)指标：《…》第N版
    threshold: Decimal
    figures: Figures
    rectifications: tuple[Rectify, ...] = ()
    rectify_counts: dict = field(default_factory=dict)  # status label → count
    interviews: tuple[Talk, ...] = ()
    comparison: Compare | None = None  # with the earlier round, where one has a published version


@dataclass(frozen=True)
class Narratives:
    practice: str = ""
    analysis: str = ""
    advice: str = ""


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _p(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}" if value else "0.00"


NUMERALS = "一二三四五六七八九十"
LEVEL_ZH = {"township": "镇(街道)", "village": "村(社区)"}


def numbering(data: SummaryData, figures: Figures) -> tuple[dict, dict]:
    """The sections' numerals (一、… — 与上一轮评估比较 only where there is an earlier round, the ones after it
    renumbered) and the tables' numbers (表1 … counting only the tables the file holds)."""
    sections = ["basics", "results"] + (["compare"] if data.comparison else []) + ["problems", "next"]
    heads = {name: NUMERALS[i] for i, name in enumerate(sections)}
    present = [("townships", True), ("failing", bool(figures.failing)),
               ("compare", data.comparison is not None),
               ("compare_lost", bool(data.comparison and data.comparison.lost)),
               ("losses", bool(figures.losses)), ("inflated", bool(figures.inflated)),
               ("rectify", bool(data.rectify_counts))]
    tables = {}
    for name, shown in present:
        if shown:
            tables[name] = len(tables) + 1
    return heads, tables


def _trend(value: Decimal | None, up: str, down: str, unit: str) -> str:
    if value is None:
        return "—"
    return "持平" if not value else f"{up if value > 0 else down}{abs(value):.2f}{unit}"


def _comparison_context(c: Compare | None) -> dict | None:
    if c is None:
        return None

    def line(t: CompareLine) -> dict:
        return {"township": t.township or "合计", "level": LEVEL_ZH.get(t.level, ""), "n": t.n,
                "rate_before": _p(t.rate_before), "rate_after": _p(t.rate_after), "rate_change": _signed(t.rate_change),
                "mean_before": _p(t.mean_before), "mean_after": _p(t.mean_after), "mean_change": _signed(t.mean_change),
                "rate_trend": _trend(t.rate_change, "上升", "下降", "个百分点"),
                "mean_trend": _trend(t.mean_change, "提高", "降低", "分")}

    return {
        "label": c.label, "before": c.before, "after": c.after, "before_sha256": c.before_sha256,
        "townships": [line(t) for t in c.townships], "total": line(c.total),
        "only_before": c.only_before, "only_after": c.only_after,
        "lost": [{"n": n, "level": LEVEL_ZH.get(x.level, ""), "code": x.code, "title": x.title, "units": x.units,
                  "scored": x.scored, "lost": _p(x.points), "before_code": x.before_code or "—",
                  "before_units": "—" if x.before_units is None else x.before_units,
                  "before_scored": "—" if x.before_scored is None else x.before_scored}
                 for n, x in enumerate(c.lost, start=1)],
    }


# ---------------------------------------------------------------- charts


@lru_cache(maxsize=1)
def _cjk_font():
    import os

    from matplotlib import font_manager

    for path in FONT_FILES:
        if os.path.exists(path):
            return font_manager.FontProperties(fname=path)
    return font_manager.FontProperties(family=["Noto Sans CJK SC", "Noto Serif CJK SC"])


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()


def pass_rate_chart(figures: Figures) -> bytes:
    """Pass rate by township (bars), with each township's mean above its bar."""
    from matplotlib.figure import Figure

    font = _cjk_font()
    lines = figures.townships
    fig = Figure(figsize=(6.2, 3.2))
    ax = fig.subplots()
    rates = [float(t.pass_rate or 0) for t in lines]
    bars = ax.bar(range(len(lines)), rates, color="#4472C4")
    for bar, t in zip(bars, lines):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1, f"{_p(t.pass_rate)}%", ha="center",
                va="bottom", fontproperties=font, fontsize=8)
    ax.set_xticks(range(len(lines)), [t.name for t in lines], fontproperties=font, fontsize=8, rotation=30, ha="right")
    ax.set_ylim(0, 110)
    ax.set_ylabel("合格率（%）", fontproperties=font)
    ax.set_title("各镇(街道)合格率", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    return _png(fig)


def losses_chart(figures: Figures) -> bytes:
    """Points lost by indicator (the listed ones), horizontal bars."""
    from matplotlib.figure import Figure

    font = _cjk_font()
    lines = list(reversed(figures.losses))
    fig = Figure(figsize=(6.2, max(1.6, 0.35 * len(lines) + 0.9)))
    ax = fig.subplots()
    ax.barh(range(len(lines)), [float(x.points_lost) for x in lines], color="#C0504D")
    ax.set_yticks(range(len(lines)), [f"{x.code} {x.title[:14]}" for x in lines], fontproperties=font, fontsize=8)
    ax.set_xlabel("合计失分（分）", fontproperties=font)
    ax.set_title("失分较多的指标", fontproperties=font)
    return _png(fig)


# ---------------------------------------------------------------- the context a template is rendered with


def context(tpl, data: SummaryData, narratives: Narratives) -> dict:
    """What a template's tags may name (the page lists them): the data as text, the narratives as paragraphs."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    f = data.figures

    def line(t):
        return {"name": t.name, "units": t.units, "passed": t.passed, "failed": t.failed, "vetoed": t.vetoed,
                "incomplete": t.incomplete, "pass_rate": _p(t.pass_rate), "mean": _p(t.mean)}

    charts = {}
    if f.townships:
        charts["pass_rate"] = InlineImage(tpl, io.BytesIO(pass_rate_chart(f)), width=Mm(150))
    if f.losses:
        charts["losses"] = InlineImage(tpl, io.BytesIO(losses_chart(f)), width=Mm(150))
    heads, tables = numbering(data, f)
    return {
        "no": heads, "tab": tables, "comparison": _comparison_context(data.comparison),
        "issuer": data.issuer, "recipient": data.recipient, "doc_number": data.doc_number, "signer": data.signer,
        "date": data.date, "round_name": data.round_name, "year": data.year, "rollout": data.rollout,
        "version": data.version, "sha256": data.sha256, "published_at": data.published_at,
        "inspection": data.inspection, "teams": list(data.teams), "team_count": len(data.teams),
        "catalogues": list(data.catalogues), "threshold": _p(data.threshold),
        "units": f.total.units, "townships_in_scope": f.by_level.get("township", 0),
        "villages_in_scope": f.by_level.get("village", 0),
        "total": line(f.total), "townships": [line(t) for t in f.townships],
        "failing": [{"n": n, "name": u.name, "township": u.township, "total": _p(u.total), "result": u.result,
                     "missing": _p(u.missing) if u.missing is not None else u.result,
                     "problems": "；".join(u.problems) or "—"} for n, u in enumerate(f.failing, start=1)],
        "losses": [{"n": n, "code": x.code, "title": x.title, "level": "镇(街道)" if x.level == "township" else "村(社区)",
                    "max": _p(x.max_points), "units": x.units_losing, "lost": _p(x.points_lost),
                    "rate": _p(x.score_rate)} for n, x in enumerate(f.losses, start=1)],
        "loss_count": f.all_losses,
        "deductions": [{"n": n, "code": d.code, "text": d.text, "units": d.units, "times": d.times}
                       for n, d in enumerate(f.deductions, start=1)],
        "inflated": [{"n": n, "name": x.name, "township": x.township, "self": _p(x.self_total),
                      "final": _p(x.final_total), "gap": _p(x.gap)} for n, x in enumerate(f.inflated, start=1)],
        "inflated_count": f.inflated_count, "compared": f.compared, "mean_gap": _p(f.mean_gap),
        "rectifications": [vars(r) for r in data.rectifications],
        "rectify_counts": [{"label": k, "count": v} for k, v in data.rectify_counts.items()],
        "rectify_total": sum(data.rectify_counts.values()),
        "interviews": [{"unit": t.unit, "held_on": t.held_on, "requirements": "；".join(t.requirements) or "—",
                        "status": t.status} for t in data.interviews],
        "practice": paragraphs(narratives.practice), "analysis": paragraphs(narratives.analysis),
        "advice": paragraphs(narratives.advice),
        "charts": charts,
    }


class TemplateBroken(Exception):
    """A template that cannot be rendered (its tags, its XML); the message says where when Jinja does."""


def generate(data: SummaryData, narratives: Narratives, template: bytes | None = None) -> bytes:
    """The 评估总结's .docx: `template` (the district's, else the default) rendered with the data and the
    narratives; its properties name the version and its SHA-256."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    tpl = DocxTemplate(io.BytesIO(template if template is not None else default_template()))
    try:
        tpl.render(context(tpl, data, narratives), jinja_env=SandboxedEnvironment(), autoescape=True)
    except TemplateError as exc:
        where = f"（第{exc.lineno}行附近）" if getattr(exc, "lineno", None) else ""
        raise TemplateBroken(f"{exc.message or exc}{where}") from exc
    except Exception as exc:  # noqa: BLE001 (an uploaded package or XML docxtpl cannot read: not usable)
        if template is None:
            raise  # the default template is this module's: a failure here is a bug, not the district's file
        raise TemplateBroken(str(exc) or type(exc).__name__) from exc
    props = tpl.docx.core_properties
    props.title = f"{data.issuer}关于{data.round_name}评估情况的报告"
    props.subject = f"{data.round_name} 第{data.version}版"
    props.keywords = f"SHA-256:{data.sha256}"
    props.comments = f"数据取自{data.round_name}第{data.version}版（公布于{data.published_at}），版本校验值SHA-256：{data.sha256}"
    props.author = data.issuer
    out = io.BytesIO()
    tpl.save(out)
    return _steady(out.getvalue())


def _steady(package: bytes) -> bytes:
    """The .docx package with every part stamped 1980-01-01 (zip's earliest) instead of the moment it was written:
    the same data, narratives and template give the same bytes whenever they are made (a job made again)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---------------------------------------------------------------- the default template (GB/T 9704)


def _fonts(target, latin: str, east_asia: str, size_pt: float | None = None, bold: bool | None = None,
           color: str | None = None) -> None:
    """A style's or run's fonts, the East-Asian one included (python-docx has no property for w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = target.font
    font.name = latin
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = RGBColor.from_string(color)
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _style(doc, name: str, east_asia: str, size: float, *, bold: bool = False, indent: bool = True,
           align=None, before: float = 0):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    _fonts(style, "Times New Roman" if east_asia == BODY_FONT else east_asia, east_asia, size, bold)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28.95)
    fmt.space_before, fmt.space_after = Pt(before), Pt(0)
    fmt.first_line_indent = Pt(2 * size) if indent else Pt(0)
    if align is not None:
        fmt.alignment = align
    return style


def _tag_row(table, text: str) -> None:
    row = table.add_row()
    row.cells[0].text = text


def _table(doc, head: list[str], cells: list[str], loop: str, widths_mm: list[float]):
    """A table whose middle row repeats (docxtpl's {%tr for %}): the header, the tag rows, 5号 仿宋 cells."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    table = doc.add_table(rows=1, cols=len(head))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head):
        cell.text = text
    _tag_row(table, "{%tr for r in " + loop + " %}")
    row = table.add_row()
    for cell, text in zip(row.cells, cells):
        cell.text = text
    _tag_row(table, "{%tr endfor %}")
    table.autofit = False
    for column, w in zip(table.columns, widths_mm):
        column.width = Mm(w)  # the grid LibreOffice and Word lay the table out by
    for r in table.rows:
        for cell, w in zip(r.cells, widths_mm):
            cell.width = Mm(w)
            for p in cell.paragraphs:
                p.style = doc.styles["表格"]
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row on every page the table runs onto
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for cell in table.rows[0].cells:
        for p in cell.paragraphs:
            for run in p.runs:
                run.bold = True
    return table


@lru_cache(maxsize=1)
def default_template() -> bytes:
    """The default template, built once per process (the district downloads it, edits it, uploads its own)."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28)
    assert section.start_type == WD_SECTION.NEW_PAGE
    normal = doc.styles["Normal"]
    _fonts(normal, "Times New Roman", BODY_FONT, 16)
    _style(doc, "正文", BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _style(doc, "标题", TITLE_FONT, 22, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, before=28.95)
    _style(doc, "一级标题", HEADING_FONT, 16)
    _style(doc, "二级标题", KAITI, 16)
    _style(doc, "三级标题", BODY_FONT, 16, bold=True)
    _style(doc, "顶格", BODY_FONT, 16, indent=False)
    _style(doc, "落款", BODY_FONT, 16, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(doc, "版头", TITLE_FONT, 26, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "附注", BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.LEFT)
    table_style = _style(doc, "表格", BODY_FONT, 10.5, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    table_style.paragraph_format.line_spacing = Pt(16)
    chart_style = _style(doc, "图", BODY_FONT, 16, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    chart_style.paragraph_format.line_spacing_rule = None  # an image's line grows to it
    chart_style.paragraph_format.line_spacing = 1.0

    def para(text: str, style: str = "正文"):
        return doc.add_paragraph(text, style=style)

    def caption(text: str):  # a table's title, kept on the page of the table's first rows
        para(text, "表格").paragraph_format.keep_with_next = True

    # 版头: the office's mark (red), then 发文字号 (left) and 签发人 (right) on one line, a red rule under it.
    head = para("{{ issuer }}文件", "版头")
    _fonts(head.runs[0], TITLE_FONT, TITLE_FONT, 26, color="C00000")
    numbers = para("{{ doc_number }}\t签发人：{{ signer }}", "顶格")
    numbers.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    numbers.paragraph_format.space_before = Pt(28.95)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    numbers._p.get_or_add_pPr().append(border)

    para("{{ issuer }}关于{{ round_name }}情况的报告", "标题")
    para("", "顶格")
    para("{{ recipient }}：", "顶格")
    para("根据工作安排，我局组织开展了{{ round_name }}（{{ rollout }}）。现将评估情况报告如下。")

    para("一、基本情况", "一级标题")
    para("本次评估为{{ year }}年度{{ rollout }}评估，实地评估时间为{{ inspection }}。评估范围共{{ units }}个单位，其中"
         "镇(街道){{ townships_in_scope }}个、村(社区){{ villages_in_scope }}个；组建评估工作组{{ team_count }}个。"
         "评估指标采用{% for c in catalogues %}{{ c }}{% if not loop.last %}，{% endif %}{% endfor %}，"
         "总分{{ threshold }}分以上（含）为合格。本报告数据取自{{ round_name }}第{{ version }}版公布结果"
         "（{{ published_at }}公布）。")
    para("（一）做法和成效", "二级标题")
    para("{%p for t in practice %}", "正文")
    para("{{ t }}")
    para("{%p endfor %}", "正文")

    para("二、评估结果", "一级标题")
    para("全区{{ total.units }}个单位中，合格{{ total.passed }}个，不合格{{ total.failed }}个，一票否决{{ total.vetoed }}个，"
         "未完成{{ total.incomplete }}个，合格率{{ total.pass_rate }}%，平均分{{ total.mean }}分。")
    para("（一）各镇(街道)评估结果", "二级标题")
    caption("表{{ tab.townships }}　各镇(街道)评估结果")
    tbl = _table(doc, ["镇(街道)", "单位数", "合格", "不合格", "一票否决", "未完成", "合格率(%)", "平均分"],
                 ["{{ r.name }}", "{{ r.units }}", "{{ r.passed }}", "{{ r.failed }}", "{{ r.vetoed }}",
                  "{{ r.incomplete }}", "{{ r.pass_rate }}", "{{ r.mean }}"], "townships",
                 [30, 16, 16, 18, 20, 18, 20, 18])
    row = tbl.add_row()
    for cell, text in zip(row.cells, ["合计", "{{ total.units }}", "{{ total.passed }}", "{{ total.failed }}",
                                      "{{ total.vetoed }}", "{{ total.incomplete }}", "{{ total.pass_rate }}",
                                      "{{ total.mean }}"]):
        cell.text = text
        cell.paragraphs[0].style = doc.styles["表格"]
    para("{%p if charts.pass_rate %}", "图")
    para("{{ charts.pass_rate }}", "图")
    para("{%p endif %}", "图")
    para("（二）不合格单位", "二级标题")
    para("{%p if failing %}", "正文")
    para("未达到合格的单位共{{ failing|length }}个，名单及主要问题如下。")
    caption("表{{ tab.failing }}　不合格单位及主要问题")
    _table(doc, ["序号", "单位", "所属镇(街道)", "得分", "距合格线", "主要问题"],
           ["{{ r.n }}", "{{ r.name }}", "{{ r.township }}", "{{ r.total }}", "{{ r.missing }}", "{{ r.problems }}"],
           "failing", [12, 26, 24, 16, 20, 58])
    para("{%p else %}", "正文")
    para("本次评估所有单位均达到合格。")
    para("{%p endif %}", "正文")

    # 与上一轮评估比较: only where an earlier round has a published version (services.history.compare_versions);
    # the sections after it are numbered by `no`, the tables by `tab`.
    para("{%p if comparison %}", "正文")
    para("{{ no.compare }}、与上一轮评估比较", "一级标题")
    para("本节将本轮评估（{{ comparison.after }}）与上一轮评估（{{ comparison.before }}）的公布结果进行比较"
         "（{{ comparison.label }}）。两轮均参评且均有得分的{{ comparison.total.n }}个单位同口径比较（同一单位按单位沿革认定，"
         "编码变更的单位视为同一单位）{% if comparison.only_before or comparison.only_after %}，上一轮另有"
         "{{ comparison.only_before }}个单位、本轮另有{{ comparison.only_after }}个单位未纳入比较{% endif %}。"
         "同口径合格率由{{ comparison.total.rate_before }}%变为{{ comparison.total.rate_after }}%"
         "（{{ comparison.total.rate_trend }}），平均分由{{ comparison.total.mean_before }}分变为"
         "{{ comparison.total.mean_after }}分（{{ comparison.total.mean_trend }}）。")
    para("（一）各镇(街道)同口径比较", "二级标题")
    caption("表{{ tab.compare }}　各镇(街道)与上一轮比较（{{ comparison.label }}）")
    cmp_table = _table(doc, ["镇(街道)", "层级", "比较单位数", "上一轮合格率(%)", "本轮合格率(%)", "合格率变化",
                             "上一轮平均分", "本轮平均分", "平均分变化"],
                       ["{{ r.township }}", "{{ r.level }}", "{{ r.n }}", "{{ r.rate_before }}", "{{ r.rate_after }}",
                        "{{ r.rate_change }}", "{{ r.mean_before }}", "{{ r.mean_after }}", "{{ r.mean_change }}"],
                       "comparison.townships", [22, 20, 14, 17, 17, 15, 17, 17, 17])
    row = cmp_table.add_row()
    for cell, text in zip(row.cells, ["合计", "", "{{ comparison.total.n }}", "{{ comparison.total.rate_before }}",
                                      "{{ comparison.total.rate_after }}", "{{ comparison.total.rate_change }}",
                                      "{{ comparison.total.mean_before }}", "{{ comparison.total.mean_after }}",
                                      "{{ comparison.total.mean_change }}"]):
        cell.text = text
        cell.paragraphs[0].style = doc.styles["表格"]
    para("（二）失分较多指标的变化", "二级标题")
    para("{%p if comparison.lost %}", "正文")
    para("本轮失分单位数最多的{{ comparison.lost|length }}项指标，及其在上一轮对应指标（按指标沿革，仅“相同”或“更名”的"
         "指标可比；新增、拆分、合并的指标无对应）的失分单位数如下。")
    caption("表{{ tab.compare_lost }}　失分较多指标与上一轮比较")
    _table(doc, ["序号", "层级", "本轮指标", "本轮失分单位数", "本轮评分单位数", "本轮合计失分", "上一轮指标",
                 "上一轮失分单位数", "上一轮评分单位数"],
           ["{{ r.n }}", "{{ r.level }}", "{{ r.code }} {{ r.title }}", "{{ r.units }}", "{{ r.scored }}",
            "{{ r.lost }}", "{{ r.before_code }}", "{{ r.before_units }}", "{{ r.before_scored }}"],
           "comparison.lost", [10, 19, 37, 15, 15, 15, 15, 15, 15])
    para("{%p else %}", "正文")
    para("本轮各项指标均未失分。")
    para("{%p endif %}", "正文")
    para("{%p endif %}", "正文")

    para("{{ no.problems }}、存在的问题", "一级标题")
    para("（一）失分较多的指标", "二级标题")
    para("{%p if losses %}", "正文")
    para("共有{{ loss_count }}项指标出现失分，失分最多的{{ losses|length }}项如下。")
    caption("表{{ tab.losses }}　失分较多的指标")
    _table(doc, ["序号", "层级", "指标", "满分", "失分单位数", "合计失分", "得分率(%)"],
           ["{{ r.n }}", "{{ r.level }}", "{{ r.code }} {{ r.title }}", "{{ r.max }}", "{{ r.units }}",
            "{{ r.lost }}", "{{ r.rate }}"], "losses", [12, 20, 50, 14, 20, 20, 20])
    para("{{ charts.losses }}", "图")
    para("{%p else %}", "正文")
    para("各项指标均未失分。")
    para("{%p endif %}", "正文")
    para("（二）常见扣分情形", "二级标题")
    para("{%p if deductions %}", "正文")
    para("{%p for d in deductions %}", "正文")
    para("{{ d.n }}.{{ d.text }}（{{ d.code }}）：涉及{{ d.units }}个单位，共扣分{{ d.times }}次。")
    para("{%p endfor %}", "正文")
    para("{%p else %}", "正文")
    para("本版本未记录扣分细则。")
    para("{%p endif %}", "正文")
    para("（三）自评虚高", "二级标题")
    para("自评得分与评估得分均有的{{ compared }}个单位中，自评得分减评估得分平均为{{ mean_gap }}分，"
         "自评得分高出评估得分超过允许误差的{{ inflated_count }}个。{% if inflated %}自评高出较多的单位如下。{% endif %}")
    para("{%p if inflated %}", "正文")
    caption("表{{ tab.inflated }}　自评虚高（自评得分－评估得分）")
    _table(doc, ["序号", "单位", "所属镇(街道)", "自评得分", "评估得分", "差值"],
           ["{{ r.n }}", "{{ r.name }}", "{{ r.township }}", "{{ r.self }}", "{{ r.final }}", "{{ r.gap }}"],
           "inflated", [12, 36, 36, 24, 24, 24])
    para("{%p endif %}", "正文")
    para("（四）问题分析", "二级标题")
    para("{%p for t in analysis %}", "正文")
    para("{{ t }}")
    para("{%p endfor %}", "正文")

    para("{{ no.next }}、整改要求及下一步", "一级标题")
    para("（一）整改落实情况", "二级标题")
    para("{%p if rectify_total %}", "正文")
    para("对未达到合格的单位已下达整改通知{{ rectify_total }}份，其中"
         "{% for c in rectify_counts %}{{ c.label }}{{ c.count }}份{% if not loop.last %}，{% endif %}{% endfor %}。")
    caption("表{{ tab.rectify }}　整改落实情况")
    _table(doc, ["单位", "所属镇(街道)", "整改通知文号", "完成期限", "整改状态", "复查结果"],
           ["{{ r.unit }}", "{{ r.township }}", "{{ r.number }}", "{{ r.complete_due }}", "{{ r.status }}",
            "{{ r.recheck }}"], "rectifications", [26, 26, 38, 24, 22, 20])
    para("{%p else %}", "正文")
    para("本批次尚未下达整改通知。")
    para("{%p endif %}", "正文")
    para("{%p for t in interviews %}", "正文")
    para("{{ loop.index }}.{{ t.held_on }}约谈{{ t.unit }}，提出要求：{{ t.requirements }}（{{ t.status }}）。")
    para("{%p endfor %}", "正文")
    para("（二）下一步工作建议", "二级标题")
    para("{%p for t in advice %}", "正文")
    para("{{ t }}")
    para("{%p endfor %}", "正文")
    # 特此报告, the issuing office and the date kept on one page (never a date alone at the top of the next).
    for kept in (para("特此报告。"), para("", "顶格"), para("{{ issuer }}", "落款")):
        kept.paragraph_format.keep_with_next = True
    para("{{ date }}", "落款")
    para("（本报告数据取自{{ round_name }}第{{ version }}版，版本校验值SHA-256：{{ sha256 }}"
         "{% if comparison %}；比较所用上一轮数据取自{{ comparison.before }}，版本校验值SHA-256："
         "{{ comparison.before_sha256 }}{% endif %}）", "附注")

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page_number(paragraph) -> None:
    """— 1 — in 4号 (14 pt) 宋体, as GB/T 9704 numbers pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run(text=None, field_char=None, instr=None):
        r = paragraph.add_run(text or "")
        _fonts(r, "宋体", "宋体", 14)
        if field_char:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), field_char)
            r._r.append(el)
        if instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)

    run("— ")
    run(field_char="begin")
    run(instr=" PAGE ")
    run(field_char="end")
    run(" —")


# ---------------------------------------------------------------- sample data (a template is tried with it)


def sample() -> tuple[SummaryData, Narratives]:
    """Data of the right shape to try an uploaded template with before it is kept."""
    from ..domain.summary import Deduction, FailingUnit, IndicatorLoss, Inflation, TownshipLine

    line = TownshipLine("示例镇", 3, 2, 1, 0, 0, Decimal("66.67"), Decimal("95.50"))
    fig = Figures({"township": 1, "village": 2}, [line], line,
                  [FailingUnit("示例村", "village", "示例镇", Decimal("90.00"), "不合格", Decimal("5.00"), ("示例（失5.00分）",))],
                  [IndicatorLoss("village", "A1", "示例指标", Decimal("10.00"), 1, Decimal("5.00"), Decimal("83.33"))],
                  [Deduction("A1-1", "示例扣分", 1, 1)],
                  [Inflation("示例村", "示例镇", Decimal("99.00"), Decimal("90.00"), Decimal("9.00"))], 1, 3,
                  Decimal("3.00"), 1)
    data = SummaryData("示例区民政局", "市民政局", "示例民发〔2026〕1号", "示例", "2026年1月1日", "示例评估", 2026, "试点", 1,
                       "0" * 64, "2026年1月1日", "2026年1月1日至2026年1月2日", ("第一工作组",), ("示例指标第1版",),
                       Decimal("95.00"), fig, (Rectify("示例村", "示例镇", "示例民发〔2026〕2号", "2026年2月1日", "已下达", "—"),),
                       {"已下达": 1}, (Talk("示例村", "2026年1月5日", ("示例要求",), "已约谈"),))
    before = CompareLine("示例镇", "village", 2, Decimal("50.00"), Decimal("100.00"), Decimal("50.00"), Decimal("90.00"),
                         Decimal("96.00"), Decimal("6.00"))
    data = dataclasses.replace(data, comparison=Compare(
        "2025 第1版 vs 2026 第1版", "示例评估（2025）第1版", "示例评估第1版", "0" * 64, (before,), before, 0, 1,
        (CompareLost("village", "A1", "示例指标", 1, 2, Decimal("5.00"), "A1", 2, 2),)))
    return data, Narratives("示例做法", "示例分析", "示例建议")
