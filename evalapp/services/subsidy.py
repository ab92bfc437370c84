"""Subsidy rules per round and level, and the allocation under them (finance's sheet: services.eligibility_sheet)."""

from sqlalchemy import func, select

from ..domain.numbers import parse_points
from ..domain.subsidy import MODES, Award, Band, Candidate, SubsidyRule, allocate, band_problems, fen_to_yuan, parse_yuan
from ..domain.vocabulary import N_, SUBSIDY_UNSET, SubsidyMode, UnitLevel
from ..extensions import db
from ..models import OrgUnit, Recheck, Rectification, Round, RoundUnit, SubsidyBand, SubsidyRule as RuleRow, User
from . import audit, locks, versions
from .errors import Invalid, Joined, _l, check_text, shown

SUBSIDY_LEVELS = (UnitLevel.TOWNSHIP, UnitLevel.VILLAGE)
LEVEL_LABELS = {level.value: level.zh for level in SUBSIDY_LEVELS}  # Chinese: the sheet is an official document


def load_rules(round_: Round) -> dict[str, SubsidyRule | None]:
    """The round's rules by level, as the domain's dataclasses."""
    rules = {"township": None, "village": None}
    for row in db.session.scalars(select(RuleRow).where(RuleRow.round_id == round_.id)):
        rules[row.level] = SubsidyRule(row.mode, row.amount_fen or 0, tuple(
            Band(b.min_total, b.max_total, b.amount_fen, b.label) for b in row.bands), row.rectified_percent)
    return rules


def rectified_units(round_id: int, before=None) -> dict[str, dict]:
    """The units of a round that passed their 复查 (整改后通过), by code: when it was recorded and its total — those
    recorded before `before` (a publication's time) when given. One query."""
    query = (select(Rectification.unit_code, Recheck.recorded_at, Recheck.total)
             .join(Recheck, Recheck.rectification_id == Rectification.id)
             .where(Rectification.round_id == round_id, Recheck.outcome == "passed")
             .order_by(Recheck.recorded_at))
    if before is not None:
        query = query.where(Recheck.recorded_at <= before)
    return {code: {"recorded_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "total": None if total is None else f"{total:.2f}"}
            for code, at, total in db.session.execute(query)}


def parse_rectified(value: str) -> int | None:
    """What the form sends for a 整改后通过 unit: 暂缓 (empty or "defer") or a whole percentage 0–100."""
    text = (value or "").strip().rstrip("%％")
    if text in ("", "defer"):
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > 100:  # not "²": isdigit, but no int
        raise Invalid("subsidy.rectified_invalid", _l("整改后通过单位的拨付比例须为0至100之间的整数"),
                      {"rectified": _l("请填写0至100之间的整数，或选择暂缓拨付")})
    return int(text)


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
            problems.append(_l("第%(line)s行：%(problem)s", line=n, problem=shown(exc)))
            continue
        bands.append(Band(low, high, amount, parts[3][:50] if len(parts) > 3 else ""))
    if problems:
        raise Invalid("subsidy.bands_unreadable", _l("档次填写有误：%(problems)s", problems=Joined(problems)), {"bands": Joined(problems)})
    return bands


def save_rule(round_: Round, level: str, mode: str, amount: str, bands_text: str, user: User, *,
              reason: str = "", address: str | None = None, rectified: str = "") -> None:
    """Replace the rule of one level; refused (and the saved rule kept) on any problem. After publication a rule is
    corrected through the versioned path, as scores are (issue 29): with a reason, under the round's lock, the
    round marked changed — the published version keeps its rule and its amounts until the district republishes,
    and the next version's 变更 lists the amounts that move."""
    reason = (reason or "").strip()
    if round_.status == "published":
        locks.lock_round(round_)
        if not reason:
            raise Invalid("subsidy.reason_required", _l("评估结果已公布：更正奖补规则须填写理由"),
                          {"reason": _l("请填写更正理由")})
        check_text("subsidy.reason_invalid", "reason", _l("更正理由"), reason, box=True)
        if len(reason) > 2000:
            raise Invalid("subsidy.reason_invalid", _l("理由过长或含有无效字符"), {"reason": _l("理由不能超过2000字")})
    if level not in LEVEL_LABELS:
        raise Invalid("subsidy.level_invalid", _l("层级无效"), {"level": _l("层级无效")})
    if mode not in MODES:
        raise Invalid("subsidy.mode_required", _l("请选择奖补方式"), {"mode": _l("请选择奖补方式")})
    rectified_percent = parse_rectified(rectified)
    amount_fen, bands = 0, []
    if mode == "none":
        pass  # 本批次不设奖补资金: chosen and recorded
    elif mode in ("fixed", "pool"):
        try:
            amount_fen = parse_yuan(amount)
        except ValueError as exc:
            raise Invalid("subsidy.amount_invalid", _l("金额有误：%(problem)s", problem=shown(exc)), {"amount": shown(exc)}) from None
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
            raise Invalid("subsidy.bands_invalid", _l("档次设置有误：%(problems)s", problems=Joined(problems)), {"bands": Joined(problems)})
    old = db.session.scalar(select(RuleRow).where(RuleRow.round_id == round_.id, RuleRow.level == level))
    before = {"mode": old.mode, "amount_fen": old.amount_fen, "rectified_percent": old.rectified_percent,
              "bands": [[str(b.min_total), str(b.max_total), b.amount_fen] for b in old.bands]} if old else None
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = RuleRow(round_id=round_.id, level=level, mode=mode, amount_fen=amount_fen if mode != "bands" else None,
                  rectified_percent=rectified_percent)
    row.bands = [SubsidyBand(min_total=b.min_total, max_total=b.max_total, amount_fen=b.amount_fen, label=b.label)
                 for b in sorted(bands, key=lambda b: b.min_total)]
    db.session.add(row)
    audit.record("subsidy.rule", user=user, address=address, obj=round_, round_id=round_.id, old=before,
                 new={"level": level, "mode": mode, "amount_fen": amount_fen, "rectified_percent": rectified_percent,
                      "bands": [[str(b.min_total), str(b.max_total), b.amount_fen] for b in bands],
                      **({"after_publication": True} if round_.status == "published" else {})},
                 detail=reason)
    if round_.status == "published":
        round_.changed_since_publication = True  # pending until republished (readmodel.pending_count)
    versions.bump(round_.id)  # the amounts the pages keep follow the rule
    db.session.commit()


def missing_levels(round_: Round) -> list[UnitLevel]:
    """The levels of a round with no rule yet (neither money nor 本批次不设奖补资金 chosen)."""
    have = set(db.session.scalars(select(RuleRow.level).where(RuleRow.round_id == round_.id)))
    return [level for level in SUBSIDY_LEVELS if level.value not in have]


def choose_none(round_: Round, levels: list[UnitLevel], user: User, *, address: str | None = None) -> None:
    """Record 本批次不设奖补资金 for these levels (the district's explicit choice when publishing without rules),
    in the caller's transaction."""
    for level in levels:
        db.session.add(RuleRow(round_id=round_.id, level=level.value, mode="none", amount_fen=0))
        audit.record("subsidy.rule", user=user, address=address, obj=round_, round_id=round_.id, old=None,
                     new={"level": level.value, "mode": "none", "amount_fen": 0, "bands": []},
                     detail="公布时确认本批次不设奖补资金")
    db.session.flush()


def chinese(message: str, **variables) -> str:
    """A marked message in Chinese, formatted: describe_rule's default for the official sheet."""
    return message % variables if variables else message


def describe_rule(rule: SubsidyRule | None, tr=chinese) -> str:
    """The rule in words; `tr` is the translation (Chinese for the sheet, the page passes gettext)."""
    if rule is None:
        return tr(SUBSIDY_UNSET)
    if rule.mode == "none":
        return tr(SubsidyMode.NONE.label)
    if rule.mode == "fixed":
        return tr(N_("每个合格单位 %(yuan)s 元"), yuan=fen_to_yuan(rule.amount_fen))
    if rule.mode == "pool":
        return tr(N_("资金池 %(yuan)s 元，按合格单位得分比例分配（最大余额法，精确到分）"),
                  yuan=fen_to_yuan(rule.amount_fen))
    return tr(N_("；")).join(tr(N_("%(band)s：%(yuan)s 元"), band=_band(b, tr), yuan=fen_to_yuan(b.amount_fen))
                            for b in rule.bands)


def describe_rectified(rule: SubsidyRule | None, tr=chinese) -> str:
    """What a 整改后通过 unit gets under the rule, in words (Chinese for the sheet, the page passes gettext)."""
    if rule is None or rule.mode == "none":
        return describe_rule(rule, tr)
    if rule.rectified_percent is None:
        return tr(N_("整改后通过单位暂缓拨付，待合格后拨付"))
    text = tr(N_("整改后通过单位按合格应得金额的 %(percent)s%% 拨付"), percent=rule.rectified_percent)
    if rule.mode == "pool":
        text += tr(N_("，未拨付部分列为结余，不再分配"))
    return text


def _band(band: Band, tr) -> str:
    """A band as domain.subsidy.Band.describe words it, translated: its own label (data) if it has one."""
    if band.label:
        return band.label
    if band.max_total is None:
        return tr(N_("%(min)s分(含)以上"), min=band.min_total)
    return tr(N_("%(min)s分(含)至%(max)s分(不含)"), min=band.min_total, max=band.max_total)


def award_lines(rules: dict[str, SubsidyRule | None], rows, rectified=()) -> dict[str, Award]:
    """Each unit's award (by code) under the rules of its level; `rows`: report rows (services.results.ReportRow);
    `rectified`: the codes of the units that passed their 复查 (整改后通过)."""
    awards: dict[str, Award] = {}
    for level in ("township", "village"):
        of_level = [r for r in rows if r.unit.level == level]
        awards.update(zip((r.unit.code for r in of_level), allocate(
            rules[level], [Candidate(r.unit.code, r.unit.final_total, r.unit.result, r.unit.code in rectified)
                           for r in of_level])))
    return awards
