"""Rule 6: the reward subsidy (奖补资金). Money is integer fen throughout; only 合格 units get any."""
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .messages import M_, Msg
from .scoring import Result
from .vocabulary import NO_SUBSIDY, SubsidyMode

_YUAN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")
MODES = SubsidyMode.zh_labels()  # (the basis column of official sheets: Chinese)


def parse_yuan(value: object) -> int:
    """Yuan as typed ("50000", "1,234.5") → integer fen. Refuses negatives, more than two decimals, exponents
    (ValueError, its one argument a domain message `M_`)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(M_("请输入金额"))
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        raise ValueError(M_("请输入金额"))
    if text.startswith("-"):
        raise ValueError(M_("金额不能为负数"))
    if not _YUAN.match(text):
        if re.match(r"^[0-9]+\.[0-9]{3,}$", text):
            raise ValueError(M_("金额最多两位小数（到分）"))
        raise ValueError(M_("请输入有效的金额（元）"))
    yuan, _, cents = text.partition(".")
    return int(yuan) * 100 + int(cents.ljust(2, "0"))


def fen_to_yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals and thousands separators ("1,234.50")."""
    return f"{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class Band:
    min_total: Decimal
    max_total: Decimal | None  # exclusive; None: no upper bound
    amount_fen: int
    label: str = ""

    def holds(self, total: Decimal) -> bool:
        return total >= self.min_total and (self.max_total is None or total < self.max_total)

    def describe(self) -> str:
        """The band's range in words: its lower bound is included, its upper bound not ("以下" would include it);
        its label (data) when it has one."""
        if self.label:
            return self.label
        if self.max_total is None:
            return M_("%(min)s分(含)以上", min=self.min_total)
        return M_("%(min)s分(含)至%(max)s分(不含)", min=self.min_total, max=self.max_total)


@dataclass(frozen=True)
class SubsidyRule:
    mode: str  # fixed | bands | pool | none
    amount_fen: int = 0  # fixed: per passing unit; pool: the whole pool
    bands: tuple[Band, ...] = ()
    # A 整改后通过 unit (issue 32, point 6): this percentage (0–100) of what it would have had as 合格; None: 暂缓
    # (nothing paid until it passes in a round of its own).
    rectified_percent: int | None = None


def band_problems(bands: list[Band], threshold: Decimal) -> list[Msg]:
    """Bands may not overlap, and every total ≥ the threshold must fall in exactly one."""
    problems = []
    if not bands:
        return [M_("至少需要一个档次")]
    ordered = sorted(bands, key=lambda b: b.min_total)
    for b in ordered:
        if b.max_total is not None and b.max_total <= b.min_total:
            problems.append(M_("档次 %(min)s–%(max)s：上限须大于下限", min=b.min_total, max=b.max_total))
    if ordered[0].min_total > threshold:
        problems.append(M_("%(low)s分至%(high)s分之间的合格单位不在任何档次内", low=threshold, high=ordered[0].min_total))
    for a, b in zip(ordered, ordered[1:]):
        if a.max_total is None or a.max_total > b.min_total:
            problems.append(M_("档次 %(a)s 与 %(b)s 重叠", a=a.describe(), b=b.describe()))
        elif a.max_total < b.min_total:
            problems.append(M_("%(low)s分至%(high)s分之间的合格单位不在任何档次内（档次有空缺）", low=a.max_total,
                               high=b.min_total))
    if ordered[-1].max_total is not None:
        problems.append(M_("%(max)s分以上的合格单位不在任何档次内（最高档须不设上限）", max=ordered[-1].max_total))
    return problems


@dataclass(frozen=True)
class Candidate:
    code: str
    total: Decimal | None
    result: Result
    rectified: bool = False  # did not pass, then passed its 复查 (整改后通过) before the version was published


@dataclass(frozen=True)
class Award:
    code: str
    amount_fen: int
    basis: str   # 奖补方式/档次
    note: str    # why no money, when none
    withheld_fen: int = 0  # a 整改后通过 unit: what it would have had as 合格 less what it gets (暂缓 / 结余)


RECTIFIED = "整改后通过"  # the section of the 奖补资格表 (an official document: Chinese)


def rectified_basis(rule: SubsidyRule) -> str:
    """The basis of a 整改后通过 unit's amount, in the sheet's words."""
    if rule.rectified_percent is None:
        return f"{RECTIFIED}：暂缓拨付（待合格后拨付）"
    return f"{RECTIFIED}：按合格应得金额的{rule.rectified_percent}%拨付"


def share_of(full_fen: int, percent: int) -> int:
    """`percent` % of `full_fen`, whole fen rounded down (what is not paid is withheld, never overpaid)."""
    return full_fen * percent // 100


NO_MONEY = NO_SUBSIDY  # why a unit gets no money, by result (msgids: translated where shown)


def allocate(rule: SubsidyRule | None, candidates: list[Candidate]) -> list[Award]:
    """The award of every candidate (in the given order). Pool shares by the largest-remainder method on whole fen,
    ties broken by unit code, so that the amounts add up to the pool exactly."""
    # A 整改后通过 unit counts as 合格 for what it would have had (in pool mode its weight is in the pool, and what
    # it does not get is 结余, not shared out again); its rule's share of that is what it gets.
    rectified = {c.code for c in candidates if c.rectified and c.result is not Result.PASS and c.total is not None}
    passing = [c for c in candidates if c.result is Result.PASS or c.code in rectified]
    amounts: dict[str, tuple[int, str]] = {}
    if rule is None:
        amounts = {c.code: (0, "未设置奖补规则") for c in passing}
    elif rule.mode == "none":  # the office chose to give none: said so, not "no rule set"
        amounts = {c.code: (0, MODES["none"]) for c in passing}
    elif rule.mode == "fixed":
        amounts = {c.code: (rule.amount_fen, MODES["fixed"]) for c in passing}
    elif rule.mode == "bands":
        for c in passing:
            band = next((b for b in rule.bands if b.holds(c.total)), None)
            if band is None and c.code in rectified and rule.bands:  # below the line: the lowest band's amount
                band = min(rule.bands, key=lambda b: b.min_total)
            amounts[c.code] = (band.amount_fen, f"档次：{band.describe()}") if band else (0, "不在任何档次内")
    elif rule.mode == "pool":
        weight = sum((c.total for c in passing), Decimal(0))
        if passing and weight > 0:
            exact = {c.code: Fraction(rule.amount_fen) * Fraction(c.total) / Fraction(weight) for c in passing}
            floors = {code: int(share) for code, share in exact.items()}
            left = rule.amount_fen - sum(floors.values())
            order = sorted(exact, key=lambda code: (-(exact[code] - floors[code]), code))
            for code in order[:left]:
                floors[code] += 1
            amounts = {code: (fen, MODES["pool"]) for code, fen in floors.items()}
    else:
        raise ValueError(f"unknown subsidy mode {rule.mode}")
    out = []
    for c in candidates:
        if c.code in rectified:
            full, _basis = amounts.get(c.code, (0, ""))
            if rule is None or rule.mode == "none":
                out.append(Award(c.code, 0, "—", NO_MONEY[c.result]))
                continue
            paid = 0 if rule.rectified_percent is None else share_of(full, rule.rectified_percent)
            out.append(Award(c.code, paid, rectified_basis(rule), "", full - paid))
        elif c.result is Result.PASS:
            fen, basis = amounts.get(c.code, (0, ""))
            out.append(Award(c.code, fen, basis, ""))
        else:
            out.append(Award(c.code, 0, "—", NO_MONEY[c.result]))
    return out
