"""Catalogue validation: a catalogue is accepted whole or refused with every problem listed."""
from dataclasses import dataclass, field
from decimal import Decimal

from .numbers import parse_points

LEVELS = ("township", "village")


@dataclass
class RuleData:
    code: str
    text: str
    per: Decimal | None
    void: bool


@dataclass
class IndicatorData:
    code: str
    title: str
    points: Decimal
    methods: list[str] = field(default_factory=list)
    evidence: str = ""
    rules: list[RuleData] = field(default_factory=list)


@dataclass
class CategoryData:
    code: str
    name: str
    points: Decimal
    indicators: list[IndicatorData] = field(default_factory=list)


@dataclass
class ItemData:
    code: str
    text: str
    points: Decimal | None = None


@dataclass
class CatalogueData:
    code: str
    level: str
    name: str
    total: Decimal
    bonus_cap: Decimal
    categories: list[CategoryData] = field(default_factory=list)
    bonus: list[ItemData] = field(default_factory=list)
    veto: list[ItemData] = field(default_factory=list)


class CatalogueInvalid(ValueError):
    """A catalogue with problems; `problems` lists every one, in reading order."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _Reader:
    """Reads fields out of plain data, collecting every problem instead of stopping at the first."""

    def __init__(self):
        self.problems: list[str] = []

    def text(self, data: dict, key: str, where: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(f"{where}：缺少“{key}”")
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.problems.append(f"{where}：“{key}”应为文字")
            return ""
        return str(value).strip()

    def points(self, data: dict, key: str, where: str, *, positive: bool = True) -> Decimal | None:
        if data.get(key) is None:
            self.problems.append(f"{where}：缺少分值“{key}”")
            return None
        raw = data[key]
        if isinstance(raw, float):  # YAML gives floats; repr() is the shortest text that reads back the same
            raw = repr(raw)
        try:
            value = parse_points(raw)
        except ValueError as exc:
            self.problems.append(f"{where}：分值“{key}”无效（{exc}）")
            return None
        if positive and value <= 0:
            self.problems.append(f"{where}：分值“{key}”须大于0")
            return None
        return value

    def items(self, data: dict, key: str, where: str) -> list:
        value = data.get(key) or []
        if not isinstance(value, list):
            self.problems.append(f"{where}：“{key}”应为列表")
            return []
        return value

    def dicts(self, data: dict, key: str, where: str, label: str) -> list[dict]:
        out = []
        for item in self.items(data, key, where):
            if isinstance(item, dict):
                out.append(item)
            else:
                self.problems.append(f"{where}：{label}格式无效")
        return out


def validate_catalogue(data: object) -> CatalogueData:
    """Check a catalogue given as plain data (the YAML form) and return it typed.

    Sums must match exactly (categories → catalogue total, indicators → category), codes must be unique within the
    catalogue, and each deduction has `per` > 0 or `void`. Raises CatalogueInvalid listing every problem.
    """
    r = _Reader()
    if not isinstance(data, dict):
        raise CatalogueInvalid(["指标体系格式无效：应为一个对象"])
    code = r.text(data, "code", "指标体系")
    where = f"指标体系 {code or '?'}"
    level = r.text(data, "level", where)
    if level and level not in LEVELS:
        r.problems.append(f"{where}：层级“{level}”无效，应为 township 或 village")
    name = r.text(data, "name", where)
    total = r.points(data, "total", where)
    bonus_cap = r.points({"bonus_cap": data.get("bonus_cap", 0)}, "bonus_cap", where, positive=False)
    catalogue = CatalogueData(code, level, name, total or Decimal(0), bonus_cap or Decimal(0))

    seen: dict[str, str] = {}

    def unique(kind: str, item_code: str, place: str) -> None:
        if not item_code:
            return
        if item_code in seen:
            r.problems.append(f"{place}：编码“{item_code}”重复（已用于{seen[item_code]}）")
        else:
            seen[item_code] = f"{kind} {item_code}"

    categories = r.dicts(data, "categories", where, "一级指标")
    if not categories:
        r.problems.append(f"{where}：没有一级指标")
    for cat_raw in categories:
        cat_code = r.text(cat_raw, "code", f"{where} 一级指标")
        cat_where = f"一级指标 {cat_code or '?'}"
        unique("一级指标", cat_code, cat_where)
        category = CategoryData(cat_code, r.text(cat_raw, "name", cat_where),
                                r.points(cat_raw, "points", cat_where) or Decimal(0))
        indicators = r.dicts(cat_raw, "indicators", cat_where, "二级指标")
        if not indicators:
            r.problems.append(f"{cat_where}：没有二级指标")
        for ind_raw in indicators:
            ind_code = r.text(ind_raw, "code", f"{cat_where} 二级指标")
            ind_where = f"二级指标 {ind_code or '?'}"
            unique("二级指标", ind_code, ind_where)
            methods = ind_raw.get("methods") or []
            if isinstance(methods, str):
                methods = methods.replace("，", "、").replace(",", "、").split("、")
            indicator = IndicatorData(
                ind_code, r.text(ind_raw, "title", ind_where), r.points(ind_raw, "points", ind_where) or Decimal(0),
                [str(m).strip() for m in methods if str(m).strip()],
                r.text(ind_raw, "evidence", ind_where, required=False),
            )
            for rule_raw in r.dicts(ind_raw, "deductions", ind_where, "扣分项"):
                rule_code = r.text(rule_raw, "code", f"{ind_where} 扣分项")
                rule_where = f"扣分项 {rule_code or '?'}"
                unique("扣分项", rule_code, rule_where)
                void = rule_raw.get("void") is True
                per = None
                if void:
                    if rule_raw.get("per") not in (None, 0):
                        r.problems.append(f"{rule_where}：设为 void（该项得0分）时不能再设每次扣分(per)")
                elif rule_raw.get("per") is None:
                    r.problems.append(f"{rule_where}：须设每次扣分(per)大于0，或设为 void")
                else:
                    per = r.points(rule_raw, "per", rule_where)
                indicator.rules.append(RuleData(rule_code, r.text(rule_raw, "text", rule_where), per, void))
            category.indicators.append(indicator)
        ind_sum = sum((i.points for i in category.indicators), Decimal(0))
        if category.points and ind_sum != category.points:
            r.problems.append(f"{cat_where}：二级指标分值合计{ind_sum}，与一级指标分值{category.points}不符")
        catalogue.categories.append(category)
    cat_sum = sum((c.points for c in catalogue.categories), Decimal(0))
    if total and cat_sum != total:
        r.problems.append(f"{where}：一级指标分值合计{cat_sum}，与总分{total}不符")

    for item in r.dicts(data, "bonus", where, "加分项"):
        item_code = r.text(item, "code", f"{where} 加分项")
        item_where = f"加分项 {item_code or '?'}"
        unique("加分项", item_code, item_where)
        catalogue.bonus.append(ItemData(item_code, r.text(item, "text", item_where),
                                        r.points(item, "points", item_where)))
    for item in r.dicts(data, "veto", where, "否决项"):
        item_code = r.text(item, "code", f"{where} 否决项")
        item_where = f"否决项 {item_code or '?'}"
        unique("否决项", item_code, item_where)
        catalogue.veto.append(ItemData(item_code, r.text(item, "text", item_where)))

    if r.problems:
        raise CatalogueInvalid(r.problems)
    return catalogue
