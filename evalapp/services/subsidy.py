"""Subsidy rules per round and level, the allocation, and finance's eligibility sheet."""
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from xlsxwriter.utility import xl_col_to_name

from ..domain.numbers import parse_points, plain_number
from ..domain.subsidy import MODES, Award, Band, Candidate, SubsidyRule, allocate, band_problems, fen_to_yuan, parse_yuan
from ..domain.vocabulary import N_, SUBSIDY_UNSET, Result, UnitLevel
from ..extensions import db
from ..models import OrgUnit, Publication, Round, RoundUnit, SubsidyBand, SubsidyRule as RuleRow, User
from . import audit
from .errors import Conflict, Invalid, Joined, _l
from .export import district_name
from .results import ReportRow
from .xlsx import new_workbook, write_row, write_text

SUBSIDY_LEVELS = (UnitLevel.TOWNSHIP, UnitLevel.VILLAGE)
LEVEL_LABELS = {level.value: level.zh for level in SUBSIDY_LEVELS}  # Chinese: the sheet is an official document


def load_rules(round_: Round) -> dict[str, SubsidyRule | None]:
    """The round's rules by level, as the domain's dataclasses."""
    rules = {"township": None, "village": None}
    for row in db.session.scalars(select(RuleRow).where(RuleRow.round_id == round_.id)):
        rules[row.level] = SubsidyRule(row.mode, row.amount_fen or 0, tuple(
            Band(b.min_total, b.max_total, b.amount_fen, b.label) for b in row.bands))
    return rules


def parse_bands(text_: str) -> list[Band]:
    """Lines of `下限,上限,金额(元)[,名称]`; an empty upper bound means no upper bound."""
    bands, problems = [], []
    for n, line in enumerate((text_ or "").splitlines(), start=1):
        line = line.strip().replace("，", ",")
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3:
            problems.append(_l("第%(line)s行：应为“下限,上限,金额”", line=n))
            continue
        try:
            low = parse_points(parts[0])
            high = parse_points(parts[1]) if parts[1] else None
            amount = parse_yuan(parts[2])
        except ValueError as exc:
            problems.append(_l("第%(line)s行：%(problem)s", line=n, problem=str(exc)))
            continue
        bands.append(Band(low, high, amount, parts[3][:50] if len(parts) > 3 else ""))
    if problems:
        raise Invalid("subsidy.bands_unreadable", _l("档次填写有误：%(problems)s", problems=Joined(problems)), {"bands": Joined(problems)})
    return bands


def save_rule(round_: Round, level: str, mode: str, amount: str, bands_text: str, user: User, *,
              address: str | None = None) -> None:
    """Replace the rule of one level; refused (and the saved rule kept) on any problem or after publication."""
    if round_.status == "published":
        raise Conflict("subsidy.published", _l("评估结果已公布，奖补规则已锁定"))
    if level not in LEVEL_LABELS:
        raise Invalid("subsidy.level_invalid", _l("层级无效"), {"level": _l("层级无效")})
    if mode not in MODES:
        raise Invalid("subsidy.mode_required", _l("请选择奖补方式"), {"mode": _l("请选择奖补方式")})
    amount_fen, bands = 0, []
    if mode in ("fixed", "pool"):
        try:
            amount_fen = parse_yuan(amount)
        except ValueError as exc:
            raise Invalid("subsidy.amount_invalid", _l("金额有误：%(problem)s", problem=str(exc)), {"amount": str(exc)}) from None
        if mode == "pool":
            in_scope = db.session.scalar(select(func.count()).select_from(RoundUnit).join(
                OrgUnit, OrgUnit.id == RoundUnit.unit_id).where(RoundUnit.round_id == round_.id,
                                                                OrgUnit.level == level))
            if amount_fen < in_scope:
                raise Invalid("subsidy.pool_too_small", _l("资金池过小：%(count)s个参评单位每个至少须分得1分钱", count=in_scope),
                              {"amount": _l("资金池过小")})
    else:
        bands = parse_bands(bands_text)
        problems = band_problems(bands, round_.threshold)
        if problems:
            raise Invalid("subsidy.bands_invalid", _l("档次设置有误：%(problems)s", problems="；".join(problems)), {"bands": "；".join(problems)})
    old = db.session.scalar(select(RuleRow).where(RuleRow.round_id == round_.id, RuleRow.level == level))
    before = {"mode": old.mode, "amount_fen": old.amount_fen,
              "bands": [[str(b.min_total), str(b.max_total), b.amount_fen] for b in old.bands]} if old else None
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = RuleRow(round_id=round_.id, level=level, mode=mode, amount_fen=amount_fen if mode != "bands" else None)
    row.bands = [SubsidyBand(min_total=b.min_total, max_total=b.max_total, amount_fen=b.amount_fen, label=b.label)
                 for b in sorted(bands, key=lambda b: b.min_total)]
    db.session.add(row)
    audit.record("subsidy.rule", user=user, address=address, obj=round_, round_id=round_.id, old=before,
                 new={"level": level, "mode": mode, "amount_fen": amount_fen,
                      "bands": [[str(b.min_total), str(b.max_total), b.amount_fen] for b in bands]})
    db.session.commit()


def chinese(message: str, **variables) -> str:
    """A marked message in Chinese, formatted: describe_rule's default for the official sheet."""
    return message % variables if variables else message


def describe_rule(rule: SubsidyRule | None, tr=chinese) -> str:
    """The rule in words; `tr` is the translation (Chinese for the sheet, the page passes gettext)."""
    if rule is None:
        return tr(SUBSIDY_UNSET)
    if rule.mode == "fixed":
        return tr(N_("每个合格单位 %(yuan)s 元"), yuan=fen_to_yuan(rule.amount_fen))
    if rule.mode == "pool":
        return tr(N_("资金池 %(yuan)s 元，按合格单位得分比例分配（最大余额法，精确到分）"),
                  yuan=fen_to_yuan(rule.amount_fen))
    return tr(N_("；")).join(tr(N_("%(band)s：%(yuan)s 元"), band=_band(b, tr), yuan=fen_to_yuan(b.amount_fen))
                            for b in rule.bands)


def _band(band: Band, tr) -> str:
    """A band as domain.subsidy.Band.describe words it, translated: its own label (data) if it has one."""
    if band.label:
        return band.label
    if band.max_total is None:
        return tr(N_("%(min)s分(含)以上"), min=band.min_total)
    return tr(N_("%(min)s分(含)%(max)s分以下"), min=band.min_total, max=band.max_total)


@dataclass
class Line:
    row: ReportRow
    award: Award


@dataclass
class Eligibility:
    round: Round
    lines: list[Line]
    rules: dict[str, SubsidyRule | None]
    by_township: list[dict]
    total_fen: int
    final: bool  # 正式 (a published version) or 草稿 (the data as it stands)
    vetoes: dict[str, list[tuple[str, str]]]  # unit code → [(item, finding)]
    publication: Publication | None = None  # the version a 正式 sheet is read from
    # While a published round has unlocked sheets: the round's last version (the 正式 sheet's) and how many units
    # today's data would change against it.
    pending: int | None = None
    last_publication: Publication | None = None
    threshold: Decimal | None = None


def award_lines(rules: dict[str, SubsidyRule | None], rows: list[ReportRow]) -> dict[str, Award]:
    """Each unit's award (by code) under the rules of its level."""
    awards: dict[str, Award] = {}
    for level in ("township", "village"):
        of_level = [r for r in rows if r.unit.level == level]
        awards.update(zip((r.unit.code for r in of_level), allocate(
            rules[level], [Candidate(r.unit.code, r.unit.final_total, r.unit.result) for r in of_level])))
    return awards


def eligibility(round_: Round, *, draft: bool = False) -> Eligibility:
    """Every unit in scope with its award; summaries by township and level.

    A published round's sheet is its last published version, as frozen (services.snapshots): 正式, whatever was
    unlocked since. `draft=True`, or a round not published, gives the data as it stands: 草稿. From one consistent
    read either way."""
    from . import snapshots
    from .results import veto_findings

    if db.engine.dialect.name == "postgresql":
        # One snapshot for every query below: end whatever transaction the request had open, then start one at
        # REPEATABLE READ (the isolation level can only be set before a transaction's first query).
        db.session.commit()
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    db.session.refresh(round_)  # the round's status, dates and threshold as the snapshot holds them
    view = snapshots.shown(round_, draft=draft)
    ordered = view.report.rows  # report order (the results page's)
    if view.official:
        rules = snapshots.rules_of(view.publication)
        awards = snapshots.awards_of(view.publication)
        vetoes = snapshots.vetoes_of(view.publication)
        threshold = view.publication.threshold
    else:
        rules = load_rules(round_)
        awards = award_lines(rules, ordered)
        findings = veto_findings(round_)
        vetoes = {r.unit.code: found for r in ordered if (found := findings.get(r.unit.final_sheet_id))}
        threshold = round_.threshold
    lines = [Line(r, awards[r.unit.code]) for r in ordered]  # township, then its villages
    groups: dict[tuple[str, str], dict] = {}
    for line in lines:
        key = (line.row.township_name, line.row.unit.level)
        g = groups.setdefault(key, {"township": key[0], "level": key[1], "in_scope": 0, "passed": 0,
                                    "amount_fen": 0})
        g["in_scope"] += 1
        g["passed"] += line.row.unit.result.value == "pass"
        g["amount_fen"] += line.award.amount_fen
    return Eligibility(round_, lines, rules, list(groups.values()), sum(x.award.amount_fen for x in lines),
                       view.official, vetoes, view.publication, view.pending, view.last, threshold)


DETAIL_HEAD = ["序号", "单位编码", "单位名称", "层级", "所属镇(街道)", "自评得分", "评估得分", "结果", "距合格线", "名次",
               "是否符合奖补条件", "奖补方式/档次", "奖补金额(元)", "备注"]
AMOUNT_COL = DETAIL_HEAD.index("奖补金额(元)")


def _remark(line: Line, vetoes: dict[str, str]) -> str:
    parts = [vetoes[line.row.unit.code]] if line.row.unit.code in vetoes else []
    if line.award.note:
        parts.append(line.award.note)
    return "；".join(parts)


def eligibility_workbook(round_: Round, user: User, *, draft: bool = False,
                         address: str | None = None) -> tuple[io.BytesIO, str, str]:
    """The 奖补资格表 (汇总, 明细, 说明) as xlsx; returns (file, name, SHA-256 of the detail rows). Audited.

    正式: a published version, read from its snapshot only — two downloads of one version are the same bytes (every
    date and name in the file is the version's; who downloaded it and when is in the audit row). 草稿: the data as
    it stands, marked so on every sheet."""
    data = eligibility(round_, draft=draft)
    pub = data.publication
    vetoes = {code: "一票否决：" + "；".join(f"{t}（{d}）" for t, d in found)
              for code, found in data.vetoes.items()}
    vetoes = {line.row.unit.code: vetoes[line.row.unit.code] for line in data.lines
              if line.row.unit.result.value != "pass" and line.row.unit.code in vetoes}
    status = "正式" if data.final else "草稿"
    header = "" if data.final else "&C草稿 — 未公布"
    detail_rows = []
    for n, line in enumerate(data.lines, start=1):
        u = line.row.unit
        detail_rows.append([n, u.code, u.name, UnitLevel.zh_of(u.level), line.row.township_name,
                            None if u.self_total is None else float(u.self_total),
                            None if u.final_total is None else float(u.final_total), Result.zh_of(u.result.value),
                            "一票否决" if u.vetoed else None if u.missing is None else float(u.missing), u.rank,
                            "是" if u.result.value == "pass" else "否", line.award.basis,
                            line.award.amount_fen, _remark(line, vetoes)])
    digest = hashlib.sha256("\n".join("|".join("" if v is None else str(v) for v in r)
                                      for r in detail_rows).encode("utf-8")).hexdigest()
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    tz = ZoneInfo("Asia/Shanghai")
    now = pub.published_at if pub is not None else datetime.now(tz)
    round_name = pub.round_name if pub is not None else round_.name
    wb.set_properties({"title": f"{round_name} 奖补资金资格表（{status}）", "created": now.astimezone(tz).replace(tzinfo=None),
                       "author": pub.published_by_name if pub is not None else user.display_name})
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "vcenter"})
    money = wb.add_format({"num_format": "#,##0.00"})
    money_bold = wb.add_format({"num_format": "#,##0.00", "bold": True})
    points = wb.add_format({"num_format": "0.00"})
    text_fmt = wb.add_format({"num_format": "@"})
    bold_plain = wb.add_format({"bold": True})

    def setup(ws, widths, landscape=True):
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_header(header)
        ws.set_footer("&C第 &P 页，共 &N 页")

    summary = wb.add_worksheet("汇总")
    setup(summary, [18, 12, 12, 12, 18])
    write_row(summary, 0, ["所属镇(街道)", "层级", "参评单位", "合格单位", "奖补金额(元)"], bold)
    summary.freeze_panes(1, 0)
    r = 0
    for r, g in enumerate(data.by_township, start=1):
        write_text(summary, r, 0, g["township"])
        summary.write_string(r, 1, UnitLevel.zh_of(g["level"]))
        summary.write_number(r, 2, g["in_scope"])
        summary.write_number(r, 3, g["passed"])
        summary.write_number(r, 4, g["amount_fen"] / 100, money)
    total_row = r + 1
    summary.write_string(total_row, 0, "合计", bold_plain)
    summary.write_blank(total_row, 1, None)
    summary.write_formula(total_row, 2, f"=SUM(C2:C{total_row})", bold_plain, sum(g["in_scope"] for g in data.by_township))
    summary.write_formula(total_row, 3, f"=SUM(D2:D{total_row})", bold_plain, sum(g["passed"] for g in data.by_township))
    summary.write_formula(total_row, 4, f"=SUM(E2:E{total_row})", money_bold, data.total_fen / 100)
    summary.autofilter(0, 0, max(total_row - 1, 1), 4)

    detail = wb.add_worksheet("明细")
    setup(detail, [6, 15, 18, 10, 14, 10, 10, 14, 10, 8, 10, 24, 14, 36])
    write_row(detail, 0, DETAIL_HEAD, bold)
    detail.freeze_panes(1, 0)
    for i, row in enumerate(detail_rows, start=1):
        detail.write_number(i, 0, row[0])
        detail.write_string(i, 1, row[1], text_fmt)
        write_text(detail, i, 2, row[2])
        detail.write_string(i, 3, row[3])
        write_text(detail, i, 4, row[4])
        for col in (5, 6):
            if row[col] is None:
                detail.write_blank(i, col, None)
            else:
                detail.write_number(i, col, row[col], points)
        detail.write_string(i, 7, row[7])
        if isinstance(row[8], str):  # 一票否决 where the points missing would be
            detail.write_string(i, 8, row[8])
        elif row[8] is None:
            detail.write_blank(i, 8, None)
        else:
            detail.write_number(i, 8, row[8], points)
        if row[9] is None:
            detail.write_blank(i, 9, None)
        else:
            detail.write_number(i, 9, row[9])
        detail.write_string(i, 10, row[10])
        write_text(detail, i, 11, row[11])
        detail.write_number(i, 12, row[12] / 100, money)
        write_text(detail, i, 13, row[13])
    last = len(detail_rows) + 1
    amount = xl_col_to_name(AMOUNT_COL)
    detail.write_string(last, 0, "合计", bold_plain)
    detail.write_formula(last, AMOUNT_COL, f"=SUM({amount}2:{amount}{last})", money_bold, data.total_fen / 100)
    detail.autofilter(0, 0, max(last - 1, 1), len(DETAIL_HEAD) - 1)

    # 变更: what this version changed against the one before (or, in a 草稿 while sheets are unlocked, what
    # republication would change against the last version) — amounts of an earlier version may be paid already.
    from . import snapshots

    if pub is not None and pub.version > 1:
        since = snapshots.version_of(round_.id, pub.version - 1)
        changed, between = snapshots.changes(since, round_, pub), f"第{since.version}版 → 第{pub.version}版"
    elif pub is None and data.last_publication is not None:
        since = data.last_publication
        changed, between = snapshots.changes(since, round_), f"第{since.version}版 → 草稿（待重新公布）"
    else:
        changed = None
    if changed is not None:
        ws = wb.add_worksheet("变更")
        setup(ws, [6, 15, 18, 14, 10, 10, 12, 12, 14, 14, 14, 14, 40])
        write_row(ws, 0, ["序号", "单位编码", "单位名称", "所属镇(街道)", "原得分", "新得分", "原结果", "新结果",
                          "原金额(元)", "新金额(元)", "追加(元)", "收回(元)", f"解锁理由（{between}）"], bold)
        ws.freeze_panes(1, 0)
        for i, c in enumerate(changed, start=1):
            ws.write_number(i, 0, i)
            ws.write_string(i, 1, c.code, text_fmt)
            write_text(ws, i, 2, c.name)
            write_text(ws, i, 3, c.township_name)
            for col, value in ((4, c.old_total), (5, c.new_total)):
                if value is None:
                    ws.write_blank(i, col, None)
                else:
                    ws.write_number(i, col, float(value), points)
            ws.write_string(i, 6, Result.zh_of(c.old_result) if c.old_result else "—")
            ws.write_string(i, 7, Result.zh_of(c.new_result) if c.new_result else "—")
            ws.write_number(i, 8, c.old_fen / 100, money)
            ws.write_number(i, 9, c.new_fen / 100, money)
            ws.write_number(i, 10, max(c.delta_fen, 0) / 100, money)
            ws.write_number(i, 11, max(-c.delta_fen, 0) / 100, money)
            write_text(ws, i, 12, "；".join(
                f"{reason}（{who}，{at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}）" for who, reason, at in c.unlocks))
        last_change = len(changed) + 1
        ws.write_string(last_change, 0, "合计", bold_plain)
        ws.write_formula(last_change, 10, f"=SUM(K2:K{last_change})", money_bold,
                         sum(max(c.delta_fen, 0) for c in changed) / 100)
        ws.write_formula(last_change, 11, f"=SUM(L2:L{last_change})", money_bold,
                         sum(max(-c.delta_fen, 0) for c in changed) / 100)

    notes = wb.add_worksheet("说明")
    setup(notes, [18, 90], landscape=False)
    local = lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S（北京时间）")  # noqa: E731
    threshold = plain_number(data.threshold)
    info = [
        ("批次", round_name),
        ("合格标准", f"总分{threshold}分以上(含{threshold}分)为合格；一票否决者不合格；未完成评估者不计为合格"),
        ("镇(街道)奖补规则", describe_rule(data.rules["township"])),
        ("村(社区)奖补规则", describe_rule(data.rules["village"])),
        ("奖补总额(元)", fen_to_yuan(data.total_fen)),
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
    audit.record("export.subsidy", user=user, address=address, obj=round_, round_id=round_.id,
                 new={"status": status, "version": pub.version if pub is not None else None,
                      "publication_sha256": pub.sha256 if pub is not None else None, "sha256": digest,
                      "total_fen": data.total_fen}, detail=name)
    db.session.commit()
    return buffer, name, digest
