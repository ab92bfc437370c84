"""Catalogues in and out: the YAML form of the default catalogue, and an xlsx with one row per deduction rule."""
import io
from decimal import Decimal

import yaml
from sqlalchemy import exists, select

from ..domain.catalogue import CatalogueData, CatalogueInvalid, validate_catalogue
from ..extensions import db
from ..models import CatalogueVersion, Round, User
from . import audit, lineage
from .catalogues import create_version, load_tree
from .errors import _l
from .imports import ImportProblems, read_sheet
from .xlsx import finish, new_workbook, paper_fonts, read_text, text_lines, write_cell

RULE_HEADERS = ["一级指标编码", "一级指标名称", "一级指标分值", "二级指标编码", "二级指标名称", "二级指标分值", "评估方式",
                "佐证材料", "扣分项编码", "扣分项内容", "每次扣分", "该项不得分"]
META_KEYS = {"体系编码": "code", "层级": "level", "名称": "name", "总分": "total", "加分上限": "bonus_cap"}
# Column widths (Arial-11 digits) per sheet, so that every header shows whole (in two lines) and the texts wrap in
# their columns; each sheet prints on A4 as wide as the page (issue 30, point 4: default widths clipped every header).
SHEET_WIDTHS = {"指标": [7, 12, 7, 7, 26, 7, 14, 20, 9, 30, 7, 8], "体系": [14, 50], "加分项": [8, 70, 8],
                "否决项": [8, 80]}
LEVEL_WORDS = {"township": "镇(街道)", "village": "村(社区)", "镇(街道)": "township", "村(社区)": "village"}


def is_frozen(version: CatalogueVersion) -> bool:
    """A version used by a round is frozen: changes make a new version."""
    return db.session.scalar(select(exists().where(
        (Round.township_catalogue_id == version.id) | (Round.village_catalogue_id == version.id))))


def to_plain(version: CatalogueVersion) -> dict:
    """The YAML form of a stored catalogue (what validate_catalogue reads)."""
    cat = load_tree(version.id)
    num = lambda d: int(d) if d == int(d) else float(d)  # noqa: E731  (YAML prints 0.5, 3)
    return {
        "code": cat.code, "level": cat.level, "name": cat.name, "total": num(cat.total), "bonus_cap": num(cat.bonus_cap),
        "categories": [{"code": c.code, "name": c.name, "points": num(c.points), "indicators": [{
            "code": i.code, "title": i.title, "points": num(i.points), "methods": i.method_list,
            "evidence": i.evidence, "deductions": [
                {"code": r.code, "text": r.text, "void": True} if r.void else
                {"code": r.code, "text": r.text, "per": num(r.per)} for r in i.rules]} for i in c.indicators]}
            for c in cat.categories],
        "bonus": [{"code": b.code, "text": b.text, "points": num(b.points)} for b in cat.bonus_items],
        "veto": [{"code": v.code, "text": v.text} for v in cat.veto_items],
    }


def _store(datas: list[CatalogueData], user: User, source: str, address: str | None) -> list[CatalogueVersion]:
    try:
        versions = [create_version(d) for d in datas]
        for v in versions:
            before = lineage.previous_version(v)
            if before is not None:  # a new version of a catalogue already here: its lineage to the one before
                lineage.start(v, before)
            audit.record("catalogue.import", user=user, address=address, obj=v,
                         new={"code": v.code, "version": v.version, "source": source})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return versions


def import_yaml(text: str, user: User, *, address: str | None = None) -> list[CatalogueVersion]:
    """One or more catalogues (`catalogues:` list, or a single catalogue); each becomes a new version."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportProblems([_l("YAML格式有误：%(detail)s", detail=str(exc).splitlines()[0])]) from None
    raw = data.get("catalogues") if isinstance(data, dict) and "catalogues" in data else [data]
    if not isinstance(raw, list) or not raw:
        raise ImportProblems([_l("没有找到指标体系")])
    datas, problems = [], []
    for item in raw:
        try:
            datas.append(validate_catalogue(item))
        except CatalogueInvalid as exc:
            problems += exc.problems
    if problems:
        raise ImportProblems(problems)
    return _store(datas, user, "yaml", address)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(ws, min_row: int):
    """A worksheet's rows as text the way Excel shows it (read_sheet does the same for the first sheet)."""
    for values in ws.iter_rows(min_row=min_row, values_only=True):
        yield tuple(read_text(v) for v in values)


def import_xlsx(data: bytes, user: User, *, address: str | None = None) -> CatalogueVersion:
    """An xlsx in the template's shape: sheet 1 one row per deduction rule; sheets 体系, 加分项, 否决项."""
    rows = read_sheet(data, RULE_HEADERS)
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), data_only=True)
    problems = []
    meta = {}
    if "体系" not in wb.sheetnames:
        problems.append(_l("缺少工作表“体系”（体系编码、层级、名称、总分、加分上限）"))
    else:
        for key, value, *_ in _rows(wb["体系"], 1):
            if _cell(key) in META_KEYS:
                meta[META_KEYS[_cell(key)]] = _cell(value)
    meta["level"] = LEVEL_WORDS.get(meta.get("level", ""), meta.get("level", ""))
    plain = {**meta, "categories": [], "bonus": [], "veto": []}
    cats: dict[str, dict] = {}
    inds: dict[str, dict] = {}
    for n, r in rows:
        c_code, i_code = _cell(r["一级指标编码"]), _cell(r["二级指标编码"])
        if not c_code or not i_code:
            problems.append(_l("第%(row)s行：%(problem)s", row=n, problem=_l("缺少一级或二级指标编码")))
            continue
        if c_code not in cats:
            cats[c_code] = {"code": c_code, "name": _cell(r["一级指标名称"]), "points": _cell(r["一级指标分值"]),
                            "indicators": []}
            plain["categories"].append(cats[c_code])
        if i_code not in inds:
            inds[i_code] = {"code": i_code, "title": _cell(r["二级指标名称"]), "points": _cell(r["二级指标分值"]),
                            "methods": _cell(r["评估方式"]), "evidence": _cell(r["佐证材料"]), "deductions": []}
            cats[c_code]["indicators"].append(inds[i_code])
        if _cell(r["扣分项编码"]):
            void = _cell(r["该项不得分"]) in ("是", "Y", "y", "yes", "1")
            rule = {"code": _cell(r["扣分项编码"]), "text": _cell(r["扣分项内容"])}
            if void:
                rule["void"] = True
            elif _cell(r["每次扣分"]):
                rule["per"] = _cell(r["每次扣分"])
            inds[i_code]["deductions"].append(rule)
    for sheet, key, with_points in (("加分项", "bonus", True), ("否决项", "veto", False)):
        if sheet in wb.sheetnames:
            for values in _rows(wb[sheet], 2):
                if values and _cell(values[0]):
                    item = {"code": _cell(values[0]), "text": _cell(values[1] if len(values) > 1 else "")}
                    if with_points:
                        item["points"] = _cell(values[2] if len(values) > 2 else "")
                    plain[key].append(item)
    wb.close()
    try:
        catalogue = validate_catalogue(plain)
    except CatalogueInvalid as exc:
        problems += exc.problems
    if problems:
        raise ImportProblems(problems)
    return _store([catalogue], user, "xlsx", address)[0]


def catalogue_workbook(version: CatalogueVersion | None) -> io.BytesIO:
    """The xlsx form of a catalogue (or the empty template when version is None); texts as string cells."""
    if version is None:
        meta = [[k, {"层级": "村(社区)", "总分": 100, "加分上限": 3}.get(k, "")] for k in META_KEYS]
        rules = [["A", "组织领导", 20, "A1", "示例指标", 20, "查阅资料", "会议记录", "A1-1", "示例扣分项", 1, "否"]]
        bonus, veto = [], []
    else:
        cat = load_tree(version.id)
        meta = [[k, LEVEL_WORDS.get(cat.level, cat.level) if attr == "level" else getattr(cat, attr)]
                for k, attr in META_KEYS.items()]
        rules = []
        for c in cat.categories:
            for i in c.indicators:
                base = [c.code, c.name, c.points, i.code, i.title, i.points, "、".join(i.method_list), i.evidence]
                for r in i.rules or [None]:
                    rules.append(base + ([r.code, r.text, None if r.void else r.per, "是" if r.void else "否"]
                                         if r else ["", "", None, ""]))
        bonus = [[b.code, b.text, b.points] for b in cat.bonus_items]
        veto = [[v.code, v.text] for v in cat.veto_items]
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    paper_fonts(wb)
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "vcenter",
                          "align": "center"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    number = wb.add_format({"border": 1, "valign": "top", "align": "right", "indent": 1})  # padded from the text
    name = "空白模板" if version is None else f"{version.name} 第{version.version}版（{version.code}）"
    # a worksheet is written top to bottom (constant memory), one after the other
    for title, head, rows in (("指标", RULE_HEADERS, rules), ("体系", None, meta), ("加分项", ["编码", "内容", "分值"], bonus),
                              ("否决项", ["编码", "内容"], veto)):
        ws = wb.add_worksheet(title)
        widths = SHEET_WIDTHS[title]
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.set_paper(9)  # A4
        if len(widths) > 3:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L评估验收指标体系 · {title}&R{name.replace('&', '&&')}")
        ws.set_footer("&C第 &P 页，共 &N 页")
        n = 0
        if head:
            ws.repeat_rows(0)
            ws.set_row(0, 30)
            for col, value in enumerate(head):
                write_cell(ws, 0, col, value, bold)
            n = 1
        for values in rows:  # an office suite does not grow a row to its wrapped text by itself: set its height
            lines = max(text_lines(str(v), widths[c] - 1) if isinstance(v, str) else 1 for c, v in enumerate(values))
            if lines > 1:
                ws.set_row(n, 15 * lines)
            for col, value in enumerate(values):
                write_cell(ws, n, col, value, number if isinstance(value, (int, float, Decimal)) else cell)
            n += 1
    return finish(wb, buffer)


def clone(version: CatalogueVersion, user: User, *, address: str | None = None) -> CatalogueVersion:
    """A new (draft) version with the same content."""
    new = create_version(validate_catalogue(to_plain(version)))
    lineage.start(new, version)  # every indicator "same" until the copy is edited and the admin confirms
    audit.record("catalogue.clone", user=user, address=address, obj=new,
                 old={"from": f"{version.code} v{version.version}"},
                 new={"code": new.code, "version": new.version})
    db.session.commit()
    return new


def replace_draft(version: CatalogueVersion, text: str, user: User, *,
                  address: str | None = None) -> CatalogueVersion:
    """Edit a draft: its YAML form, checked whole; a frozen version is refused."""
    if is_frozen(version):
        raise ImportProblems([_l("该版本已被批次使用，不能修改；请先“复制为新版本”")])
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportProblems([_l("YAML格式有误：%(detail)s", detail=str(exc).splitlines()[0])]) from None
    try:
        data = validate_catalogue(raw)
    except CatalogueInvalid as exc:
        raise ImportProblems(exc.problems) from None
    if data.code != version.code:
        raise ImportProblems([_l("编码须保持为“%(code)s”", code=version.code)])
    try:
        number, old_id = version.version, version.id
        predecessor, links = lineage.kept_for_draft(version)
        new = create_version(data)  # (numbered after the last for now: the draft still holds its number)
        lineage.carry(old_id, new, predecessor, links)  # before the draft goes: what follows it follows the edit
        db.session.delete(version)
        db.session.flush()
        new.version = number
        audit.record("catalogue.edit", user=user, address=address, obj=new, new={"code": new.code, "version": number})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return new
