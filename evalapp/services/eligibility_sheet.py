"""Finance's 奖补资格表 (汇总, 明细, 变更, 说明) as xlsx: layout only, from a round's read model
(services.readmodel.RoundResults, built with extras and changes); services.downloads builds the model, audits and
sends it."""
import hashlib
import io
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo


from ..domain.numbers import plain_number
from ..domain.subsidy import RECTIFIED, fen_to_yuan
from ..domain.vocabulary import Result, UnitLevel
from ..models import Publication, User
from .export import district_name
from .readmodel import EligibilityLine, RoundResults
from .subsidy import describe_rectified, describe_rule
from .xlsx import PAPER_LAYOUT_LABEL, REACHED, new_workbook, paper_fonts, text_lines, write_row, write_sum, write_text

ISSUER = "区委组织部　区民政局"  # the offices that issue the sheet (DESIGN: the district's working group)
TITLE_ROWS = 3  # title, issuing office and date with 单位：元, the 正式/草稿 line; the header row comes next


def chinese_date(moment: datetime) -> str:
    """A date as an official document writes it: 2021年12月20日."""
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _draft_banner(last: Publication | None) -> str:
    if last is not None:
        return f"草稿 — 第{last.version}版公布后的改动，尚未重新公布；不作为拨付依据"
    return "草稿 — 未公布，仅供核对，不作为拨付依据"


class _PaperFormats:
    """The formats of the title rows and the signature block (one set per workbook)."""

    def __init__(self, wb):
        self.title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.left = wb.add_format({"valign": "vcenter", "text_wrap": True})
        self.right = wb.add_format({"align": "right", "valign": "vcenter"})
        self.official = wb.add_format({"valign": "vcenter", "text_wrap": True})  # 11 pt: ≥ 9 pt once fitted
        self.draft = wb.add_format({"bold": True, "font_size": 14, "font_color": "#C00000", "align": "center",
                                    "valign": "vcenter", "border": 2, "border_color": "#C00000",
                                    "bg_color": "#FFF2CC", "text_wrap": True})
        self.sign = wb.add_format({"valign": "bottom"})
        self.seal = wb.add_format({"align": "center", "valign": "vcenter", "border": 1, "text_wrap": True,
                                   "font_color": "#7F7F7F"})
        self.bold = wb.add_format({"bold": True})
        self.money = wb.add_format({"num_format": "#,##0.00"})
        self.money_bold = wb.add_format({"num_format": "#,##0.00", "bold": True})
        self.points = wb.add_format({"num_format": "0.00"})
        self.text = wb.add_format({"num_format": "@"})


def _title_rows(ws, widths: list[float], title: str, issued: str, status_line: str, draft: bool,
                f: _PaperFormats) -> int:
    """The rows above a sheet's header: its title, the issuing office and date with 单位：元, and the 正式 line (version
    and checksum) or a 草稿 banner seen in the normal view, not only in print; each as high as its text needs in
    the sheet's width (`widths`: the columns'). Returns the header's row."""
    last = len(widths) - 1
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, last, title, f.title)
    ws.set_row(1, 15 * text_lines(issued, sum(widths[:last])))
    ws.merge_range(1, 0, 1, last - 1, issued, f.left)
    ws.write_string(1, last, "单位：元", f.right)
    lines = text_lines(status_line, sum(widths) * 0.8 if draft else sum(widths))  # (14 pt bold; 11 pt)
    ws.set_row(2, (24 if draft else 15) * lines)
    ws.merge_range(2, 0, 2, last, status_line, f.draft if draft else f.official)
    return TITLE_ROWS


def _signature_rows(ws, row: int, f: _PaperFormats, spans=((0, 4), (5, 10), (11, 13)), seals=((9, 11), (12, 13)),
                    signers=None) -> int:
    """制表人 / 审核人 / 负责人 with date lines, then a seal box for each issuing office, under a sheet's table
    (column spans: the 明细's by default). Returns the last row written."""
    ws.set_row(row, 30)
    for (a, b), who in zip(spans, signers or SIGNERS):
        text = sign_line(who)
        if a == b:
            ws.write_string(row, a, text, f.sign)
        else:
            ws.merge_range(row, a, row, b, text, f.sign)
    row += 2
    ws.set_row(row, 80)  # room for a round seal (about 42 mm)
    for (a, b), office in zip(seals, ("区委组织部\n（盖章）", "区民政局\n（盖章）")):
        if a == b:
            ws.write_string(row, a, office, f.seal)
        else:
            ws.merge_range(row, a, row, b, office, f.seal)
    return row


SIGNERS = ("制表人", "审核人", "负责人")


def sign_line(who: str) -> str:
    """制表人（签字）：＿＿＿＿＿＿　＿＿年＿＿月＿＿日 — short enough for a third of a sheet's width."""
    return f"{who}（签字）：＿＿＿＿＿＿　＿＿年＿＿月＿＿日"


DETAIL_HEAD = ["序号", "单位编码", "单位名称", "层级", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次",
               "是否符合奖补条件", "奖补方式/档次", "奖补金额(元)", "备注"]
AMOUNT_COL = DETAIL_HEAD.index("奖补金额(元)")
# Widths (Arial 11 digits, 8 px; a Chinese character takes about two) so that every header fits its column in two
# lines and the 明细, fitted to the width of a landscape A4 page with 9-mm side margins (1,055 px at 100 %: 146
# columns of 8 px and 14 of padding take 1,238), prints at 82 % or more: its 11-pt cells at 9 pt or more (issue 30,
# point 3). A 12-digit code, 镇(街道), 已达合格线 and 1,000,000.00 fit their columns; long texts wrap, rows grow to them.
DETAIL_WIDTHS = [4, 14, 12, 9, 11, 8, 8, 10, 11, 5, 10, 16, 14, 14]
SUMMARY_WIDTHS = [22, 14, 14, 14, 22]
SIDE_MARGIN = 0.35  # inches
CHANGE_HEAD = ["序号", "单位编码", "单位名称", "所属镇(街道)", "原得分", "新得分", "原结果", "新结果", "原金额(元)", "新金额(元)",
               "追加(元)", "收回(元)", "解锁理由"]
CHANGE_WIDTHS = [4, 14, 12, 11, 8, 8, 10, 10, 12, 12, 12, 12, 25]


def _remark(line: EligibilityLine, vetoes: dict[str, str]) -> str:
    parts = [vetoes[line.row.unit.code]] if line.row.unit.code in vetoes else []
    if line.award.note:
        parts.append(line.award.note)
    return "；".join(parts)


class DetailRow(NamedTuple):
    """A line of the 明细, column by column (DETAIL_HEAD's order; the 明细SHA-256 is taken over them in this order)."""

    n: int
    code: str
    name: str
    level: str
    township: str
    self_total: float | None
    final_total: float | None
    result: str
    missing: float | str | None  # 一票否决 where the points missing would be
    rank: int | None
    eligible: str
    basis: str
    amount_fen: int
    remark: str


def _eligible(unit, rule, rectified: bool = False) -> str:
    """是否符合奖补条件: 是 only where money can follow — never 是 beside a rule left unset (issue 29); a unit that
    passed its 复查 says so (the 整改后通过 sheet gives the rule applied)."""
    if unit.result.value != "pass":
        return RECTIFIED if rectified and rule is not None and rule.mode != "none" else "否"
    if rule is None:
        return "合格，未设奖补规则"
    return "合格，不设奖补" if rule.mode == "none" else "是"


def _local_minute(iso: str, tz) -> str:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).strftime(
        "%Y-%m-%d %H:%M")


RECTIFIED_HEAD = ["序号", "单位编码", "单位名称", "层级", "所属镇(街道)", "评估得分", "复查得分", "复查记录时间",
                  "合格应得金额(元)", "拨付规则", "本次拨付(元)", "暂缓/结余(元)"]
RECTIFIED_WIDTHS = [4, 14, 12, 9, 11, 8, 8, 12, 14, 24, 14, 14]


def _rectified_sheet(wb, data: RoundResults, setup, round_name: str, issued: str, status_line: str, paper, tz,
                     f: dict) -> None:
    """The 整改后通过 section (issue 32, point 6): the units that passed their 复查 before this version (or, in a
    草稿, so far), each with what it would have had as 合格, the rule applied, what it gets and what is withheld —
    暂缓 until it passes, or in pool mode 结余, not shared out again. Only when there are such units."""
    lines = [line for line in data.lines if line.row.unit.code in data.extras.rectified]
    if not lines:
        return
    ws = wb.add_worksheet(RECTIFIED)
    setup(ws, RECTIFIED_WIDTHS, head_row=TITLE_ROWS)
    top = _title_rows(ws, RECTIFIED_WIDTHS, f"{round_name}奖补资金资格表（整改后通过单位）", issued, status_line,
                      not data.final, paper)
    write_row(ws, top, RECTIFIED_HEAD, f["head"])
    ws.set_row(top, 30)
    ws.freeze_panes(top + 1, 0)
    for i, line in enumerate(lines, start=top + 1):
        u, award = line.row.unit, line.award
        info = data.extras.rectified[u.code]
        rule = data.rules.get(u.level)
        applied = describe_rectified(rule)
        if rule is not None and rule.mode == "pool" and award.withheld_fen:
            applied += "（未拨付部分为结余）"
        if text_lines(applied, RECTIFIED_WIDTHS[9] - 2) > 1:
            ws.set_row(i, 15 * text_lines(applied, RECTIFIED_WIDTHS[9] - 2))
        ws.write_number(i, 0, i - top, f["count"])
        ws.write_string(i, 1, u.code, f["text"])
        write_text(ws, i, 2, u.name, f["cell"])
        ws.write_string(i, 3, UnitLevel.zh_of(u.level), f["count"])
        write_text(ws, i, 4, line.row.township_name, f["cell"])
        if u.final_total is None:
            ws.write_blank(i, 5, None, f["points"])
        else:
            ws.write_number(i, 5, float(u.final_total), f["points"])
        if info.get("total") is None:
            ws.write_blank(i, 6, None, f["points"])
        else:
            ws.write_number(i, 6, float(info["total"]), f["points"])
        ws.write_string(i, 7, _local_minute(info["recorded_at"], tz), f["cell"])
        ws.write_number(i, 8, (award.amount_fen + award.withheld_fen) / 100, f["money"])
        write_text(ws, i, 9, applied, f["cell"])
        ws.write_number(i, 10, award.amount_fen / 100, f["money"])
        ws.write_number(i, 11, award.withheld_fen / 100, f["money"])
    last = top + len(lines) + 1
    ws.merge_range(last, 0, last, 1, "合计", f["bold"])
    for col in range(2, len(RECTIFIED_HEAD)):
        if col in (8, 10, 11):
            total = sum((l.award.amount_fen + l.award.withheld_fen) if col == 8 else
                        l.award.amount_fen if col == 10 else l.award.withheld_fen for l in lines)
            write_sum(ws, last, col, top + 1, last - 1, f["money_bold"], total / 100)
        else:
            ws.write_blank(last, col, None, f["bold"])
    pools = [level for level in ("township", "village")
             if (data.rules.get(level) is not None and data.rules[level].mode == "pool"
                 and any(l.row.unit.level == level for l in lines))]
    if pools:  # 结余: what the pool keeps, shown, never redistributed
        kept = sum(l.award.withheld_fen for l in lines if l.row.unit.level in pools)
        ws.merge_range(last + 1, 0, last + 1, len(RECTIFIED_HEAD) - 1,
                       f"资金池结余（整改后通过单位未拨付部分，不再分配）：{fen_to_yuan(kept)} 元", f["bold"])
        last += 1
    _signature_rows(ws, last + 2, paper, spans=((0, 4), (5, 8), (9, 11)), seals=((6, 8), (10, 11)))


def eligibility_workbook(data: RoundResults, user: User, now: datetime) -> tuple[io.BytesIO, str, str]:
    """The 奖补资格表 of a round's read model (built with extras and changes); returns (file, name, SHA-256 of the
    detail rows).

    正式: a published version, read from its snapshot only — two downloads of one version are the same bytes (every
    date and name in the file is the version's). 草稿: the data as it stands at `now`, marked so on every sheet."""
    round_ = data.round
    pub = data.publication
    vetoes = {code: "一票否决：" + "；".join(f"{t}（{d}）" for t, d in found)
              for code, found in data.vetoes.items()}
    vetoes = {line.row.unit.code: vetoes[line.row.unit.code] for line in data.lines
              if line.row.unit.result.value != "pass" and line.row.unit.code in vetoes}
    status = "正式" if data.final else "草稿"
    round_label = (pub.round_name if pub is not None else round_.name).replace("&", "&&")  # (& is a header code)
    # Every printed page names the round, and a 草稿 says so in the middle; a 正式 page gives its version.
    header = (f"&L{round_label} 奖补资金资格表&R正式 第{pub.version}版" if pub is not None
              else f"&L{round_label} 奖补资金资格表&C草稿 — 未公布")
    detail_rows = []
    for n, line in enumerate(data.lines, start=1):
        u = line.row.unit
        detail_rows.append(DetailRow(
            n=n, code=u.code, name=u.name, level=UnitLevel.zh_of(u.level), township=line.row.township_name,
            self_total=None if u.self_total is None else float(u.self_total),
            final_total=None if u.final_total is None else float(u.final_total),
            result=Result.zh_of(u.result.value),
            missing="一票否决" if u.vetoed else None if u.missing is None else float(u.missing), rank=u.rank,
            eligible=_eligible(u, data.rules.get(u.level), u.code in data.extras.rectified), basis=line.award.basis,
            amount_fen=line.award.amount_fen, remark=_remark(line, vetoes)))
    digest = hashlib.sha256("\n".join("|".join("" if v is None else str(v) for v in r)
                                      for r in detail_rows).encode("utf-8")).hexdigest()
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    paper_fonts(wb)
    tz = ZoneInfo("Asia/Shanghai")
    now = pub.published_at if pub is not None else now
    round_name = pub.round_name if pub is not None else round_.name
    wb.set_properties({"title": f"{round_name} 奖补资金资格表（{status}）", "created": now.astimezone(tz).replace(tzinfo=None),
                       "author": pub.published_by_name if pub is not None else user.display_name})
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "vcenter",
                          "align": "center"})
    # Padded (indent 1): a right-aligned number never touches the left-aligned text beside it (1│430603001,
    # 96.50│合格); counts and ranks centred.
    pad_right = {"border": 1, "valign": "vcenter", "align": "right", "indent": 1}
    pad_left = {"border": 1, "valign": "vcenter", "align": "left", "indent": 1}
    money = wb.add_format({"num_format": "#,##0.00", **pad_right})
    money_bold = wb.add_format({"num_format": "#,##0.00", "bold": True, **pad_right})
    points = wb.add_format({"num_format": "0.00", **pad_right})
    text_fmt = wb.add_format({"num_format": "@", "border": 1, "valign": "vcenter"})  # (a code: 序号 is centred)
    cell = wb.add_format({"text_wrap": True, **pad_left})
    count = wb.add_format({"border": 1, "valign": "vcenter", "align": "center"})
    wrapped = cell
    bold_plain = wb.add_format({"bold": True, **pad_left})
    paper = _PaperFormats(wb)
    status_line = (f"正式 — 第{pub.version}版，公布于{pub.published_at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}（北京时间），"
                   f"版本校验值SHA-256：{pub.sha256}" if pub is not None else _draft_banner(data.last_publication))
    issued = f"编制单位：{ISSUER}　　日期：{chinese_date(now.astimezone(tz))}"

    def setup(ws, widths, landscape=True, head_row=0):
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN)
        ws.fit_to_pages(1, 0)  # as wide as the page, as many pages long as the rows need
        ws.repeat_rows(head_row)
        ws.set_header(header)
        ws.set_footer("&C第 &P 页，共 &N 页")

    summary = wb.add_worksheet("汇总")
    setup(summary, SUMMARY_WIDTHS, head_row=TITLE_ROWS)
    top = _title_rows(summary, SUMMARY_WIDTHS, f"{round_name}奖补资金资格表（汇总）", issued, status_line,
                      not data.final, paper)
    write_row(summary, top, ["所属镇(街道)", "层级", "参评单位", "合格单位", "奖补金额(元)"], bold)
    summary.freeze_panes(top + 1, 0)
    r = top
    for r, g in enumerate(data.by_township, start=top + 1):
        write_text(summary, r, 0, g["township"], cell)
        summary.write_string(r, 1, UnitLevel.zh_of(g["level"]), cell)
        summary.write_number(r, 2, g["in_scope"], count)
        summary.write_number(r, 3, g["passed"], count)
        summary.write_number(r, 4, g["amount_fen"] / 100, money)
    total_row = r + 1
    summary.write_string(total_row, 0, "合计", bold_plain)
    summary.write_blank(total_row, 1, None, bold_plain)
    count_bold = wb.add_format({"bold": True, "border": 1, "valign": "vcenter", "align": "center"})
    write_sum(summary, total_row, 2, top + 1, total_row - 1, count_bold, sum(g["in_scope"] for g in data.by_township))
    write_sum(summary, total_row, 3, top + 1, total_row - 1, count_bold, sum(g["passed"] for g in data.by_township))
    write_sum(summary, total_row, 4, top + 1, total_row - 1, money_bold, data.total_fen / 100)
    summary.autofilter(top, 0, max(total_row - 1, top + 1), 4)
    # The 汇总 is signed and sealed as the 明细 is: 制表人 and 审核人 on lines of their own, the offices' seals.
    row = total_row + 2
    for who in SIGNERS[:2]:
        summary.set_row(row, 30)
        summary.merge_range(row, 0, row, 4, sign_line(who), paper.sign)
        row += 1
    summary.set_row(row + 1, 80)
    summary.merge_range(row + 1, 0, row + 1, 1, "区委组织部\n（盖章）", paper.seal)
    summary.merge_range(row + 1, 3, row + 1, 4, "区民政局\n（盖章）", paper.seal)

    detail = wb.add_worksheet("明细")
    setup(detail, DETAIL_WIDTHS, head_row=TITLE_ROWS)
    top = _title_rows(detail, DETAIL_WIDTHS, f"{round_name}奖补资金资格表", issued, status_line, not data.final,
                      paper)
    write_row(detail, top, DETAIL_HEAD, bold)
    detail.set_row(top, 30)  # two lines: every header fits its column in two (DETAIL_WIDTHS)
    detail.freeze_panes(top + 1, 0)
    wrapping = ((2, "name"), (4, "township"), (7, "result"), (10, "eligible"), (11, "basis"), (13, "remark"))
    for i, row in enumerate(detail_rows, start=top + 1):
        lines = max(text_lines(getattr(row, field), DETAIL_WIDTHS[col] - 2) for col, field in wrapping)
        if lines > 1:  # an office suite does not grow a row to its wrapped text by itself (LibreOffice, on load)
            detail.set_row(i, 15 * lines)
        detail.write_number(i, 0, row.n, count)
        detail.write_string(i, 1, row.code, text_fmt)
        write_text(detail, i, 2, row.name, cell)
        detail.write_string(i, 3, row.level, count)
        write_text(detail, i, 4, row.township, cell)
        for col, value in ((5, row.self_total), (6, row.final_total)):
            if value is None:
                detail.write_blank(i, col, None, points)
            else:
                detail.write_number(i, col, value, points)
        detail.write_string(i, 7, row.result, cell)
        if isinstance(row.missing, str):  # 一票否决 where the points missing would be
            detail.write_string(i, 8, row.missing, cell)
        elif row.missing is None:
            detail.write_blank(i, 8, None, points)
        elif row.missing == 0:  # at or above the line: said, not 0.00 (issue 30, point 5)
            detail.write_string(i, 8, REACHED, cell)
        else:
            detail.write_number(i, 8, row.missing, points)
        if row.rank is None:
            detail.write_blank(i, 9, None, cell)
        else:
            detail.write_number(i, 9, row.rank, count)
        detail.write_string(i, 10, row.eligible, cell)
        write_text(detail, i, 11, row.basis, wrapped)
        detail.write_number(i, 12, row.amount_fen / 100, money)
        write_text(detail, i, 13, row.remark, wrapped)
    last = top + len(detail_rows) + 1  # the 合计 row (0-based); its lines are rows top + 1 … last - 1
    detail.merge_range(last, 0, last, 1, "合计", bold_plain)  # (序号's column alone is too narrow for it)
    for col in range(2, len(DETAIL_HEAD)):
        if col == AMOUNT_COL:
            write_sum(detail, last, AMOUNT_COL, top + 1, last - 1, money_bold, data.total_fen / 100)
        else:
            detail.write_blank(last, col, None, bold_plain)
    detail.autofilter(top, 0, max(last - 1, top + 1), len(DETAIL_HEAD) - 1)
    _signature_rows(detail, last + 2, paper)

    _rectified_sheet(wb, data, setup, round_name, issued, status_line, paper, tz,
                     {"head": bold, "cell": cell, "count": count, "text": text_fmt, "points": points, "money": money,
                      "money_bold": money_bold, "bold": bold_plain})

    # 变更: what this version changed against the one before (or, in a 草稿 while sheets are unlocked, what
    # republication would change against the last version) — amounts of an earlier version may be paid already.
    changed, between = data.changes if data.changes is not None else (None, "")
    if changed is not None:
        # A form like the 明细: title rows, a bordered table whose reasons wrap, the sign-off and seals.
        ws = wb.add_worksheet("变更")
        setup(ws, CHANGE_WIDTHS, head_row=TITLE_ROWS)
        top = _title_rows(ws, CHANGE_WIDTHS, f"{round_name}奖补资金变更明细", issued, status_line, not data.final,
                          paper)
        write_row(ws, top, CHANGE_HEAD[:-1] + [f"解锁理由（{between}）"], bold)
        ws.set_row(top, 30)
        ws.freeze_panes(top + 1, 0)
        for i, c in enumerate(changed, start=top + 1):
            reasons = "；".join(f"{reason}（{who}，{at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}）"
                                for who, reason, at in c.unlocks)
            if c.new_rectified != c.old_rectified:  # what rectification changed (issue 32, point 6)
                moved = (f"复查结论：{RECTIFIED}（复查记录于{_local_minute(c.new_rectified, tz)}）" if c.new_rectified
                         else "复查结论：不再计为整改后通过")
                reasons = "；".join(part for part in (moved, reasons) if part)
            lines = max(text_lines(reasons, CHANGE_WIDTHS[12] - 2), text_lines(c.name, CHANGE_WIDTHS[2] - 2),
                        text_lines(c.township_name, CHANGE_WIDTHS[3] - 2))
            if lines > 1:
                ws.set_row(i, 15 * lines)
            ws.write_number(i, 0, i - top, count)
            ws.write_string(i, 1, c.code, text_fmt)
            write_text(ws, i, 2, c.name, cell)
            write_text(ws, i, 3, c.township_name, cell)
            for col, value in ((4, c.old_total), (5, c.new_total)):
                if value is None:
                    ws.write_blank(i, col, None, points)
                else:
                    ws.write_number(i, col, float(value), points)
            ws.write_string(i, 6, Result.zh_of(c.old_result) if c.old_result else "—", cell)
            ws.write_string(i, 7, Result.zh_of(c.new_result) if c.new_result else "—", cell)
            ws.write_number(i, 8, c.old_fen / 100, money)
            ws.write_number(i, 9, c.new_fen / 100, money)
            ws.write_number(i, 10, max(c.delta_fen, 0) / 100, money)
            ws.write_number(i, 11, max(-c.delta_fen, 0) / 100, money)
            write_text(ws, i, 12, reasons, cell)
        last_change = top + len(changed) + 1
        if changed:
            ws.merge_range(last_change, 0, last_change, 1, "合计", bold_plain)
            for col in range(2, len(CHANGE_HEAD)):
                if col in (10, 11):
                    write_sum(ws, last_change, col, top + 1, last_change - 1, money_bold,
                              sum(max(c.delta_fen if col == 10 else -c.delta_fen, 0) for c in changed) / 100)
                else:
                    ws.write_blank(last_change, col, None, bold_plain)
        else:  # nothing changed (a 草稿 without pending changes, a republication that changed no unit)
            ws.merge_range(last_change, 0, last_change, len(CHANGE_HEAD) - 1, "无变更", bold_plain)
        _signature_rows(ws, last_change + 2, paper, spans=((0, 4), (5, 9), (10, 12)), seals=((7, 9), (11, 12)))

    notes = wb.add_worksheet("说明")
    setup(notes, [18, 90], landscape=False)
    local = lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S（北京时间）")  # noqa: E731
    threshold = plain_number(data.threshold)
    info = [
        ("批次", round_name),
        ("编制单位", ISSUER),
        ("合格标准", f"总分{threshold}分以上(含{threshold}分)为合格；一票否决者不合格；未完成评估者不计为合格"),
        ("镇(街道)奖补规则", describe_rule(data.rules["township"])),
        ("村(社区)奖补规则", describe_rule(data.rules["village"])),
    ] + ([
        ("整改后通过单位", f"镇(街道)：{describe_rectified(data.rules['township'])}；"
                      f"村(社区)：{describe_rectified(data.rules['village'])}（见“{RECTIFIED}”表）"),
    ] if data.extras.rectified else []) + [
        ("奖补总额(元)", fen_to_yuan(data.total_fen)),
        ("版式", PAPER_LAYOUT_LABEL),
    ]
    if pub is not None:
        info += [
            ("公布版本", f"第{pub.version}版"),
            ("公布时间", local(pub.published_at)),
            ("公布人", pub.published_by_name),
            ("数据截止时间", local(pub.published_at)),
            ("版本校验值SHA-256", pub.sha256),
            ("明细SHA-256", digest),
            ("状态", f"正式（第{pub.version}版）"),
        ]
    else:
        last = data.last_publication
        info += [
            ("生成时间", local(now)),
            ("生成人", user.display_name),
            ("数据截止时间", local(now)),
            ("明细SHA-256", digest),
            ("状态", f"草稿 — 第{last.version}版公布后的改动，尚未重新公布" if last is not None else "草稿 — 未公布"),
        ]
    write_row(notes, 0, ["项目", "内容"], bold)
    for i, (k, v) in enumerate(info, start=1):
        write_text(notes, i, 0, k)
        write_text(notes, i, 1, v)
    wb.close()
    buffer.seek(0)
    name = (f"{district_name()}_{round_name}_奖补资格表_正式_第{pub.version}版.xlsx" if pub is not None
            else f"{district_name()}_{round_name}_奖补资格表_草稿.xlsx")
    return buffer, name, digest
