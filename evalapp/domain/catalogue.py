"""Catalogue validation: a catalogue is accepted whole or refused with every problem listed."""
from dataclasses import dataclass, field
from decimal import Decimal

from .messages import M_, Msg
from .numbers import parse_points
from .text import text_problem

LEVELS = ("township", "village")
# The parts of a catalogue as problems name them ("二级指标 A1.2：缺少“title”"): by code, inside another part (its
# code not read yet), and one that is not an object. (One msgid each: the kinds' words alone are headings elsewhere.)
PARTS = {  # kind: (by code, inside another part, malformed)
    "category": (lambda code: M_("一级指标 %(code)s", code=code), lambda where: M_("%(where)s 一级指标", where=where),
                 lambda where: M_("%(where)s：一级指标格式无效", where=where)),
    "indicator": (lambda code: M_("二级指标 %(code)s", code=code), lambda where: M_("%(where)s 二级指标", where=where),
                  lambda where: M_("%(where)s：二级指标格式无效", where=where)),
    "rule": (lambda code: M_("扣分项 %(code)s", code=code), lambda where: M_("%(where)s 扣分项", where=where),
             lambda where: M_("%(where)s：扣分项格式无效", where=where)),
    "bonus": (lambda code: M_("加分项 %(code)s", code=code), lambda where: M_("%(where)s 加分项", where=where),
              lambda where: M_("%(where)s：加分项格式无效", where=where)),
    "veto": (lambda code: M_("否决项 %(code)s", code=code), lambda where: M_("%(where)s 否决项", where=where),
             lambda where: M_("%(where)s：否决项格式无效", where=where)),
}


def _place(kind: str, code: str) -> Msg:
    """A part by its code: "一级指标 A1" ("?" when it has none)."""
    return PARTS[kind][0](code or "?")


def _within(where: Msg, kind: str) -> Msg:
    """A part not yet named, inside another: "指标体系 X 一级指标"."""
    return PARTS[kind][1](where)


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

    def __init__(self, problems: list[Msg]):
        super().__init__("\n".join(problems))
        self.problems = problems


RULE_KEYS = frozenset({"code", "text", "per", "void"})  # a deduction rule's fields in the YAML form


class _Reader:
    """Reads fields out of plain data, collecting every problem instead of stopping at the first."""

    def __init__(self):
        self.problems: list[Msg] = []

    def text(self, data: dict, key: str, where: Msg, required: bool = True, *, multiline: bool = False) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(M_("%(where)s：缺少“%(key)s”", where=where, key=key))
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.problems.append(M_("%(where)s：“%(key)s”应为文字", where=where, key=key))
            return ""
        return self.checked(str(value).strip(), key, where, multiline=multiline)

    def checked(self, text: str, key: str, where: Msg, *, multiline: bool = False) -> str:
        """The text if it keeps the text rule (domain.text); else a problem, and "" (a YAML "\\0" or "\\u202e"
        escape, or an xlsx cell, brings any character)."""
        problem = text_problem(text, multiline=multiline)
        if problem is None:
            return text
        self.problems.append(M_("%(where)s：“%(key)s”%(problem)s", where=where, key=key, problem=problem))
        return ""

    def points(self, data: dict, key: str, where: Msg, *, positive: bool = True) -> Decimal | None:
        if data.get(key) is None:
            self.problems.append(M_("%(where)s：缺少分值“%(key)s”", where=where, key=key))
            return None
        raw = data[key]
        if isinstance(raw, float):  # YAML gives floats; repr() is the shortest text that reads back the same
            raw = repr(raw)
        try:
            value = parse_points(raw)
        except ValueError as exc:
            problem = exc.args[0] if len(exc.args) == 1 else str(exc)
            self.problems.append(M_("%(where)s：分值“%(key)s”无效（%(problem)s）", where=where, key=key, problem=problem))
            return None
        if positive and value <= 0:
            self.problems.append(M_("%(where)s：分值“%(key)s”须大于0", where=where, key=key))
            return None
        return value

    def items(self, data: dict, key: str, where: Msg) -> list:
        value = data.get(key) or []
        if not isinstance(value, list):
            self.problems.append(M_("%(where)s：“%(key)s”应为列表", where=where, key=key))
            return []
        return value

    def dicts(self, data: dict, key: str, where: Msg, kind: str) -> list[dict]:
        out = []
        for item in self.items(data, key, where):
            if isinstance(item, dict):
                out.append(item)
            else:
                self.problems.append(PARTS[kind][2](where))
        return out


def validate_catalogue(data: object) -> CatalogueData:
    """Check a catalogue given as plain data (the YAML form) and return it typed.

    Sums must match exactly (categories → catalogue total, indicators → category), codes must be unique within the
    catalogue, and each deduction has `per` > 0 or `void`. Raises CatalogueInvalid listing every problem.
    """
    r = _Reader()
    if not isinstance(data, dict):
        raise CatalogueInvalid([M_("指标体系格式无效：应为一个对象")])
    code = r.text(data, "code", M_("指标体系"))
    where = M_("指标体系 %(code)s", code=code or "?")
    level = r.text(data, "level", where)
    if level and level not in LEVELS:
        r.problems.append(M_("%(where)s：层级“%(level)s”无效，应为 township 或 village", where=where, level=level))
    name = r.text(data, "name", where)
    total = r.points(data, "total", where)
    bonus_cap = r.points({"bonus_cap": data.get("bonus_cap", 0)}, "bonus_cap", where, positive=False)
    catalogue = CatalogueData(code, level, name, total or Decimal(0), bonus_cap or Decimal(0))

    seen: dict[str, Msg] = {}

    def unique(item_code: str, place: Msg) -> None:
        if not item_code:
            return
        if item_code in seen:
            r.problems.append(M_("%(where)s：编码“%(code)s”重复（已用于%(other)s）", where=place, code=item_code,
                                 other=seen[item_code]))
        else:
            seen[item_code] = place

    categories = r.dicts(data, "categories", where, "category")
    if not categories:
        r.problems.append(M_("%(where)s：没有一级指标", where=where))
    for cat_raw in categories:
        cat_code = r.text(cat_raw, "code", _within(where, "category"))
        cat_where = _place("category", cat_code)
        unique(cat_code, cat_where)
        category = CategoryData(cat_code, r.text(cat_raw, "name", cat_where),
                                r.points(cat_raw, "points", cat_where) or Decimal(0))
        indicators = r.dicts(cat_raw, "indicators", cat_where, "indicator")
        if not indicators:
            r.problems.append(M_("%(where)s：没有二级指标", where=cat_where))
        for ind_raw in indicators:
            ind_code = r.text(ind_raw, "code", _within(cat_where, "indicator"))
            ind_where = _place("indicator", ind_code)
            unique(ind_code, ind_where)
            methods = ind_raw.get("methods") or []
            if isinstance(methods, str):
                methods = methods.replace("，", "、").replace(",", "、").split("、")
            elif not isinstance(methods, list):  # (a number or true in the YAML: refused, not a 500)
                r.problems.append(M_("%(where)s：“%(key)s”应为列表", where=ind_where, key="methods"))
                methods = []
            indicator = IndicatorData(
                ind_code, r.text(ind_raw, "title", ind_where), r.points(ind_raw, "points", ind_where) or Decimal(0),
                [r.checked(str(m).strip(), "methods", ind_where) for m in methods if str(m).strip()],
                r.text(ind_raw, "evidence", ind_where, required=False, multiline=True),
            )
            for rule_raw in r.dicts(ind_raw, "deductions", ind_where, "rule"):
                rule_code = r.text(rule_raw, "code", _within(ind_where, "rule"))
                rule_where = _place("rule", rule_code)
                unique(rule_code, rule_where)
                for key in sorted(set(map(str, rule_raw)) - RULE_KEYS):  # a text cut at an unquoted comma, say
                    r.problems.append(M_("%(where)s：有无法识别的字段“%(key)s”（文字中含英文逗号时须加引号）",
                                         where=rule_where, key=key))
                void = rule_raw.get("void") is True
                per = None
                if void:
                    if rule_raw.get("per") not in (None, 0):
                        r.problems.append(M_("%(where)s：设为 void（该项得0分）时不能再设每次扣分(per)", where=rule_where))
                elif rule_raw.get("per") is None:
                    r.problems.append(M_("%(where)s：须设每次扣分(per)大于0，或设为 void", where=rule_where))
                else:
                    per = r.points(rule_raw, "per", rule_where)
                indicator.rules.append(RuleData(rule_code, r.text(rule_raw, "text", rule_where), per, void))
            category.indicators.append(indicator)
        ind_sum = sum((i.points for i in category.indicators), Decimal(0))
        if category.points and ind_sum != category.points:
            r.problems.append(M_("%(where)s：二级指标分值合计%(sum)s，与一级指标分值%(points)s不符", where=cat_where,
                                 sum=ind_sum, points=category.points))
        catalogue.categories.append(category)
    cat_sum = sum((c.points for c in catalogue.categories), Decimal(0))
    if total and cat_sum != total:
        r.problems.append(M_("%(where)s：一级指标分值合计%(sum)s，与总分%(total)s不符", where=where, sum=cat_sum,
                             total=total))

    for item in r.dicts(data, "bonus", where, "bonus"):
        item_code = r.text(item, "code", _within(where, "bonus"))
        item_where = _place("bonus", item_code)
        unique(item_code, item_where)
        catalogue.bonus.append(ItemData(item_code, r.text(item, "text", item_where),
                                        r.points(item, "points", item_where)))
    for item in r.dicts(data, "veto", where, "veto"):
        item_code = r.text(item, "code", _within(where, "veto"))
        item_where = _place("veto", item_code)
        unique(item_code, item_where)
        catalogue.veto.append(ItemData(item_code, r.text(item, "text", item_where)))

    if r.problems:
        raise CatalogueInvalid(r.problems)
    return catalogue
